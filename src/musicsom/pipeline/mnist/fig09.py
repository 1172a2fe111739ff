"""Stage (Fig 9): step-direction cosines along the "0" → "1" MUSIC trajectory, BMU changes marked.

    python -m musicsom.pipeline.mnist.fig09 --trajectory results/mnist/seed0/transition.npz \
        --figure results/figures/fig09_mnist_cosines.png

cos(δ_t, δ_{t−1}) (continuity) and cos(δ_t, δ_1) (drift from the first direction) per step t; grey
lines at the steps where the BMU changes. Steps of (numerically) zero length have no direction and
are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.metrics import cosines_to_first, step_cosines
from musicsom.pipeline import files


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--trajectory", required=True, help="the 0 -> 1 demonstration of mnist.transition (.npz)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    plt = files.setup_matplotlib()
    t = files.load_npz(a.trajectory, required=("music_states", "music_bmus"))
    S, b = t["music_states"], t["music_bmus"]
    T = S.shape[0] - 1
    steps = np.arange(1, T + 1)
    c_prev = np.concatenate([[np.nan], step_cosines(S)])
    c_first = cosines_to_first(S)
    change = (b[1:] != b[:-1]).astype(int)
    norms = np.linalg.norm(np.diff(S, axis=0), axis=1)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for s in steps[change == 1]:
        ax.axvline(s, color="0.8", lw=0.6, zorder=0)
    ax.plot(steps, c_prev, label="cos(δ_t, δ_{t−1})", color="C0")
    ax.plot(steps, c_first, label="cos(δ_t, δ_1)", color="C3")
    ax.set_ylabel("cosine")
    ax.set_ylim(min(-0.05, np.nanmin(c_first) - 0.05), 1.05)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"MUSIC '{int(t['source'])}' → '{int(t['target'])}': step directions; grey lines: BMU changes ({change.sum()})")
    ax2.plot(steps, norms, color="k", lw=1)
    # from zero: a step norm pinned at the trust radius reads as a flat line, not as round-off ticks
    ax2.set_ylim(0, 1.15 * float(np.nanmax(norms)) if len(norms) and np.nanmax(norms) > 0 else 1.0)
    ax2.set_ylabel("||δ_t||")
    ax2.set_xlabel("step t")
    fig.tight_layout()
    data = pd.DataFrame({"step": steps, "cos_prev": c_prev, "cos_first": c_first, "bmu": b[1:], "bmu_changed": change, "step_norm": norms})
    files.save_figure(fig, a.figure, data)


if __name__ == "__main__":
    files.run_main(main)

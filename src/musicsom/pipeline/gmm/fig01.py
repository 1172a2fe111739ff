"""Stage (Fig 1): inversion error under activation noise against the Corollary 1 bound ``||e|| / σ_min(A)``.

    python -m musicsom.pipeline.gmm.fig01 --data data.npz --som som.npz --inversion '{"noise_points": 200,
        "noise_levels": [1e-6, 1e-4, 1e-2, 1], "noise_m_values": [11, 15, 30, 300], ...}' --seed 0 \
        --figure results/figures/fig01_noise_bound.png --summary noise.json

Each point is one (test input, prototype subset, noise draw). The bound must hold for every point;
the summary records the share that respects it and how tight it is (median error / bound).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require
from musicsom.experiments.gmm import noise_stability


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_section(p, "inversion", "gmm.inversion", "the inversion checks (this stage reads noise_points, noise_levels, noise_m_values)")
    p.add_argument("--seed", type=int, required=True, help="seed of the noise draws (the first of the config's seeds)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    a = p.parse_args(argv)
    inv = require(a.inversion, "gmm.inversion", ("noise_points", "noise_levels", "noise_m_values"))
    X = files.load_npz(a.data, required=("x_test",))["x_test"][: inv["noise_points"]]
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    D = X.shape[1]
    m_values = sorted({min(m, W.shape[0]) for m in inv["noise_m_values"]})
    if m_values[0] < D + 1:
        raise files.InputError(f"gmm.inversion.noise_m_values must all be >= D + 1 = {D + 1} (the bound needs full rank); got {inv['noise_m_values']}")
    res = pd.DataFrame(noise_stability(X, W, m_values, inv["noise_levels"], np.random.default_rng(a.seed)))
    res["ratio"] = res["error"] / res["bound"]

    plt = files.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    ax = axes[0]
    for m, g in res.groupby("m"):
        ax.loglog(g["bound"], g["error"], ".", ms=2, alpha=0.5, label=f"m = {m}")
    lo, hi = res["bound"].min(), res["bound"].max()
    ax.loglog([lo, hi], [lo, hi], "k-", lw=1, label="bound $\\|e\\|/\\sigma_{min}$")
    ax.set_xlabel("Corollary 1 bound $\\|e\\| / \\sigma_{min}(A)$")
    ax.set_ylabel("error $\\|\\hat x - x\\|$")
    ax.legend(fontsize=7, markerscale=4)
    ax = axes[1]
    med = res.groupby(["m", "noise_std"])["error"].median().unstack(0)
    for m in med.columns:
        sig = res.loc[res["m"] == m, "sigma_min"].median()
        ax.loglog(med.index, med[m], "o-", ms=3, label=f"m = {m}, median σ_min = {sig:.2g}")
    ax.set_xlabel("activation noise std")
    ax.set_ylabel("median error")
    ax.legend(fontsize=7)
    fig.suptitle("Reconstruction error under activation noise stays below $\\|e\\|/\\sigma_{min}(A)$")
    files.save_figure(fig, a.figure, res)

    files.save_json(
        a.summary,
        {
            "n_cases": int(len(res)),
            "share_within_bound": float(np.mean(res["error"] <= res["bound"] * (1 + 1e-9) + 1e-15)),
            "median_ratio": float(res["ratio"].median()),
            "max_ratio": float(res["ratio"].max()),
            "spearman_error_vs_bound": float(res[["error", "bound"]].corr(method="spearman").iloc[0, 1]),
        },
    )


if __name__ == "__main__":
    files.run_main(main)

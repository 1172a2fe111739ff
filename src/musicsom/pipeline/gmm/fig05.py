"""Stage (Fig 5): median inversion error over test points vs the number of prototypes m (BMU anchor + m−1 nearest).

    python -m musicsom.pipeline.gmm.fig05 --data data.npz --som som.npz --inversion '{"n_points": 1500, "m_max_factor": 3, ...}' \
        --figure results/figures/fig05_inversion_vs_m.png --summary inversion.json --errors inversion_errors.npz

The error must fall to round-off at m = D + 1 (Proposition 1); the summary records the largest
median error for m ≥ D + 1 and the smallest for m ≤ D; ``--errors`` keeps every point's error at every
m (claim 1 bootstraps over the points).
"""

from __future__ import annotations

import pandas as pd

from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require
from musicsom.experiments.gmm import inversion_error_vs_m


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_section(p, "inversion", "gmm.inversion", "the inversion checks (this stage reads n_points and m_max_factor: m runs from 2 to m_max_factor × D)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    p.add_argument("--errors", required=True, help=".npz: errors (points, m values) and m_values")
    a = p.parse_args(argv)
    inv = require(a.inversion, "gmm.inversion", ("n_points", "m_max_factor"))
    data = files.load_npz(a.data, required=("x_test",))
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    X = data["x_test"][: inv["n_points"]]
    D = X.shape[1]
    m_max = min(inv["m_max_factor"] * D, W.shape[0])
    summary, errors = inversion_error_vs_m(X, W, range(2, m_max + 1), return_errors=True)
    res = pd.DataFrame(summary)
    res["dim"] = D

    plt = files.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.fill_between(res["m"], res["q25"], res["q75"], alpha=0.25, label="IQR")
    ax.semilogy(res["m"], res["median_error"], "o-", ms=3, label="median $\\|\\hat x - x\\|$")
    ax.axvline(D + 1, color="k", ls="--", lw=1, label=f"m = D + 1 = {D + 1}")
    ax.set_xlabel("number of prototypes m (BMU anchor + m − 1 nearest)")
    ax.set_ylabel("reconstruction error")
    ax.set_title(f"Exact inversion needs D + 1 prototypes ({len(X)} test points, D = {D})")
    ax.legend(fontsize=8)
    files.save_figure(fig, a.figure, res)

    full = res[res["m"] >= D + 1]
    deficient = res[res["m"] <= D]
    files.save_json(
        a.summary,
        {
            "dim": D,
            "n_points": int(len(X)),
            "max_median_error_full_rank": float(full["median_error"].max()),
            "min_median_error_rank_deficient": float(deficient["median_error"].min()),
            "max_error_full_rank": float(full["max_error"].max()),
        },
    )
    files.save_npz(a.errors, errors=errors, m_values=res["m"].to_numpy(), dim=D)


if __name__ == "__main__":
    files.run_main(main)

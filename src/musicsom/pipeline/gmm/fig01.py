"""Stage (Fig 1): inversion error under activation noise against the Corollary 1 bound ``||e|| / σ_min(A)``.

    python -m musicsom.pipeline.gmm.fig01 --data data.npz --som som.npz --n-points 200 \
        --noise-levels 1e-6 1e-4 1e-2 1 --m-values 11 15 30 300 --seed 0 \
        --figure results/figures/fig01_noise_bound.png --summary noise.json

Each point is one (test input, prototype subset, noise draw). The bound must hold for every point;
the summary records the share that respects it and how tight it is (median error / bound).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.pipeline import _io
from musicsom.experiments.gmm import noise_stability


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--som", required=True)
    p.add_argument("--n-points", type=int, default=200)
    p.add_argument("--noise-levels", type=float, nargs="+", required=True)
    p.add_argument("--m-values", type=int, nargs="+", required=True, help="prototype subset sizes (each >= D + 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", required=True)
    p.add_argument("--summary", required=True)
    a = p.parse_args(argv)
    X = _io.load_npz(a.data, required=("x_test",))["x_test"][: a.n_points]
    W = _io.load_npz(a.som, required=("prototypes",))["prototypes"]
    D = X.shape[1]
    m_values = sorted({min(m, W.shape[0]) for m in a.m_values})
    if m_values[0] < D + 1:
        raise _io.InputError(f"--m-values must all be >= D + 1 = {D + 1} (the bound needs full rank); got {a.m_values}")
    res = pd.DataFrame(noise_stability(X, W, m_values, a.noise_levels, np.random.default_rng(a.seed)))
    res["ratio"] = res["error"] / res["bound"]

    plt = _io.setup_matplotlib()
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
    _io.save_figure(fig, a.figure, res)

    _io.save_json(
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
    _io.run_main(main)

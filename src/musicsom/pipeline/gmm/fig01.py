"""Stage (Fig 1): inversion error under activation noise against the Corollary 1 bound ``||e|| / σ_min(A)``.

    python -m musicsom.pipeline.gmm.fig01 --cases results/gmm/seed0/noise_cases.csv \
        --figure results/figures/fig01_noise_bound.png

Draws one seed's cases of ``gmm.noise`` (the first seed's; every seed's go to claim 2). Each point is one
(test input, prototype subset, noise draw); the bound must hold for every point.
"""

from __future__ import annotations

from musicsom.pipeline import files

COLUMNS = ("point", "m", "noise_std", "sigma_min", "error", "bound", "ratio", "seed")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--cases", required=True, help="one seed's noise cases (gmm.noise, CSV)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    res = files.load_csv(a.cases)
    missing = [c for c in COLUMNS if c not in res.columns]
    if missing:
        raise files.InputError(f"{a.cases} lacks the columns {missing}: rerun the rule gmm_noise that writes it")

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
    fig.suptitle(f"Reconstruction error under activation noise stays below $\\|e\\|/\\sigma_{{min}}(A)$ (seed {int(res['seed'].iloc[0])})")
    files.save_figure(fig, a.figure, res)


if __name__ == "__main__":
    files.run_main(main)

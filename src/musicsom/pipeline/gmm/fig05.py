"""Stage (Fig 5): median inversion error over test points vs the number of prototypes m (BMU anchor + m−1 nearest).

    python -m musicsom.pipeline.gmm.fig05 --table results/gmm/seed0/inversion_vs_m.csv \
        --figure results/figures/fig05_inversion_vs_m.png

Draws one seed's table of ``gmm.inversion`` (the first seed's; every seed's errors go to claim 1): the median
and interquartile range of the error at each m, which must fall to round-off at m = D + 1 (Proposition 1).
"""

from __future__ import annotations

from musicsom.pipeline import files

COLUMNS = ("m", "median_error", "q25", "q75", "max_error", "dim", "n_points", "seed")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--table", required=True, help="one seed's error over points at each m (gmm.inversion, CSV)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    res = files.load_csv(a.table)
    missing = [c for c in COLUMNS if c not in res.columns]
    if missing:
        raise files.InputError(f"{a.table} lacks the columns {missing}: rerun the rule gmm_inversion that writes it")
    D, n_points, seed = int(res["dim"].iloc[0]), int(res["n_points"].iloc[0]), int(res["seed"].iloc[0])

    plt = files.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.fill_between(res["m"], res["q25"], res["q75"], alpha=0.25, label="IQR")
    ax.semilogy(res["m"], res["median_error"], "o-", ms=3, label="median $\\|\\hat x - x\\|$")
    ax.axvline(D + 1, color="k", ls="--", lw=1, label=f"m = D + 1 = {D + 1}")
    ax.set_xlabel("number of prototypes m (BMU anchor + m − 1 nearest)")
    ax.set_ylabel("reconstruction error")
    ax.set_title(f"Exact inversion needs D + 1 prototypes ({n_points} test points, D = {D}, seed {seed})")
    ax.legend(fontsize=8)
    files.save_figure(fig, a.figure, res)


if __name__ == "__main__":
    files.run_main(main)

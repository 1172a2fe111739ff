"""Stage (Figs 17-19): the metrics of one hyperparameter sweep on the "0" → "1" trajectory.

    python -m musicsom.pipeline.mnist.fig17_19 --sweep results/mnist/seed0/sweep_alpha.csv \
        --figure results/figures/fig17_sweep_alpha.png

Four panels against the swept value: mean classifier confidence (with its range in percentage
points), step continuity, geodesic efficiency and convergence ratio; the default value is marked.
"""

from __future__ import annotations

from musicsom.pipeline import files

SYMBOL = {"alpha": "α", "lam": "λ", "kappa": "κ"}
PANELS = [("mean_confidence", "mean confidence"), ("continuity", "step continuity"),
          ("geodesic_efficiency", "geodesic efficiency"), ("convergence_ratio", "convergence ratio (final / initial)")]


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--sweep", required=True, help="one sweep's CSV of mnist.sweep (its param column names the swept setting)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    plt = files.setup_matplotlib()
    rows = files.load_csv(a.sweep)
    param = str(rows["param"].iloc[0])
    # one point per value: the mean over the start images, with their range as a bar
    df = rows.groupby("value", as_index=False).agg(
        is_default=("is_default", "first"), n_starts=("start", "nunique"),
        **{f"{c}": (c, "mean") for c, _ in PANELS}, **{f"{c}_min": (c, "min") for c, _ in PANELS},
        **{f"{c}_max": (c, "max") for c, _ in PANELS}).sort_values("value")
    log_x = param in ("lam", "kappa")
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    for ax, (col, title) in zip(axes, PANELS):
        ax.errorbar(df["value"], df[col], yerr=[df[col] - df[f"{col}_min"], df[f"{col}_max"] - df[col]], fmt="o-",
                    color="C0", capsize=2, lw=1, label=f"mean over {int(df['n_starts'].max())} starts (bar: range)")
        d = df[df["is_default"]]
        if len(d):  # a sweep need not contain the default value
            ax.plot(d["value"], d[col], "s", color="C3", ms=8, mfc="none", label="default")
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(SYMBOL.get(param, param))
        t = title
        if col == "mean_confidence":
            t += f"\nrange {100 * (df[col].max() - df[col].min()):.2f} pp"
        ax.set_title(t, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Sweep of {SYMBOL.get(param, param)} on '0' → '1' MUSIC trajectories (seed {int(rows['seed'].iloc[0])})", fontsize=10)
    fig.tight_layout()
    files.save_figure(fig, a.figure, df.reset_index(drop=True))


if __name__ == "__main__":
    files.run_main(main)

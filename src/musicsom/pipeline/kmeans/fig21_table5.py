"""Stage (k-means control, table 5 and Fig 21): MUSIC on SOM prototypes vs on k-means prototypes.

    python -m musicsom.pipeline.kmeans.fig21_table5 --som-pairs results/mnist/seed*/pairs.csv \
        --kmeans-pairs results/kmeans/seed*/pairs.csv --table results/tables/table5_kmeans_vs_som.csv \
        --figure results/figures/fig21_kmeans_vs_som.png

Both arms run the same MNIST Table 2 trajectories (same pairs, start images, encoding, K and MUSIC
settings); only the prototypes differ. For each seed and pooled over seeds: two-sided Wilcoxon
signed-rank tests on the paired trajectories (SOM vs k-means), Holm-adjusted across the metrics,
and per-pair win counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.pipeline import files
from musicsom.experiments.claims.claim9 import KEYS, METRICS
from musicsom.pipeline.kmeans.arms import load_arm
from musicsom.stats import paired_comparison


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--som-pairs", nargs="+", required=True, help="the MNIST Table 2 trajectory CSVs of every seed (SOM prototypes)")
    p.add_argument("--kmeans-pairs", nargs="+", required=True, help="the same trajectories on k-means prototypes, every seed")
    p.add_argument("--table", required=True, help="Table 5 CSV to write (Markdown beside it)")
    p.add_argument("--figure", required=True, help="PNG of Fig 21 to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    frame = pd.concat([load_arm(a.som_pairs, "som"), load_arm(a.kmeans_pairs, "kmeans")], ignore_index=True)
    rows = []
    for seed, g in [*frame.groupby("seed"), ("pooled", frame)]:
        comp = paired_comparison(g, METRICS, "prototypes", "som", "kmeans", KEYS, group_col="pair")
        comp.insert(0, "seed", seed)
        rows.append(comp)
    table = pd.concat(rows, ignore_index=True)
    pooled = table[table["seed"] == "pooled"]
    show = pooled[["metric", "n", "median_som", "median_kmeans", "median_diff", "p_value", "p_holm", "significant", "n_groups", "groups_som_higher"]]
    notes = (
        "MUSIC trajectories of the MNIST Table 2 protocol on SOM prototypes vs k-means prototypes (same K, encoding, "
        "pairs, starts and MUSIC settings), pooled over seeds; two-sided Wilcoxon signed-rank on paired trajectories, "
        "Holm-adjusted across the metrics; groups_som_higher counts digit pairs whose SOM mean is higher. "
        "The CSV also holds each seed."
    )
    files.save_csv(a.table, table)
    with files.atomic_path(a.table.replace(".csv", ".md"), suffix=".md") as tmp:
        tmp.write_text("# Table 5: MUSIC on SOM vs k-means prototypes (MNIST)\n\n" + files.markdown_table(show) + "\n" + notes + "\n")

    plt = files.setup_matplotlib()
    fig, axes = plt.subplots(1, len(METRICS), figsize=(3 * len(METRICS), 3.4), layout="constrained")
    for ax, m in zip(axes, METRICS):
        data = [frame.loc[frame["prototypes"] == arm, m].dropna().to_numpy() for arm in ("som", "kmeans")]
        ax.boxplot(data, tick_labels=["SOM", "k-means"], showfliers=False)
        for i, d in enumerate(data):
            ax.plot(np.full(d.size, i + 1) + np.linspace(-0.15, 0.15, d.size), d, ".", ms=3, alpha=0.5)
        p_holm = float(pooled.loc[pooled["metric"] == m, "p_holm"].iloc[0])
        ax.set_title(f"{m.replace('_', ' ')}\nHolm p = {p_holm:.2g}", fontsize=9)
    fig.suptitle("MUSIC on SOM vs k-means prototypes: MNIST Table 2 trajectories, all seeds")
    files.save_figure(fig, a.figure, frame[KEYS + ["prototypes", *METRICS]])


if __name__ == "__main__":
    files.run_main(main)

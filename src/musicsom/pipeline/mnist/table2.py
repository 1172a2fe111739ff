"""Stage (Table 2): MUSIC vs linear and MUSIC vs VAE over the digit pairs, start images and seeds.

    python -m musicsom.pipeline.mnist.table2 --pairs results/mnist/seed*/pairs.csv \
        --trajectories results/tables/table2_mnist_trajectories.csv --table results/tables/table2_mnist.trajectoriess.csv

Per scope (each seed, and all seeds pooled) and comparison: for each metric the mean of both arms,
a two-sided Wilcoxon signed-rank test on the paired trajectories (same seed, pair and start image),
Holm-adjusted across the six metrics of that comparison, and the number of digit pairs on which
MUSIC's mean (over starts, and seeds when pooled) is higher. Every trajectory's row goes to the
trajectories CSV; the Markdown beside the table shows the pooled table first, then each seed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from musicsom.pipeline import files
from musicsom.experiments.mnist import PAIR_METRICS
from musicsom.stats import paired_comparison

log = logging.getLogger("musicsom.pipeline.mnist.table2")
KEYS = ["seed", "pair", "start"]
NAMES = {"music": "MUSIC", "linear": "Linear", "vae": "VAE"}


def compare(frame: pd.DataFrame) -> pd.DataFrame:
    """The long statistics table: one row per (scope, comparison, metric)."""
    metrics = list(PAIR_METRICS)
    scopes = [(f"seed {s}", frame[frame["seed"] == s]) for s in sorted(frame["seed"].unique())]
    if frame["seed"].nunique() > 1:
        scopes.append(("pooled", frame))
    out = []
    for scope, f in scopes:
        for other in [m for m in ("linear", "vae") if m in set(f["method"])]:
            res = paired_comparison(f, metrics, "method", "music", other, KEYS, group_col="pair")
            res = res.rename(columns=lambda c: c.replace(f"_{other}", "_other"))
            res.insert(0, "comparison", f"music_vs_{other}")
            res.insert(0, "scope", scope)
            for m in ("music", "linear", "vae"):
                if m in set(f["method"]):
                    sd = f[f["method"] == m][metrics].std()
                    res[f"sd_{m}"] = res["metric"].map(sd)
                    res[f"all_mean_{m}"] = res["metric"].map(f[f["method"] == m][metrics].mean())
            out.append(res)
    return pd.concat(out, ignore_index=True)


def markdown(stats: pd.DataFrame, frame: pd.DataFrame) -> str:
    """Paper-style tables: metric, mean ± sd per method, Holm p-value and pair wins per comparison."""
    parts = []
    methods = [m for m in ("music", "linear", "vae") if m in set(frame["method"])]
    scopes = list(dict.fromkeys(stats["scope"]))
    scopes = (["pooled"] if "pooled" in scopes else []) + [s for s in scopes if s != "pooled"]
    for scope in scopes:
        s = stats[stats["scope"] == scope]
        n_units = int(s["n"].max())
        rows = []
        for metric in PAIR_METRICS:
            r = {"Metric": metric.replace("_", " ")}
            first = s[s["metric"] == metric].iloc[0]
            for m in methods:
                r[NAMES[m]] = f"{first[f'all_mean_{m}']:.4g} ± {first[f'sd_{m}']:.2g}"
            for other in [m for m in methods if m != "music"]:
                c = s[(s["metric"] == metric) & (s["comparison"] == f"music_vs_{other}")].iloc[0]
                star = " *" if c["significant"] else ""
                r[f"p vs {NAMES[other]} (Holm)"] = f"{c['p_holm']:.2g}{star}"
                r[f"pairs MUSIC > {NAMES[other]}"] = f"{int(c['groups_music_higher'])}/{int(c['n_groups'])}"
            rows.append(r)
        parts.append(f"## {scope} ({n_units} paired trajectories per comparison)\n\n" + files.markdown_table(pd.DataFrame(rows)))
    return "\n".join(parts)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--pairs", nargs="+", required=True, help="per-pair trajectory CSVs of mnist.trajectories (every seed)")
    p.add_argument("--trajectories", required=True, help="CSV of every trajectory's row (all seeds) to write")
    p.add_argument("--table", required=True, help="Table 2 CSV to write (Markdown beside it)")
    a = p.parse_args(argv)
    frame = pd.concat([files.load_csv(f) for f in a.pairs], ignore_index=True).sort_values(["seed", "source", "start", "method"])
    stats = compare(frame)
    files.save_csv(a.trajectories, frame.reset_index(drop=True))
    notes = (
        "Mean ± standard deviation over trajectories. p: two-sided Wilcoxon signed-rank test on trajectories paired by "
        "(seed, digit pair, start image), Holm-adjusted across the six metrics of each comparison; * = p_holm < 0.05. "
        "'pairs MUSIC > X': digit pairs on which MUSIC's mean (over starts, and seeds when pooled) is higher. "
        "Confidence: max class probability of the latent-space MLP per frame; sharpness: variance of the discrete "
        "Laplacian of the decoded frame; manifold distance: mean distance (pixels in [0, 1]) of a frame to its k "
        "nearest training images; geodesic efficiency and continuity in each method's own space (straight paths give 1)."
    )
    md = "# Table 2: MUSIC vs linear and VAE interpolation across digit pairs (MNIST)\n\n" + markdown(stats, frame) + "\n" + notes + "\n"
    files.save_csv(a.table, stats)
    with files.atomic_path(Path(a.table).with_suffix(".md"), suffix=".md") as tmp:
        tmp.write_text(md)
    for _, r in stats[stats["scope"] == stats["scope"].iloc[-1]].iterrows():
        log.info("%s %s: %s p_holm %.3g, pairs music higher %s/%s", r["scope"], r["comparison"], r["metric"], r["p_holm"],
                 r.get("groups_music_higher"), r.get("n_groups"))


if __name__ == "__main__":
    files.run_main(main)

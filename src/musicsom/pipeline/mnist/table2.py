"""Stage (Table 2): MUSIC vs every baseline arm over the digit pairs, start images and seeds.

    python -m musicsom.pipeline.mnist.table2 --pairs results/mnist/seed*/pairs.csv \
        --trajectories results/tables/table2_mnist_trajectories.csv --table results/tables/table2_mnist_pairs.csv

Arms (:data:`musicsom.experiments.mnist.METHODS`, those the trajectory CSVs hold): MUSIC, linear, the kNN path
(PCA decoder), the VAE line and VAE slerp (VAE decoder). Per scope (each seed, and all seeds pooled) and
comparison MUSIC vs arm: for each metric the mean of both arms, a two-sided Wilcoxon signed-rank test on the
paired trajectories (same seed, pair and start image), Holm-adjusted across the six metrics of that
comparison (family ``table2``), and the number of digit pairs on which MUSIC's mean (over starts, and seeds
when pooled) is higher. ``music_rank``: MUSIC's place among the arms' means on that metric (1 = best, in the
metric's better direction; ties share the better place) out of ``n_arms``.

Same decoder (family ``same_decoder``, when the CSVs have the ``<metric>_pca`` / ``<metric>_vae`` columns):
sharpness, manifold distance and mean confidence of every arm's frames through the PCA decoder and through
the VAE round trip, tested the same way (Holm across these six). They separate path from decoder: e.g.
MUSIC's frames VAE-decoded against the VAE arm's own frames.

Every trajectory's row goes to the trajectories CSV; the Markdown beside the table shows, pooled first, then
per seed: the arms' means with MUSIC's rank, the comparisons, and the same-decoder means.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from musicsom.experiments.mnist import ARM_NAMES, DECODER_METRICS, DECODERS, METHODS, PAIR_METRICS
from musicsom.pipeline import files
from musicsom.stats import paired_comparison

log = logging.getLogger("musicsom.pipeline.mnist.table2")
KEYS = ["seed", "pair", "start"]
DECODER_NAMES = {"pca": "PCA decoder", "vae": "VAE round trip"}
#: the same-decoder metric columns with their better direction: sharpness_pca, ..., mean_confidence_vae
SAME_DECODER = {f"{k}_{d}": better for d in DECODERS for k, better in DECODER_METRICS.items()}


def arms_of(frame: pd.DataFrame) -> list[str]:
    """The arms present, MUSIC first, in the order of METHODS (unknown ones after)."""
    present = list(dict.fromkeys(frame["method"]))
    if "music" not in present:
        raise files.InputError("the trajectory CSVs hold no MUSIC rows; Table 2 compares every arm with MUSIC")
    return [m for m in METHODS if m in present] + [m for m in present if m not in METHODS]


def music_rank(means: pd.Series, better: str) -> float:
    """MUSIC's place among the arms' means (1 = best; ties share the better place); NaN if MUSIC's mean is NaN."""
    mu = means.get("music", np.nan)
    if not np.isfinite(mu):
        return float("nan")
    others = means.drop("music").dropna()
    beats = (others > mu) if better == "higher" else (others < mu)
    return float(1 + int(beats.sum()))


def compare(frame: pd.DataFrame) -> pd.DataFrame:
    """The long statistics table: one row per (scope, family, comparison, metric)."""
    arms = arms_of(frame)
    families = [("table2", PAIR_METRICS)]
    if all(c in frame for c in SAME_DECODER):
        families.append(("same_decoder", SAME_DECODER))
    scopes = [(f"seed {s}", frame[frame["seed"] == s]) for s in sorted(frame["seed"].unique())]
    if frame["seed"].nunique() > 1:
        scopes.append(("pooled", frame))
    out = []
    for scope, f in scopes:
        here = [m for m in arms if m in set(f["method"])]
        for family, metrics in families:
            means = f.groupby("method")[list(metrics)].mean().reindex(here)
            sds = f.groupby("method")[list(metrics)].std().reindex(here)
            for other in [m for m in here if m != "music"]:
                res = paired_comparison(f, list(metrics), "method", "music", other, KEYS, group_col="pair")
                res = res.rename(columns=lambda c: c.replace(f"_{other}", "_other") if c != "metric" else c)
                res.insert(0, "comparison", f"music_vs_{other}")
                res.insert(0, "family", family)
                res.insert(0, "scope", scope)
                res["better"] = res["metric"].map(metrics)
                res["music_rank"] = [music_rank(means[m], metrics[m]) for m in res["metric"]]
                res["n_arms"] = [int(means[m].notna().sum()) for m in res["metric"]]
                for m in here:
                    res[f"sd_{m}"] = res["metric"].map(sds.loc[m])
                    res[f"all_mean_{m}"] = res["metric"].map(means.loc[m])
                out.append(res)
    return pd.concat(out, ignore_index=True)


def _cell(mean: float, sd: float) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.4g} ± {sd:.2g}" if np.isfinite(sd) else f"{mean:.4g}"  # one seed: no spread to show


def _rank(r) -> str:
    return "n/a" if not np.isfinite(r["music_rank"]) else f"{int(r['music_rank'])}/{int(r['n_arms'])}"


def markdown(stats: pd.DataFrame, frame: pd.DataFrame) -> str:
    """Per scope: the arms' means ± sd with MUSIC's rank; MUSIC vs each arm (Holm p-value, pairs where MUSIC is
    higher); the same-decoder means with MUSIC's rank."""
    parts = []
    scopes = list(dict.fromkeys(stats["scope"]))
    scopes = (["pooled"] if "pooled" in scopes else []) + [s for s in scopes if s != "pooled"]
    for scope in scopes:
        s = stats[stats["scope"] == scope]
        arms = [m for m in arms_of(frame) if f"all_mean_{m}" in s and s[f"all_mean_{m}"].notna().any()]
        others = [m for m in arms if m != "music"]
        n_units = int(s.loc[s["family"] == "table2", "n"].max())
        first = s.drop_duplicates(["family", "metric"]).set_index(["family", "metric"])
        means = []
        for metric, better in PAIR_METRICS.items():
            r = first.loc[("table2", metric)]
            means.append({"Metric": metric.replace("_", " "), "better": better,
                          **{ARM_NAMES.get(m, m): _cell(r[f"all_mean_{m}"], r[f"sd_{m}"]) for m in arms}, "MUSIC rank": _rank(r)})
        tests = []
        for family, metrics in (("table2", PAIR_METRICS), ("same_decoder", SAME_DECODER)):
            for metric in metrics:
                if (family, metric) not in first.index:
                    continue
                row = {"Metric": _metric_name(metric)}
                for other in others:
                    c = s[(s["family"] == family) & (s["metric"] == metric) & (s["comparison"] == f"music_vs_{other}")]
                    if c.empty:
                        row[f"vs {ARM_NAMES.get(other, other)}"] = "n/a"
                        continue
                    c = c.iloc[0]
                    star = " *" if c["significant"] else ""
                    row[f"vs {ARM_NAMES.get(other, other)}"] = f"{c['p_holm']:.2g}{star} ({int(c['groups_music_higher'])}/{int(c['n_groups'])})"
                tests.append(row)
        block = [f"## {scope} ({n_units} paired trajectories per comparison)", "",
                 "Means ± sd over trajectories; MUSIC rank among the arms (1 = best in the 'better' direction):", "",
                 files.markdown_table(pd.DataFrame(means)), "",
                 "MUSIC vs each arm: Holm-adjusted Wilcoxon p (* < 0.05) and (digit pairs where MUSIC's mean is higher / pairs):", "",
                 files.markdown_table(pd.DataFrame(tests))]
        if any(fam == "same_decoder" for fam, _ in first.index):
            same = []
            for metric, better in SAME_DECODER.items():
                r = first.loc[("same_decoder", metric)]
                same.append({"Metric": _metric_name(metric), "better": better,
                             **{ARM_NAMES.get(m, m): _cell(r[f"all_mean_{m}"], r[f"sd_{m}"]) for m in arms}, "MUSIC rank": _rank(r)})
            block += ["", "Same decoder: every arm's frames through the PCA decoder, then through the VAE round trip "
                      "(an arm's own decoder repeats its plain value):", "", files.markdown_table(pd.DataFrame(same))]
        parts.append("\n".join(block) + "\n")
    return "\n".join(parts)


# set-level metrics (mnist.trajectories --distribution): the direction in which each is better
DISTRIBUTION_BETTER = {"fd": "lower", "kd": "lower", "precision": "higher", "recall": "higher", "density": "higher",
                       "coverage": "higher"}
DISTRIBUTION_NAMES = {"fd": "Fréchet distance", "kd": "kernel distance", "precision": "precision",
                      "recall": "recall", "density": "density", "coverage": "coverage"}


def distribution_table(dist: pd.DataFrame) -> pd.DataFrame:
    """Per set (arm, arm under the other decoder, the real floor): mean and sd over seeds of each set-level metric,
    and for the five arms under their own decoders MUSIC's rank on each metric (1 = best)."""
    metrics = list(DISTRIBUTION_BETTER)
    g = dist.groupby("arm")
    mean, sd = g[metrics].mean(), g[metrics].std(ddof=1)
    out = mean.add_prefix("mean_").join(sd.add_prefix("sd_"))
    out["n_seeds"] = g["seed"].nunique()
    out["n_fake"] = g["n_fake"].min()
    out["n_real"] = g["n_real"].min()
    arms = [m for m in ARM_NAMES if m in out.index]
    for m in metrics:
        values = out.loc[arms, f"mean_{m}"]
        ranks = values.rank(ascending=DISTRIBUTION_BETTER[m] == "lower", method="min")
        out[f"music_rank_{m}"] = ranks.get("music", float("nan")) if "music" in arms else float("nan")
    order = ["real_train"] + arms + sorted(i for i in out.index if i not in arms and i != "real_train")
    return out.loc[[i for i in order if i in out.index]].reset_index()


def distribution_markdown(table: pd.DataFrame) -> str:
    """The set-level table as Markdown: one row per set, mean ± sd over seeds, the floor first."""
    rows = []
    for _, r in table.iterrows():
        arm, _, dec = str(r["arm"]).partition("@")
        name = "real training images (floor)" if arm == "real_train" else ARM_NAMES.get(arm, arm) + (
            {"pca": " (PCA decoder)", "vae": " (VAE round trip)"}.get(dec, f" ({dec})") if dec else "")
        row = {"set": name}
        for m, label in DISTRIBUTION_NAMES.items():
            row[label] = _cell(r[f"mean_{m}"], r[f"sd_{m}"])
        rows.append(row)
    ranks = {DISTRIBUTION_NAMES[m]: table[f"music_rank_{m}"].iloc[0] for m in DISTRIBUTION_BETTER}
    n_arms = int(sum(a in ARM_NAMES for a in table["arm"]))
    return ("\n".join([
        "## Set-level metrics (LeNet features, each seed's own LeNet)", "",
        f"Every arm's intermediate frames as one set per seed ({int(table['n_fake'].min())} frames) against as many "
        "held-out real test images; mean ± sd over seeds. Lower Fréchet and kernel distance and higher precision, "
        "recall, density and coverage are better. The floor: real training images against the same test images, at "
        "the same sizes (the Fréchet distance is biased upward by small sets, so only equal sizes compare).", "",
        files.markdown_table(pd.DataFrame(rows)), "",
        "MUSIC's rank among the " + str(n_arms) + " arms (own decoders; 1 = best): "
        + ", ".join(f"{k} {int(v)}" for k, v in ranks.items() if v == v) + ".",
    ]) + "\n")


def _metric_name(metric: str) -> str:
    for d in DECODERS:
        if metric.endswith(f"_{d}"):
            return f"{metric[: -len(d) - 1].replace('_', ' ')} ({DECODER_NAMES[d]})"
    return metric.replace("_", " ")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--pairs", nargs="+", required=True, help="per-pair trajectory CSVs of mnist.trajectories (every seed)")
    p.add_argument("--trajectories", required=True, help="CSV of every trajectory's row (all seeds) to write")
    p.add_argument("--table", required=True, help="Table 2 CSV to write (Markdown beside it)")
    p.add_argument("--distribution", nargs="*", default=[], help="set-level metrics of mnist.trajectories (every seed)")
    p.add_argument("--distribution-table", help="CSV of the set-level table to write (Markdown beside it)")
    a = p.parse_args(argv)
    if bool(a.distribution) != bool(a.distribution_table):
        raise files.InputError("--distribution and --distribution-table go together")
    frame = pd.concat([files.load_csv(f) for f in a.pairs], ignore_index=True).sort_values(["seed", "source", "start", "method"])
    stats = compare(frame)
    files.save_csv(a.trajectories, frame.reset_index(drop=True))
    notes = (
        "Arms: MUSIC; linear = straight line to the same target prototype in the whitened PCA latent; kNN path = shortest "
        "path to it through a k-nearest-neighbour graph of training codes, resampled to the same number of frames equally "
        "spaced in arc length (PCA decoder); VAE = straight line between the VAE encodings of the start image and of the "
        "decoded target prototype; VAE slerp = the spherical interpolation between the same two codes (VAE decoder). "
        "p: two-sided Wilcoxon signed-rank test on trajectories paired by (seed, digit pair, start image), Holm-adjusted "
        "across the six metrics of each comparison (and separately across the six same-decoder metrics); * = p_holm < 0.05. "
        "Confidence: max class probability of the latent-space MLP per frame; sharpness: variance of the discrete "
        "Laplacian of the decoded frame; manifold distance: mean distance (pixels in [0, 1]) of a frame to its k "
        "nearest training images; geodesic efficiency and continuity in each arm's own space (straight paths give 1). "
        "Same decoder: PCA decoder = the frame projected on the PCA latent and decoded; VAE round trip = the VAE decoder "
        "of the frame's VAE posterior mean. Unreachable kNN paths (a disconnected graph) are left out of the means."
    )
    md = "# Table 2: MUSIC vs linear, kNN-path, VAE and VAE-slerp interpolation across digit pairs (MNIST)\n\n" + markdown(stats, frame) + "\n" + notes + "\n"
    if a.distribution:
        dist = distribution_table(pd.concat([files.load_csv(f) for f in a.distribution], ignore_index=True))
        dist_md = distribution_markdown(dist)
        md += "\n" + dist_md
        files.save_csv(a.distribution_table, dist)
        with files.atomic_path(Path(a.distribution_table).with_suffix(".md"), suffix=".md") as tmp:
            tmp.write_text("# Table 2, set-level metrics: every arm's frames against held-out real images (MNIST)\n\n" + dist_md)
    files.save_csv(a.table, stats)
    with files.atomic_path(Path(a.table).with_suffix(".md"), suffix=".md") as tmp:
        tmp.write_text(md)
    last = stats[(stats["scope"] == stats["scope"].iloc[-1]) & (stats["family"] == "table2")]
    for _, r in last.iterrows():
        log.info("%s %s: %s p_holm %.3g, pairs music higher %s/%s, music rank %s/%s", r["scope"], r["comparison"], r["metric"],
                 r["p_holm"], r.get("groups_music_higher"), r.get("n_groups"), r["music_rank"], r["n_arms"])


if __name__ == "__main__":
    files.run_main(main)

"""The paper's Tables 1 and 2 laid out as the paper prints them, with our numbers beside what the paper printed.

The paper's text lost every number in extraction (docs/METHOD.md §7); what survives of the two tables are their rows,
their columns and a few marks of Table 2's "Sig." column. These tables keep the paper's rows and columns, fill
them with our measurements pooled over every seed, and add the paper's cell as it survives: "lost in extraction"
where the number is gone, the surviving mark where one is left.

- :func:`table1`: paper Table 1 (§5.2), two panels, (a) informed convergence and (b) cluster exploration; each
  row the median [25th, 75th percentile] over every trajectory of every seed of one per-trajectory metric of
  ``musicsom.metrics.trajectory_summary`` (the GMM stage's ``per_trajectory.csv``). The paper's single
  "Curvature" row holds our two medians, within a Voronoi cell and across cells (§5.1 reports them separately).
  A row whose metric the per-trajectory frame lacks says "not computed" (today: "Segmented continuity IQR",
  the IQR of one trajectory's segment continuities, which the GMM stage does not record).
- :func:`table2`: paper Table 2 (§5.3.5), MUSIC against linear interpolation over the digit pairs: the mean over
  every trajectory of each arm, and in "Sig." the two-sided Wilcoxon signed-rank p on trajectories paired by
  (seed, digit pair, start image), Holm-adjusted across the six metrics (:func:`musicsom.stats.paired_comparison`,
  as the MNIST Table 2 stage does for its pooled scope), with the number of digit pairs whose mean favours MUSIC
  in the metric's better direction (:data:`musicsom.experiments.mnist.PAIR_METRICS`).

Pure: frames in, frames out (the stage renders them as Markdown); no file I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.experiments.mnist import PAIR_METRICS
from musicsom.metrics import median_iqr
from musicsom.stats import paired_comparison

#: what the paper's cell says where its number was lost
LOST = "lost in extraction"
#: what our cell says where the per-trajectory frame has no column for the row
NOT_COMPUTED = "not computed"

#: Table 1's panels: (regime in the per-trajectory frame, the paper's panel title)
TABLE1_PANELS = (
    ("informed", "(a) Informed convergence"),
    ("cluster", "(b) Cluster exploration"),
)
#: Table 1's rows in the paper's order: (the paper's row, our per-trajectory columns, what the column means)
TABLE1_ROWS = (
    ("Transition rate", ("transition_rate",), "fraction of steps that change the BMU"),
    ("Dwell length (steps)", ("dwell_median",), "median run length of a constant BMU"),
    ("Dwell IQR", ("dwell_iqr",), "IQR of one trajectory's run lengths"),
    ("Step–direction continuity", ("continuity",), "mean cosine of consecutive steps"),
    ("Curvature", ("curvature_within", "curvature_across"), "median turning angle per unit step, within a cell / across cells"),
    ("Geodesic efficiency", ("geodesic_efficiency",), "displacement / path length"),
    ("Segmented continuity", ("segmented_continuity",), "median over dwell segments of the segment's mean continuity"),
    ("Segmented continuity IQR", ("segmented_continuity_iqr",), "IQR over one trajectory's dwell segments of their mean continuity"),
)
#: the part names of a row with several of our columns
PART_NAMES = {"curvature_within": "within", "curvature_across": "across"}

#: Table 2's rows in the paper's order: (the paper's row, our metric of PAIR_METRICS)
TABLE2_ROWS = (
    ("Mean confidence", "mean_confidence"),
    ("Min confidence", "min_confidence"),
    ("Mean sharpness", "sharpness"),
    ("Manifold distance", "manifold_distance"),
    ("Geodesic efficiency", "geodesic_efficiency"),
    ("Step continuity", "continuity"),
)
#: the paper's Table 2 cells as they survive (paper.txt, §5.3.5), per metric: MUSIC, Linear, Sig.; the text of
#: §5.3.5 restores a few of them in words, quoted after the mark
PAPER_TABLE2 = {
    "mean_confidence": (LOST, LOST, f"ns (p {LOST})"),
    "min_confidence": (LOST, LOST, f"… pairs (count {LOST}; §5.3.5: 8 of 10 pairs, significant)"),
    "sharpness": (LOST, LOST, f"{LOST} (§5.3.5: all 10 pairs, p {LOST})"),
    "manifold_distance": (LOST, LOST, f"{LOST} (§5.3.5: higher for MUSIC, p {LOST})"),
    "geodesic_efficiency": (LOST, f"{LOST} (§5.3.5: 1 by definition)", "—"),
    "continuity": (LOST, LOST, "—"),
}
#: the Wilcoxon pairing of Table 2's trajectories and the column that groups them into digit pairs
TABLE2_KEYS = ["seed", "pair", "start"]
TABLE2_ALPHA = 0.05


def _num(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.4g}"


def _median_iqr_cell(median: float, q25: float, q75: float) -> str:
    if not np.isfinite(median):
        return "n/a"
    return f"{_num(median)} [{_num(q25)}, {_num(q75)}]"


def _require(frame: pd.DataFrame, columns, what: str, fix: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the columns {missing} (has {list(frame.columns)}); {fix}")


def table1(per_trajectory: pd.DataFrame) -> pd.DataFrame:
    """Paper Table 1 from the per-trajectory metrics of every seed (one row per regime and trajectory).

    One row per (panel, paper row, our metric): ``panel``, ``regime``, ``paper_row``, ``metric``, ``meaning``,
    ``n_trajectories``, ``n_seeds``, ``median``, ``q25``, ``q75``, ``iqr`` (``q75 − q25``), ``ours`` (the cell:
    median [q25, q75], or "not computed" where the frame has no such column) and ``paper`` ("lost in
    extraction": the paper's Table 1 kept no number). Medians and percentiles ignore NaN (a trajectory without
    a step inside a cell has no within-cell curvature, :func:`musicsom.metrics.median_iqr`); ``n_trajectories``
    counts the finite values.
    """
    _require(per_trajectory, ["regime"], "the per-trajectory frame",
             "pass the per_trajectory.csv files the GMM trajectories rule writes (results/gmm/seed*/per_trajectory.csv)")
    regimes = set(per_trajectory["regime"])
    absent = [r for r, _ in TABLE1_PANELS if r not in regimes]
    if absent:
        raise ValueError(f"the per-trajectory frame has no rows of the regimes {absent} (has {sorted(regimes)}); "
                         "Table 1 needs both the informed and the cluster regime")
    if not any(m in per_trajectory for _, metrics, _ in TABLE1_ROWS for m in metrics):
        raise ValueError(f"the per-trajectory frame has none of Table 1's metric columns (has {list(per_trajectory.columns)}); "
                         "pass the GMM stage's per_trajectory.csv files")
    n_seeds = int(per_trajectory["seed"].nunique()) if "seed" in per_trajectory else 1
    rows = []
    for regime, panel in TABLE1_PANELS:
        g = per_trajectory[per_trajectory["regime"] == regime]
        for paper_row, metrics, meaning in TABLE1_ROWS:
            for m in metrics:
                if m in g:
                    values = pd.to_numeric(g[m], errors="coerce").to_numpy(float)
                    med, q25, q75 = median_iqr(values)
                    n = int(np.isfinite(values).sum())
                    cell = _median_iqr_cell(med, q25, q75)
                else:
                    med = q25 = q75 = float("nan")
                    n = 0
                    cell = NOT_COMPUTED
                rows.append({"panel": panel, "regime": regime, "paper_row": paper_row, "metric": m, "meaning": meaning,
                             "n_trajectories": n, "n_seeds": n_seeds, "median": med, "q25": q25, "q75": q75,
                             "iqr": q75 - q25, "ours": cell, "paper": LOST})
    return pd.DataFrame(rows)


def table1_layout(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The paper's layout of :func:`table1`: per panel, its title and a frame of the paper's rows with the columns
    Metric, "Median [IQR] (ours)" and "Paper: Median IQR" (every cell a string).

    A row with several of our metrics (Curvature) names each ("within …; across …").
    """
    panels = []
    for _, panel in TABLE1_PANELS:
        p = table[table["panel"] == panel]
        lines = []
        for paper_row, _, _ in TABLE1_ROWS:
            r = p[p["paper_row"] == paper_row]
            if len(r) == 1:
                ours = r["ours"].iloc[0]
            else:
                ours = "; ".join(f"{PART_NAMES.get(m, m)} {c}" for m, c in zip(r["metric"], r["ours"]))
            lines.append({"Metric": paper_row, "Median [IQR] (ours)": ours, "Paper: Median IQR": r["paper"].iloc[0]})
        title = f"{panel} ({int(p['n_trajectories'].max())} trajectories, {int(p['n_seeds'].iloc[0])} seeds pooled)"
        panels.append((title, pd.DataFrame(lines)))
    return panels


def table2(pairs: pd.DataFrame, alpha: float = TABLE2_ALPHA) -> pd.DataFrame:
    """Paper Table 2 from the per-trajectory rows of every seed (one row per seed, digit pair, start image, arm).

    One row per metric in the paper's order: ``paper_row``, ``metric``, ``better``, ``n_music``, ``n_linear``
    (finite values), ``mean_music``, ``mean_linear``, ``sd_music``, ``sd_linear`` (over every trajectory of the
    arm), ``n_paired``, ``p_value``, ``p_holm`` (two-sided Wilcoxon on the paired trajectories, Holm across the
    six metrics), ``significant`` (``p_holm < alpha``), ``pairs_favour_music`` / ``n_pairs`` (digit pairs whose
    mean over starts and seeds is better for MUSIC in the metric's direction), the cells ``music``, ``linear``,
    ``sig`` and the paper's cells ``paper_music``, ``paper_linear``, ``paper_sig``.
    """
    metrics = [m for _, m in TABLE2_ROWS]
    _require(pairs, ["method", *TABLE2_KEYS, *metrics], "the Table 2 trajectory frame",
             "pass the pairs.csv files the MNIST trajectories rule writes (results/mnist/seed*/pairs.csv)")
    arms = set(pairs["method"])
    if not {"music", "linear"} <= arms:
        raise ValueError(f"the Table 2 trajectory frame holds the arms {sorted(arms)}; paper Table 2 needs 'music' and 'linear'")
    f = pairs[pairs["method"].isin(["music", "linear"])]
    stats = paired_comparison(f, metrics, "method", "music", "linear", TABLE2_KEYS, group_col="pair", alpha=alpha)
    stats = stats.set_index("metric")
    by_arm = f.groupby("method")[metrics]
    mean, sd, count = by_arm.mean(), by_arm.std(), by_arm.count()
    rows = []
    for paper_row, m in TABLE2_ROWS:
        s = stats.loc[m]
        better = PAIR_METRICS[m]
        favour = int(s["groups_music_higher"] if better == "higher" else s["groups_linear_higher"])
        n_pairs = int(s["n_groups"])
        p_holm = float(s["p_holm"])
        mark = f"p = {p_holm:.2g}" if bool(s["significant"]) else f"ns (p = {p_holm:.2g})"
        paper_music, paper_linear, paper_sig = PAPER_TABLE2[m]
        rows.append({
            "paper_row": paper_row, "metric": m, "better": better,
            "n_music": int(count.loc["music", m]), "n_linear": int(count.loc["linear", m]),
            "mean_music": float(mean.loc["music", m]), "mean_linear": float(mean.loc["linear", m]),
            "sd_music": float(sd.loc["music", m]), "sd_linear": float(sd.loc["linear", m]),
            "n_paired": int(s["n"]), "p_value": float(s["p_value"]), "p_holm": p_holm, "significant": bool(s["significant"]),
            "pairs_favour_music": favour, "n_pairs": n_pairs,
            "music": _num(float(mean.loc["music", m])), "linear": _num(float(mean.loc["linear", m])),
            "sig": f"{mark}; {favour}/{n_pairs} pairs favour MUSIC",
            "paper_music": paper_music, "paper_linear": paper_linear, "paper_sig": paper_sig,
        })
    return pd.DataFrame(rows)


def table2_layout(table: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout of :func:`table2`: Metric | MUSIC | Linear | Sig. (ours), then the paper's three cells."""
    return pd.DataFrame({
        "Metric": table["paper_row"], "MUSIC": table["music"], "Linear": table["linear"], "Sig.": table["sig"],
        "Paper: MUSIC": table["paper_music"], "Paper: Linear": table["paper_linear"], "Paper: Sig.": table["paper_sig"],
    })


__all__ = [
    "LOST",
    "NOT_COMPUTED",
    "TABLE1_PANELS",
    "TABLE1_ROWS",
    "TABLE2_ROWS",
    "PAPER_TABLE2",
    "table1",
    "table1_layout",
    "table2",
    "table2_layout",
]

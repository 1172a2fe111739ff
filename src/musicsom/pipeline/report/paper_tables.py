"""Stage: the paper's Tables 1 and 2 as the paper lays them out, our numbers beside the paper's surviving cells.

    python -m musicsom.pipeline.report.paper_tables \
        --gmm results/gmm/seed0/per_trajectory.csv results/gmm/seed1/per_trajectory.csv ... \
        --mnist results/mnist/seed0/pairs.csv results/mnist/seed1/pairs.csv ... \
        --table1 results/tables/paper_table1_gmm.csv --table2 results/tables/paper_table2_mnist.csv

Each table is written as CSV (long, every number) with its Markdown rendering beside it (``.md``). Table 1:
median [IQR] over every trajectory of every seed (``--gmm``); Table 2: the mean over every trajectory of MUSIC
and of linear interpolation, Holm-adjusted paired Wilcoxon p and the digit pairs favouring MUSIC (``--mnist``).
``--gmm``/``--table1`` and ``--mnist``/``--table2`` go together; either pair may be left out (e.g. a recorded run
without the GMM experiment). The logic: :mod:`musicsom.experiments.paper_tables`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from musicsom.experiments import paper_tables as pt
from musicsom.pipeline import files

log = logging.getLogger("musicsom.pipeline.report.paper_tables")

TABLE1_NOTES = (
    "Our cells: median [25th, 75th percentile] over every trajectory of every seed (each trajectory's metric from "
    "musicsom.metrics.trajectory_summary, the GMM stage's per_trajectory.csv). Curvature: the turning angle per unit "
    "step, the median over a trajectory's steps within one Voronoi cell and across cells (§5.1 reports both; the "
    "paper's table has one row). Dwell IQR: the IQR of one trajectory's dwell lengths. "
    f"\"{pt.NOT_COMPUTED}\": the per-trajectory file has no such column (Segmented continuity IQR, the IQR of one "
    "trajectory's segment continuities, is not recorded by the GMM stage). "
    f"Paper: \"{pt.LOST}\" — paper.txt kept the rows of Table 1 but none of its numbers."
)
TABLE2_NOTES = (
    "Our cells: MUSIC and Linear are the means over every trajectory of the arm (every seed, digit pair and start "
    "image). Sig.: two-sided Wilcoxon signed-rank p on the trajectories paired by (seed, digit pair, start image), "
    f"Holm-adjusted across the six metrics; \"ns\" when p_holm ≥ {pt.TABLE2_ALPHA}; then the digit pairs whose mean "
    "(over starts and seeds) favours MUSIC in the metric's better direction (higher confidence, sharpness, "
    "efficiency and continuity; lower manifold distance) out of all pairs. Paper: the cells of paper.txt's Table 2 "
    f"(\"{pt.LOST}\" where the number is gone; \"ns\", \"… pairs\" and \"—\" survive), with what §5.3.5's text says "
    "of them in brackets. The paper's \"—\": no test reported for that row; we report ours anyway."
)


def write_table1(paths: list[str], out: str) -> pd.DataFrame:
    frame = pd.concat([files.load_csv(p) for p in paths], ignore_index=True)
    table = pt.table1(frame)
    files.save_csv(out, table)
    md = ["# Paper Table 1: trajectory metrics on the Gaussian mixture (ours beside the paper's cells)", ""]
    for title, layout in pt.table1_layout(table):
        md += [f"## {title}", "", files.markdown_table(layout)]
    md += [TABLE1_NOTES, ""]
    with files.atomic_path(Path(out).with_suffix(".md"), suffix=".md") as tmp:
        tmp.write_text("\n".join(md))
    return table


def write_table2(paths: list[str], out: str) -> pd.DataFrame:
    frame = pd.concat([files.load_csv(p) for p in paths], ignore_index=True)
    table = pt.table2(frame)
    files.save_csv(out, table)
    n_seeds = int(frame["seed"].nunique())
    n = int(table["n_paired"].max())
    md = ["# Paper Table 2: MUSIC vs linear interpolation across digit pairs, MNIST (ours beside the paper's cells)", "",
          f"{n} paired trajectories ({n_seeds} seeds pooled).", "",
          files.markdown_table(pt.table2_layout(table)), TABLE2_NOTES, ""]
    with files.atomic_path(Path(out).with_suffix(".md"), suffix=".md") as tmp:
        tmp.write_text("\n".join(md))
    return table


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--gmm", nargs="*", default=[], help="GMM per-trajectory CSVs (results/gmm/seed*/per_trajectory.csv), every seed")
    p.add_argument("--table1", help="paper Table 1 as CSV to write (its Markdown beside it)")
    p.add_argument("--mnist", nargs="*", default=[], help="MNIST Table 2 trajectory CSVs (results/mnist/seed*/pairs.csv), every seed")
    p.add_argument("--table2", help="paper Table 2 as CSV to write (its Markdown beside it)")
    a = p.parse_args(argv)
    if bool(a.gmm) != bool(a.table1) or bool(a.mnist) != bool(a.table2):
        raise files.InputError("--gmm goes with --table1 and --mnist with --table2 (each input list needs its output)")
    if not (a.gmm or a.mnist):
        raise files.InputError("nothing to do: give --gmm and --table1, or --mnist and --table2, or both")
    if a.gmm:
        t1 = write_table1(a.gmm, a.table1)
        for _, r in t1.iterrows():
            log.info("Table 1 %s %s (%s): %s", r["regime"], r["paper_row"], r["metric"], r["ours"])
    if a.mnist:
        t2 = write_table2(a.mnist, a.table2)
        for _, r in t2.iterrows():
            log.info("Table 2 %s: MUSIC %s, linear %s, %s", r["paper_row"], r["music"], r["linear"], r["sig"])


if __name__ == "__main__":
    files.run_main(main)

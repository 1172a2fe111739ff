"""Stage: the checks of claim 9 (beyond the paper: MUSIC on k-means vs SOM prototypes), every seed.

    python -m musicsom.pipeline.kmeans.claims --som-pairs results/mnist/seed*/pairs.csv \
        --kmeans-pairs results/kmeans/seed*/pairs.csv --verdicts '{"resamples": 1000, "seed": 0, "level": 0.95}' \
        --out results/kmeans/checks.json

The rule lives in :mod:`musicsom.experiments.claims.claim9`; intervals bootstrap over (pair, start).
Seeds are read from the pair tables' ``seed`` column.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.claims import claim9
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, bootstrap_of, save_checks, with_source
from musicsom.pipeline.kmeans.arms import load_arm


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--som-pairs", nargs="+", required=True, help="the MNIST Table 2 trajectory CSVs of every seed (SOM prototypes)")
    p.add_argument("--kmeans-pairs", nargs="+", required=True, help="the same trajectories on k-means prototypes, every seed")
    add_verdict_args(p)
    p.add_argument("--out", required=True, help="the checks JSON to write")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    frame = pd.concat([load_arm(a.som_pairs, "som"), load_arm(a.kmeans_pairs, "kmeans")], ignore_index=True)
    checks = []
    for seed, g in frame.groupby("seed"):
        src = next(p for p in a.kmeans_pairs if set(files.load_csv(p, usecols=["seed"])["seed"]) == {seed})
        checks += with_source(claim9.checks(g, int(seed), boot), src)
    save_checks(a.out, "kmeans", checks)


if __name__ == "__main__":
    files.run_main(main)

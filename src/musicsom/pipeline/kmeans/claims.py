"""Stage: the checks of claim 9 (beyond the paper: MUSIC on k-means vs SOM prototypes), every seed.

    python -m musicsom.pipeline.kmeans.claims --som-pairs results/mnist/seed*/pairs/*.csv \
        --kmeans-pairs results/kmeans/seed*/pairs/*.csv --out results/kmeans/checks.json

The rule lives in :mod:`musicsom.experiments.claims.claim9`; seeds are read from the pair tables'
``seed`` column.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.claims import claim9
from musicsom.pipeline import _io
from musicsom.pipeline._claims import save_checks, with_source
from musicsom.pipeline.kmeans._common import load_arm


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--som-pairs", nargs="+", required=True)
    p.add_argument("--kmeans-pairs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    frame = pd.concat([load_arm(a.som_pairs, "som"), load_arm(a.kmeans_pairs, "kmeans")], ignore_index=True)
    checks, numbers = [], {}
    for seed, g in frame.groupby("seed"):
        numbers[int(seed)] = nums = claim9.numbers(g)
        # the paired medians and p-values are computed here; the numbers section of the output holds them
        checks += with_source(claim9.checks(nums, int(seed)), a.out)
    save_checks(a.out, "kmeans", checks, numbers)


if __name__ == "__main__":
    _io.run_main(main)

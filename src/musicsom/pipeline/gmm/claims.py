"""Stage: the checks of claims 1, 2 (first seed's map) and 3 (every seed) on the Gaussian mixture.

    python -m musicsom.pipeline.gmm.claims --inversion results/gmm/inversion_summary.json \
        --noise results/gmm/noise_summary.json --seed 0 \
        --per-trajectory results/gmm/seed0/per_trajectory.csv results/gmm/seed1/per_trajectory.csv \
        --out results/gmm/checks.json

The rules live in :mod:`musicsom.experiments.claims.claim1`, ``claim2`` and ``claim3``; the seed of each
per-trajectory table is read from its ``seed`` column.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.claims import claim1, claim2, claim3
from musicsom.pipeline import _io
from musicsom.pipeline._claims import save_checks, with_source


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--inversion", required=True, help="Fig 5 summary (first seed)")
    p.add_argument("--noise", required=True, help="Fig 1 summary (first seed)")
    p.add_argument("--seed", type=int, required=True, help="the seed of the map behind the two summaries")
    p.add_argument("--per-trajectory", nargs="+", required=True, help="per-trajectory metrics, one CSV per seed")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    checks = with_source(claim1.gmm_checks(_io.load_json(a.inversion), a.seed), a.inversion)
    checks += with_source(claim2.checks(_io.load_json(a.noise), a.seed), a.noise)
    numbers = {}
    for path in a.per_trajectory:
        frame = pd.read_csv(path)
        seeds = frame["seed"].unique()
        if len(seeds) != 1:
            raise _io.InputError(f"{path} holds seeds {sorted(seeds)}; each per-trajectory file must hold one seed")
        seed = int(seeds[0])
        numbers[seed] = claim3.medians(frame)
        checks += with_source(claim3.checks(frame, seed), path)
    save_checks(a.out, "gmm", checks, numbers)


if __name__ == "__main__":
    _io.run_main(main)

"""Stage: the checks of claims 1 (MNIST round-off inversion) and 4-7 for one seed of the MNIST stage.

    python -m musicsom.pipeline.mnist.claims --seed 0 --inversion results/mnist/seed0/inversion.json \
        --transition results/mnist/seed0/transition.json --pairs results/mnist/seed0/pairs/*.csv \
        --sweeps results/mnist/seed0/sweep_*.csv --n-steps 200 --out results/mnist/seed0/checks.json

The rules live in :mod:`musicsom.experiments.claims` (``claim1`` … ``claim7``): claim 4 reads the 0 -> 1
demonstration and the pooled Table 2 pairs, claim 5 compares MUSIC with linear interpolation over the
pairs, claim 6 ranks the three methods, claim 7 reads the α, λ and κ sweeps.
"""

from __future__ import annotations

import os

import pandas as pd

from musicsom.experiments.claims import claim1, claim4, claim5, claim6, claim7
from musicsom.pipeline import _io
from musicsom.pipeline._claims import save_checks, with_source


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--inversion", required=True)
    p.add_argument("--transition", required=True)
    p.add_argument("--pairs", nargs="+", required=True)
    p.add_argument("--sweeps", nargs="+", required=True)
    p.add_argument("--n-steps", type=int, required=True, help="steps of the Table 2 trajectories (never crossing counts as n + 1)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    transition = _io.load_json(a.transition)
    pairs = pd.concat([pd.read_csv(f) for f in a.pairs], ignore_index=True)
    if set(pairs["seed"]) != {a.seed} or transition["seed"] != a.seed:
        raise _io.InputError(f"--pairs and --transition must all come from seed {a.seed}")
    sweep_files = {str(pd.read_csv(f, nrows=1)["param"].iloc[0]): f for f in a.sweeps}
    sweeps = {param: pd.read_csv(f) for param, f in sweep_files.items()}
    pair_src = os.path.dirname(a.pairs[0]) if len(a.pairs) > 1 else a.pairs[0]
    n4 = claim4.numbers(transition, pairs, a.n_steps)
    n5 = claim5.numbers(pairs)
    n6 = claim6.numbers(transition, pairs)
    n7 = claim7.numbers(sweeps)
    checks = with_source(claim1.mnist_checks(_io.load_json(a.inversion), a.seed), a.inversion)
    # the 0 -> 1 demonstration's numbers come from the transition summary, the others from the pair CSVs
    for c in claim4.checks(n4, a.seed, a.n_steps) + claim5.checks(n5, a.seed) + claim6.checks(n6, a.seed):
        checks += with_source([c], a.transition if c.name.startswith("demo") else pair_src)
    for c in claim7.checks(n7, a.seed):
        param = next(p for p in ("alpha", "lambda", "kappa") if p in c.name)
        checks += with_source([c], sweep_files[param])
    save_checks(a.out, "mnist", checks, {a.seed: {"claim4": n4, "claim5": n5, "claim6": n6, "claim7": n7}})


if __name__ == "__main__":
    _io.run_main(main)

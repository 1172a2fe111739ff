"""Stage: the checks of claims 1 (MNIST round-off inversion) and 4-7 for one seed of the MNIST stage.

    python -m musicsom.pipeline.mnist.claims --seed 0 --inversion results/mnist/seed0/inversion.json \
        --inversion-errors results/mnist/seed0/inversion_errors.npz --transition results/mnist/seed0/transition.json \
        --pairs results/mnist/seed0/pairs.csv --sweeps results/mnist/seed0/sweep_*.csv --n-steps 200 \
        --out results/mnist/seed0/checks.json

The rules live in :mod:`musicsom.experiments.claims` (``claim1``, ``claim4`` … ``claim7``): claim 1 reads
the relative inversion errors of the test codes, claims 4-6 the Table 2 trajectories (the 0 -> 1
demonstration is shown as evidence), claim 7 the α, λ and κ sweeps. Intervals: bootstrap over test
codes, (pair, start) units and sweep starts.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.claims import claim1, claim4, claim5, claim6, claim7
from musicsom.pipeline import _io
from musicsom.pipeline._claims import add_verdict_args, bootstrap_of, save_checks, with_source


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--inversion", required=True)
    p.add_argument("--inversion-errors", required=True)
    p.add_argument("--transition", required=True)
    p.add_argument("--pairs", required=True, help="the seed's Table 2 trajectories")
    p.add_argument("--sweeps", nargs="+", required=True)
    p.add_argument("--n-steps", type=int, required=True, help="steps of the Table 2 trajectories (never crossing counts as n + 1)")
    add_verdict_args(p)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    transition = _io.load_json(a.transition)
    pairs = pd.read_csv(a.pairs)
    if set(pairs["seed"]) != {a.seed} or transition["seed"] != a.seed:
        raise _io.InputError(f"--pairs and --transition must come from seed {a.seed}")
    inv = _io.load_json(a.inversion)
    errors = _io.load_npz(a.inversion_errors, required=("relative_errors",))["relative_errors"]
    checks = with_source(claim1.mnist_checks(errors, a.seed, boot, reason=inv.get("reason", ""),
                                             condition_number=inv.get("median_condition_number")), a.inversion_errors)
    demo = {f"{m}_{k}": transition["methods"][m][k] for m in ("music", "linear") for k in ("crossing_step", "third_class_steps")}
    checks += with_source(claim4.checks(pairs, a.seed, a.n_steps, boot, demo=demo), a.pairs)
    checks += with_source(claim5.checks(pairs, a.seed, boot), a.pairs)
    checks += with_source(claim6.checks(pairs, a.seed, boot), a.pairs)
    for path in a.sweeps:
        sweep = pd.read_csv(path)
        checks += with_source(claim7.checks({str(sweep["param"].iloc[0]): sweep}, a.seed, boot), path)
    save_checks(a.out, "mnist", checks)


if __name__ == "__main__":
    _io.run_main(main)

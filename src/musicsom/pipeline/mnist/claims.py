"""Stage: the checks of claims 1 (MNIST round-off inversion) and 4-7 for one seed of the MNIST stage.

    python -m musicsom.pipeline.mnist.claims --seed 0 --inversion results/mnist/seed0/inversion.json \
        --inversion-errors results/mnist/seed0/inversion_errors.npz --transition-summary results/mnist/seed0/transition.json \
        --pairs results/mnist/seed0/pairs.csv --sweeps results/mnist/seed0/sweep_*.csv --table2 '{"n_steps": 200, ...}' \
        --verdicts '{"resamples": 1000, "seed": 0, "level": 0.95}' --out results/mnist/seed0/checks.json

The rules live in :mod:`musicsom.experiments.claims` (``claim1``, ``claim4`` … ``claim7``): claim 1 reads
the relative latent and the pixel inversion errors of the test codes (min-norm where the map is rank-deficient), claims 4-6 the Table 2 trajectories (the 0 -> 1
demonstration is shown as evidence), claim 7 the α, λ and κ sweeps. Intervals: bootstrap over test
codes, (pair, start) units and sweep starts.
"""

from __future__ import annotations

from musicsom.experiments.claims import claim1, claim4, claim5, claim6, claim7
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, bootstrap_of, save_checks, with_source
from musicsom.pipeline.sections import add_section, require


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, required=True, help="the seed whose outputs are checked")
    p.add_argument("--inversion", required=True, help="the seed's inversion summary (mnist.inversion, JSON)")
    p.add_argument("--inversion-errors", required=True, help="the seed's latent and pixel inversion errors (mnist.inversion, .npz)")
    p.add_argument("--transition-summary", required=True, help="the seed's 0 -> 1 demonstration summary (mnist.transition, JSON)")
    p.add_argument("--pairs", required=True, help="the seed's Table 2 trajectories")
    p.add_argument("--sweeps", nargs="*", default=[],
                   help="the seed's sweep CSVs (mnist.sweep, one per swept setting); none on a seed beyond mnist.sweep_seeds")
    add_section(p, "table2", "mnist.table2", "the Table 2 trajectories (this stage reads n_steps: never crossing counts as n + 1)")
    add_verdict_args(p)
    p.add_argument("--out", required=True, help="the checks JSON to write")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    n_steps = int(require(a.table2, "mnist.table2", ("n_steps",))["n_steps"])
    transition = files.load_json(a.transition_summary)
    pairs = files.load_csv(a.pairs)
    if set(pairs["seed"]) != {a.seed} or transition["seed"] != a.seed:
        raise files.InputError(f"--pairs and --transition-summary must come from seed {a.seed}")
    inv = files.load_json(a.inversion)
    errors = files.load_npz(a.inversion_errors, required=("relative_errors", "pixel_errors", "anchors"))
    checks = with_source(claim1.mnist_checks(errors["relative_errors"], a.seed, boot, reason=inv.get("reason", ""),
                                             condition_number=inv.get("median_condition_number"),
                                             pixel_errors=errors["pixel_errors"], rank=inv.get("rank"), dim=inv.get("dim"),
                                             anchors=errors["anchors"]),
                         a.inversion_errors)
    demo = {f"{m}_{k}": transition["methods"][m][k] for m in ("music", "linear") for k in ("crossing_step", "third_class_steps")}
    checks += with_source(claim4.checks(pairs, a.seed, n_steps, boot, demo=demo), a.pairs)
    checks += with_source(claim5.checks(pairs, a.seed, boot), a.pairs)
    checks += with_source(claim6.checks(pairs, a.seed, boot), a.pairs)
    for path in a.sweeps:
        sweep = files.load_csv(path)
        checks += with_source(claim7.checks({str(sweep["param"].iloc[0]): sweep}, a.seed, boot), path)
    save_checks(a.out, "mnist", checks)


if __name__ == "__main__":
    files.run_main(main)

"""Stage: the checks of claims 1, 2 (the first seed's map) and 3 (every seed) on the Gaussian mixture.

    python -m musicsom.pipeline.gmm.claims --inversion-errors results/gmm/inversion_errors.npz \
        --noise results/figures/fig01_noise_bound.csv --seed 0 \
        --per-trajectory results/gmm/seed0/per_trajectory.csv results/gmm/seed1/per_trajectory.csv \
        --out results/gmm/checks.json

The rules live in :mod:`musicsom.experiments.claims.claim1`, ``claim2`` and ``claim3``; each interval
is a bootstrap over the test points (claims 1 and 2) or the start points (claim 3).
The seed of each per-trajectory table is read from its ``seed`` column.
"""

from __future__ import annotations

from musicsom.experiments.claims import claim1, claim2, claim3
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, bootstrap_of, save_checks, with_source


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--inversion-errors", required=True, help="Fig 5 errors of every test point at every m (first seed)")
    p.add_argument("--noise", required=True, help="Fig 1 cases: error and bound of every case (first seed)")
    p.add_argument("--seed", type=int, required=True, help="the seed of the map behind Figs 1 and 5")
    p.add_argument("--per-trajectory", nargs="+", required=True, help="per-trajectory metrics, one CSV per seed")
    add_verdict_args(p)
    p.add_argument("--out", required=True, help="the checks file (JSON) to write")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    inv = files.load_npz(a.inversion_errors, required=("errors", "m_values", "dim"))
    checks = with_source(claim1.gmm_checks(inv["errors"], inv["m_values"], int(inv["dim"]), a.seed, boot), a.inversion_errors)
    noise = files.load_csv(a.noise)
    for col in ("error", "bound", "sigma_min", "noise_std", "point"):
        if col not in noise.columns:
            raise files.InputError(f"{a.noise} lacks the column {col!r}: rerun the rule gmm_fig01 that writes it")
    checks += with_source(claim2.checks(noise["error"].to_numpy(), noise["bound"].to_numpy(), noise["sigma_min"].to_numpy(),
                                        noise["noise_std"].to_numpy(), noise["point"].to_numpy(), a.seed, boot), a.noise)
    for path in a.per_trajectory:
        frame = files.load_csv(path)
        seeds = frame["seed"].unique()
        if len(seeds) != 1:
            raise files.InputError(f"{path} holds seeds {sorted(seeds)}; each per-trajectory file must hold one seed")
        checks += with_source(claim3.checks(frame, int(seeds[0]), boot), path)
    save_checks(a.out, "gmm", checks)


if __name__ == "__main__":
    files.run_main(main)

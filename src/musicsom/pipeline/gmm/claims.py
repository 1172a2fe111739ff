"""Stage: the checks of claims 1, 2 and 3 on the Gaussian mixture, on every seed's map.

    python -m musicsom.pipeline.gmm.claims \
        --inversion-errors results/gmm/seed0/inversion_errors.npz results/gmm/seed1/inversion_errors.npz \
        --noise results/gmm/seed0/noise_cases.csv results/gmm/seed1/noise_cases.csv \
        --per-trajectory results/gmm/seed0/per_trajectory.csv results/gmm/seed1/per_trajectory.csv \
        --out results/gmm/checks.json

The rules live in :mod:`musicsom.experiments.claims.claim1`, ``claim2`` and ``claim3``; each seed's checks
carry its seed (read from each file: the ``seed`` entry of the errors, the ``seed`` column of the tables), and
the verdict pools them over seeds. The units are the test points (claims 1 and 2) and the start points (claim 3).
"""

from __future__ import annotations

from musicsom.experiments.claims import claim1, claim2, claim3
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, bootstrap_of, save_checks, with_source


def seed_of_table(frame, path) -> int:
    """The one seed of a per-seed table (its ``seed`` column)."""
    if "seed" not in frame.columns:
        raise files.InputError(f"{path} has no seed column: rerun the rule that writes it")
    seeds = frame["seed"].unique()
    if len(seeds) != 1:
        raise files.InputError(f"{path} holds seeds {sorted(seeds)}; each per-seed file must hold one seed")
    return int(seeds[0])


def one_per_seed(seeds: list[int], option: str) -> None:
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise files.InputError(f"{option} holds seeds {repeated} more than once; pass one file per seed")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--inversion-errors", nargs="+", required=True,
                   help="Fig 5 errors of every test point at every m (gmm.inversion), one .npz per seed")
    p.add_argument("--noise", nargs="+", required=True, help="Fig 1 cases (gmm.noise): error and bound of every case, one CSV per seed")
    p.add_argument("--per-trajectory", nargs="+", required=True, help="per-trajectory metrics, one CSV per seed")
    add_verdict_args(p)
    p.add_argument("--out", required=True, help="the checks file (JSON) to write")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    checks, seeds = [], []
    for path in a.inversion_errors:
        inv = files.load_npz(path, required=("errors", "m_values", "dim", "seed"))
        seeds.append(int(inv["seed"]))
        checks += with_source(claim1.gmm_checks(inv["errors"], inv["m_values"], int(inv["dim"]), seeds[-1], boot), path)
    one_per_seed(seeds, "--inversion-errors")
    seeds = []
    for path in a.noise:
        noise = files.load_csv(path)
        for col in ("error", "bound", "sigma_min", "noise_std", "point"):
            if col not in noise.columns:
                raise files.InputError(f"{path} lacks the column {col!r}: rerun the rule gmm_noise that writes it")
        seeds.append(seed_of_table(noise, path))
        checks += with_source(claim2.checks(noise["error"].to_numpy(), noise["bound"].to_numpy(), noise["sigma_min"].to_numpy(),
                                            noise["noise_std"].to_numpy(), noise["point"].to_numpy(), seeds[-1], boot), path)
    one_per_seed(seeds, "--noise")
    seeds = []
    for path in a.per_trajectory:
        frame = files.load_csv(path)
        seeds.append(seed_of_table(frame, path))
        checks += with_source(claim3.checks(frame, seeds[-1], boot), path)
    one_per_seed(seeds, "--per-trajectory")
    save_checks(a.out, "gmm", checks)


if __name__ == "__main__":
    files.run_main(main)

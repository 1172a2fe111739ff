"""Stage: the checks of claim 8 for one seed of the faces stage.

    python -m musicsom.pipeline.faces.claims --per-start results/faces/seed0/per_start.csv \
        --calibration results/faces/seed0/identity_calibration.json \
        --monotone-min 0.9 --target-cluster female --verdicts '{"resamples": 1000, "seed": 0, "level": 0.95}' \
        --out results/faces/seed0/checks.json

The rules live in :mod:`musicsom.experiments.claims.claim8`; intervals bootstrap over the start faces.
The seed is read from the table's ``seed`` column. The identity calibration (faces.identity_calibration) decides
nothing yet: its numbers, and the paths' drift read against it, are recorded as evidence of the identity-drift
check, so that a reader sees what a drift of that size means on decoded faces.
"""

from __future__ import annotations

from musicsom.experiments.claims import claim8, ev
from musicsom.experiments.face_calibration import calibrated_drift_means, calibration_context
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, bootstrap_of, save_checks, with_source
from musicsom.pipeline.faces.options import add_claim8_args


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--per-start", required=True, help="per-start metrics of one seed (faces.summary)")
    p.add_argument("--calibration", required=True,
                   help="the identity calibration's summary (JSON of faces.identity_calibration), recorded as context")
    add_claim8_args(p)
    add_verdict_args(p)
    p.add_argument("--out", required=True, help="the checks (JSON) to write")
    a = p.parse_args(argv)
    per = files.load_csv(a.per_start, keep_default_na=True)
    per["cluster"] = per["cluster"].fillna("")
    seeds = per["seed"].unique()
    if len(seeds) != 1:
        raise files.InputError(f"{a.per_start} holds seeds {sorted(seeds)}; a per-start table must hold one seed")
    checks = claim8.checks(per, int(seeds[0]), a.monotone_min, bootstrap_of(a), target_cluster=a.target_cluster)
    context = [ev(q, v) for q, v in calibration_context(files.load_json(a.calibration)).items()]
    for e in filter(None, context):
        e.source = str(a.calibration)
    context += [ev(q, v) for q, v in calibrated_drift_means(per, a.target_cluster).items()]
    for check in checks:  # context only: the verdicts stay claim8's
        if "identity drift" in check.statistic and not check.context:
            check.evidence += [e for e in context if e is not None]
    save_checks(a.out, "faces", with_source(checks, a.per_start))


if __name__ == "__main__":
    files.run_main(main)

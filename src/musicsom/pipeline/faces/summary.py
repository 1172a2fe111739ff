"""Stage: per-start metrics of one seed's face trajectories.

    python -m musicsom.pipeline.faces.summary --frames results/faces/seed0/frames.csv --starts results/faces/seed0/starts.json \
        --calibration results/faces/seed0/identity_calibration.csv --seed 0 --per-start results/faces/seed0/per_start.csv

Per start and method (:func:`musicsom.experiments.faces.per_start_metrics`): the detection rate (share of
decoded frames in which dlib finds a face), the latent distance to the nearest prototype (final and
mean), the cluster distance (initial, final, final / initial, share of steps that do not increase it,
Spearman correlation of distance with step: −1 for a steadily falling trend), and the identity drift
(mean and final, share of measured frames under dlib's 0.6 same-person threshold, and the drift at the
first step whose cluster distance is half the initial one: the two paths compared at matched progress
rather than at matched steps), and the drift read against the identity calibration (faces.identity_calibration):
the share of measured frames below the same-person median of decoded LFW pairs, and the mean and half-distance
drifts as percentiles of the same-person and different-people distances. Table 3 (faces.table3) and claim 8
(faces.claims) read this table.
"""

from __future__ import annotations

import logging

from musicsom.experiments.face_calibration import DriftReference
from musicsom.experiments.faces import per_start_metrics
from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files

log = logging.getLogger("musicsom.pipeline.faces.summary")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "frames", "starts")
    p.add_argument("--calibration", required=True,
                   help="the identity calibration table (CSV of faces.identity_calibration) the drift is read against")
    p.add_argument("--seed", type=int, required=True, help="the seed (the seed wildcard), written as a column")
    p.add_argument("--per-start", required=True, help="CSV of the per-start metrics to write")
    args = p.parse_args(argv)

    frames = files.load_csv(args.frames, keep_default_na=True)
    frames["cluster"] = frames["cluster"].fillna("")
    starts = files.load_json(args.starts)
    reference = DriftReference.from_table(files.load_csv(args.calibration))
    per = per_start_metrics(frames, reference)
    per.insert(0, "seed", args.seed)
    per.insert(5, "image_id", [starts["image_id"][s] for s in per["start"]])
    log.info("seed %d: %d per-start rows", args.seed, len(per))
    files.save_csv(args.per_start, per)


if __name__ == "__main__":
    files.run_main(main)

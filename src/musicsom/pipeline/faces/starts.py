"""Stage: pick the start faces of the trajectories (seeded, held-out people, one face per person).

    python -m musicsom.pipeline.faces.starts --latent results/faces/latent.npz --checkpoint results/faces/autoencoder.pt \
        --labels results/data/lfw_labels.csv --n-starts 5 --outside-clusters --seed 0 \
        --out results/faces/seed0/starts.json

Candidates are held-out faces (people the autoencoder, the whitening and the SOM never saw), one per
person, in a seeded order. With ``--outside-clusters`` only faces labelled male and not ``Black`` are
candidates, so that moving toward the female and the darker-skinned clusters is a change. A
candidate is kept when dlib detects a face in its decoded reconstruction (identity drift needs a
face at frame 0); if too few are detected, the first undetected candidates fill the rest (logged,
and flagged in the output).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.pipeline import _io

log = logging.getLogger("musicsom.pipeline.faces.starts")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--n-starts", type=int, default=5)
    p.add_argument("--outside-clusters", action="store_true", help="only faces labelled male and not Black")
    p.add_argument("--id-size", type=int, default=150, help="side the decoded face is resized to for dlib")
    p.add_argument("--detector-upsample", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    from musicsom.experiments.face_id import FaceID
    from musicsom.pipeline.faces._common import LatentDecoder

    lat = _io.load_npz(args.latent, required=("x_test", "image_id_test", "person_test"))
    ids, persons = lat["image_id_test"].astype(str), lat["person_test"].astype(str)
    if args.n_starts < 1:
        raise ValueError(f"faces.n_starts must be >= 1; got {args.n_starts}")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(ids.size)
    _, first = np.unique(persons[order], return_index=True)  # one face per person: its first in the seeded order
    cand = order[np.sort(first)]
    if args.outside_clusters:
        t = pd.read_csv(args.labels, dtype=str).set_index("image_id").reindex(ids[cand])
        ok = (t["gender"].to_numpy() == "male") & (t["black"].str.lower().to_numpy() == "false")
        cand = cand[ok]
    if cand.size < args.n_starts:
        raise ValueError(
            f"only {cand.size} held-out candidate faces for faces.n_starts = {args.n_starts}; lower n_starts, raise "
            "faces.autoencoder.holdout or use more faces"
        )
    decode = LatentDecoder(args.checkpoint, lat)
    fid = FaceID(args.id_size, args.detector_upsample)
    chosen, undetected = [], []
    for start in range(0, cand.size, 64):
        block = cand[start : start + 64]
        found = fid.detect_many(decode(lat["x_test"][block]))
        for i, f in zip(block, found):
            if len(chosen) < args.n_starts and f:
                chosen.append(int(i))
            elif not f and len(undetected) < args.n_starts:
                undetected.append(int(i))
        if len(chosen) >= args.n_starts:
            break
    detected = [True] * len(chosen)
    if len(chosen) < args.n_starts:
        fill = undetected[: args.n_starts - len(chosen)]
        log.warning("dlib found a face in only %d decoded candidates; %d undetected starts fill the rest", len(chosen), len(fill))
        chosen += fill
        detected += [False] * len(fill)
    log.info("starts: %s", [ids[i] for i in chosen])
    _io.save_json(args.out, {
        "test_rows": chosen, "image_id": [ids[i] for i in chosen], "detected": detected,
        "n_candidates": int(cand.size), "outside_clusters": bool(args.outside_clusters), "seed": args.seed,
    })


if __name__ == "__main__":
    _io.run_main(main)

"""Stage: pick the start faces of the trajectories (seeded, held-out people, one face per person).

    python -m musicsom.pipeline.faces.starts --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --labels results/data/lfw_labels.csv --starts '{"n_starts": 15, "outside_clusters": true}' \
        --identity '{"size": 150, "detector_upsample": 0, "every": 5}' --seed 0 --out results/faces/seed0/starts.json

Candidates are held-out faces (people the autoencoder, the whitening and the SOM never saw), one per
person, in a seeded order. With ``outside_clusters`` only faces labelled male and not ``Black`` are
candidates, so that moving toward the female and the darker-skinned clusters is a change. A
candidate is kept when dlib detects a face in its decoded reconstruction (identity drift needs a
face at frame 0); if too few are detected, the first undetected candidates fill the rest (logged,
and flagged in the output).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, section

log = logging.getLogger("musicsom.pipeline.faces.starts")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "labels")
    add_sections(p, "starts", "identity")
    p.add_argument("--seed", type=int, required=True, help="seed of the candidates' order (the seed wildcard)")
    p.add_argument("--out", required=True, help="JSON of the chosen starts to write")
    args = p.parse_args(argv)
    st, ident = section(args, "starts"), section(args, "identity")
    n_starts = st["n_starts"]

    from musicsom.experiments.face_id import FaceID
    from musicsom.pipeline.faces.decoding import LatentDecoder

    lat = files.load_npz(args.latent, required=("x_test", "image_id_test", "person_test"))
    ids, persons = lat["image_id_test"].astype(str), lat["person_test"].astype(str)
    if n_starts < 1:
        raise ValueError(f"faces.starts.n_starts must be >= 1; got {n_starts}")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(ids.size)
    _, first = np.unique(persons[order], return_index=True)  # one face per person: its first in the seeded order
    cand = order[np.sort(first)]
    if st["outside_clusters"]:
        t = files.load_csv(args.labels, dtype=str).set_index("image_id").reindex(ids[cand])
        ok = (t["gender"].to_numpy() == "male") & (t["black"].str.lower().to_numpy() == "false")
        cand = cand[ok]
    if cand.size < n_starts:
        raise ValueError(
            f"only {cand.size} held-out candidate faces for faces.starts.n_starts = {n_starts}; lower n_starts, raise "
            "faces.autoencoder.holdout or use more faces"
        )
    decode = LatentDecoder(args.checkpoint, lat)
    fid = FaceID(ident["size"], ident["detector_upsample"])
    chosen, undetected = [], []
    for start in range(0, cand.size, 64):
        block = cand[start : start + 64]
        found = fid.detect_many(decode(lat["x_test"][block]))
        for i, f in zip(block, found):
            if len(chosen) < n_starts and f:
                chosen.append(int(i))
            elif not f and len(undetected) < n_starts:
                undetected.append(int(i))
        if len(chosen) >= n_starts:
            break
    detected = [True] * len(chosen)
    if len(chosen) < n_starts:
        fill = undetected[: n_starts - len(chosen)]
        log.warning("dlib found a face in only %d decoded candidates; %d undetected starts fill the rest", len(chosen), len(fill))
        chosen += fill
        detected += [False] * len(fill)
    log.info("starts: %s", [ids[i] for i in chosen])
    files.save_json(args.out, {
        "test_rows": chosen, "image_id": [ids[i] for i in chosen], "detected": detected,
        "n_candidates": int(cand.size), "outside_clusters": bool(st["outside_clusters"]), "seed": args.seed,
    })


if __name__ == "__main__":
    files.run_main(main)

"""Stage: calibrate dlib's identity distance on decoded faces (same image, same person, different people).

    python -m musicsom.pipeline.faces.identity_calibration --faces results/data/lfw_faces.npz \
        --codes results/faces/seed0/codes.npz --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --pairs results/data/raw/lfw/pairs.txt --calibration '{"max_pairs": 0}' \
        --identity '{"size": 150, "detector_upsample": 0, "every": 5}' --seed 0 --threads 1 \
        --table results/faces/seed0/identity_calibration.csv --summary results/faces/seed0/identity_calibration.json

What a drift of 0.35 or 0.66 means on decoded 64-px faces: every image of LFW's ``pairs.txt`` pairs (both
images among the prepared faces; a seeded ``faces.calibration.max_pairs`` of each kind, 0 = all 3,000 + 3,000)
is encoded by the run's autoencoder and decoded through the full code and through the SOM's latent (whiten,
unwhiten), and dlib describes the photo and both reconstructions with the settings of ``faces.identity``. The
table has one row per distance (same image, and every matched and mismatched pair in each view); the summary
their quantiles, dlib's detection rates, the ROC area and equal-error threshold of same vs different people, and
the bands that Fig 15, the per-start drift metrics and claim 8's context read
(:mod:`musicsom.experiments.face_calibration`). ``n_trained`` counts the images of a row that the autoencoder
trained on (``--codes``: its kept images and held-out mask); the summary's ``unseen`` block is over rows with none.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, section
from musicsom.pipeline.sections import add_section, require

log = logging.getLogger("musicsom.pipeline.faces.identity_calibration")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--faces", required=True, help=".npz with images (n, S, S, 3) uint8, person, image_id (data.prepare_lfw)")
    p.add_argument("--codes", required=True,
                   help="the autoencoder's codes .npz (image_id, heldout): which images it trained on (faces.autoencoder)")
    add_files(p, "latent", "checkpoint")
    p.add_argument("--pairs", required=True, help="LFW's pairs.txt (data_fetch_lfw: results/data/raw/lfw/pairs.txt)")
    add_section(p, "calibration", "faces.calibration", "max_pairs: pairs of each kind used (0 = all of pairs.txt)")
    add_sections(p, "identity")
    p.add_argument("--seed", type=int, required=True, help="seed of the pair subset when max_pairs caps it (the seed wildcard)")
    p.add_argument("--threads", type=int, required=True, help="torch threads (the rule's threads)")
    p.add_argument("--table", required=True, help="CSV to write: one row per measured distance")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    args = p.parse_args(argv)
    cal = require(args.calibration, "faces.calibration", ("max_pairs",))
    ident = section(args, "identity")

    import torch

    from musicsom.experiments.face_calibration import calibration_table, describe_views, parse_pairs, select_pairs, summarise
    from musicsom.experiments.face_id import FaceID
    from musicsom.experiments.models.face_autoencoder import decode_codes, encode_images
    from musicsom.pipeline.faces.decoding import load_autoencoder, load_whitening

    torch.set_num_threads(max(1, args.threads))
    data = files.load_npz(args.faces, required=("images", "image_id"))
    image_id = data["image_id"].astype(str)
    pairs_path = Path(args.pairs)
    if not pairs_path.is_file():
        raise files.InputError(f"{pairs_path} does not exist; run the rule data_fetch_lfw first (it fetches LFW's pairs.txt)")
    pairs = parse_pairs(pairs_path.read_text(), source=str(pairs_path))
    used, counts = select_pairs(pairs, image_id, cal["max_pairs"], args.seed)
    for kind, c in counts.items():
        log.info("%s: %d listed, %d with both images among the %d faces, %d used", kind, c["listed"], c["available"],
                 image_id.size, c["used"])
    if not len(used):
        raise files.InputError(f"no pair of {args.pairs} has both images among the {image_id.size} faces of {args.faces}; "
                               "check that the data stage prepared LFW deep-funneled")
    ids = np.unique(np.concatenate([used["image_a"].to_numpy(str), used["image_b"].to_numpy(str)]))
    row = {v: k for k, v in enumerate(image_id)}
    originals = data["images"][[row[i] for i in ids]]

    codes = files.load_npz(args.codes, required=("image_id", "heldout"))
    trained_ids = set(codes["image_id"].astype(str)[~codes["heldout"].astype(bool)].tolist())
    in_training = np.array([i in trained_ids for i in ids])
    model = load_autoencoder(args.checkpoint)
    pca = load_whitening(files.load_npz(args.latent, required=("pca_mean", "pca_components", "pca_variance",
                                                                "pca_total_variance")))
    fid = FaceID(ident["size"], ident["detector_upsample"])
    t0 = time.perf_counter()
    views = describe_views(
        originals,
        encode=lambda im: encode_images(model, im),
        decode=lambda c: decode_codes(model, c),
        round_trip=lambda c: pca.decode(pca.encode(c)),
        describe=fid.describe_many,
    )
    seconds = time.perf_counter() - t0
    table = calibration_table(used, ids, views, in_training)
    summary = summarise(table, counts)
    summary.update({
        "seed": args.seed, "max_pairs": cal["max_pairs"], "identity": dict(ident), "seconds": seconds,
        "seconds_per_descriptor": seconds / max(1, 3 * ids.size),
    })
    b = summary["bands"]
    log.info("%d images, %.1f ms a descriptor (encode and decode included); latent view: same image %.3f, same person "
             "%.3f, different people %.3f (medians); AUC %.3f (photos %.3f)", ids.size, 1000 * summary["seconds_per_descriptor"],
             b["same_image"]["median"], b["same_person"]["median"], b["different_people"]["median"],
             summary["separation"]["latent"]["auc"], summary["separation"]["original"]["auc"])
    files.save_csv(args.table, table)
    files.save_json(args.summary, summary)


if __name__ == "__main__":
    files.run_main(main)

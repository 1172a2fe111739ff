"""Stage: train the face autoencoder (image → 512-d code → image), encode every face, record the PSNR.

    python -m musicsom.pipeline.faces.autoencoder --faces results/data/lfw_faces.npz --n-faces 0 \
        --autoencoder '{"holdout": 0.1, "code_dim": 512, "channels": [16, 32, 64, 128], "epochs": 8,
        "batch_size": 64, "lr": 0.001, "flip": true}' --seed 0 --threads 1 --device cpu \
        --checkpoint results/faces/autoencoder.pt --codes results/faces/codes.npz \
        --summary results/faces/autoencoder.json

No pretrained face model can be fetched, so the autoencoder is trained here (seeded). The split is
by person: a ``holdout`` share of the people (no identity on both sides) is held out; the PSNR of
their reconstructions is recorded. ``--n-faces`` > 0 keeps a seeded random subset of the images
(the smoke run). Outputs: a checkpoint (weights, model settings, history), the codes of every kept
face (float32) with ``image_id``, ``person`` and the ``heldout`` mask, and a JSON summary.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_sections, section
from musicsom.experiments.faces import split_people

log = logging.getLogger("musicsom.pipeline.faces.autoencoder")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--faces", required=True, help=".npz with images (n, S, S, 3) uint8, person, image_id")
    p.add_argument("--n-faces", type=int, required=True,
                   help="keep a seeded random subset of this many images, 0 = all (config faces.n_faces)")
    add_sections(p, "autoencoder")
    p.add_argument("--seed", type=int, required=True,
                   help="seed of the subset, the person split and the training (the first of the config's seeds)")
    p.add_argument("--threads", type=int, required=True, help="torch threads (the rule's threads)")
    p.add_argument("--device", required=True,
                   help="where torch trains: cpu, cuda (cuda:N) or auto (CUDA if available, else CPU); config key device")
    p.add_argument("--checkpoint", required=True, help="output .pt")
    p.add_argument("--codes", required=True, help="output .npz")
    p.add_argument("--summary", required=True, help="output .json")
    args = p.parse_args(argv)
    ae = section(args, "autoencoder")

    import torch

    from musicsom.experiments.models import resolve_device, seed_everything
    from musicsom.experiments.models.face_autoencoder import decode_codes, encode_images, psnr, train_autoencoder

    device = resolve_device(args.device)
    log.info("training on %s", device)
    seed_everything(args.seed, threads=args.threads)
    data = files.load_npz(args.faces, required=("images", "person", "image_id"))
    images, person, image_id = data["images"], data["person"].astype(str), data["image_id"].astype(str)
    index = np.arange(images.shape[0])
    if args.n_faces < 0:
        raise ValueError(f"faces.n_faces must be >= 0; got {args.n_faces}")
    if 0 < args.n_faces < images.shape[0]:
        index = np.sort(np.random.default_rng(args.seed).choice(images.shape[0], args.n_faces, replace=False))
    heldout = split_people(person[index], ae["holdout"], args.seed)
    log.info("%d faces of %d people; %d held-out faces of %d people", index.size, np.unique(person[index]).size,
             heldout.sum(), np.unique(person[index][heldout]).size)
    train, test = images[index[~heldout]], images[index[heldout]]

    t0 = time.perf_counter()
    model, history = train_autoencoder(
        train, test, code_dim=ae["code_dim"], channels=ae["channels"], epochs=ae["epochs"],
        batch_size=ae["batch_size"], lr=ae["lr"], flip=ae["flip"], seed=args.seed,
        device=device,
    )
    seconds = time.perf_counter() - t0
    codes = encode_images(model, images[index])
    rec_test = decode_codes(model, codes[heldout])
    rec_train = decode_codes(model, codes[~heldout][: min(2000, int((~heldout).sum()))])
    p_test = psnr(test, rec_test)
    p_train = psnr(train[: rec_train.shape[0]], rec_train)
    log.info("trained in %.0f s; held-out PSNR %.2f dB (train %.2f dB)", seconds, p_test.mean(), p_train.mean())

    with files.atomic_path(args.checkpoint, suffix=".pt") as tmp:
        torch.save({"state_dict": model.state_dict(), "config": model.config, "history": history, "seed": args.seed}, tmp)
    files.save_npz(args.codes, codes=codes.astype(np.float32), image_index=index, image_id=image_id[index],
                 person=person[index], heldout=heldout)
    files.save_json(args.summary, {
        "n_faces": int(index.size), "n_train": int((~heldout).sum()), "n_heldout": int(heldout.sum()),
        "n_people": int(np.unique(person[index]).size), "n_heldout_people": int(np.unique(person[index][heldout]).size),
        "image_size": int(images.shape[1]), "model": model.config, "epochs": ae["epochs"], "batch_size": ae["batch_size"],
        "lr": ae["lr"], "flip": ae["flip"], "seed": args.seed, "threads": args.threads,
        "n_parameters": int(sum(q.numel() for q in model.parameters())), "train_seconds": seconds,
        "heldout_psnr_mean": float(p_test.mean()), "heldout_psnr_median": float(np.median(p_test)),
        "train_psnr_mean": float(p_train.mean()), "history": history,
        "pretrained": False,
        "note": "no pretrained face autoencoder can be fetched; this one is trained here from scratch",
    })


if __name__ == "__main__":
    files.run_main(main)

"""Stage: build one seed's face code (PCA encoder, PCA decoder + learned correction), encode every face, measure it.

    python -m musicsom.pipeline.faces.autoencoder --faces results/data/lfw_faces.npz --n-faces 0 \
        --autoencoder '{"holdout": 0.1, "code_dim": 512, "width": 32, "depth": 5, "epochs": 2, "batch_size": 16,
        "lr": 0.002, "warmup": 50, "ssim_weight": 0.0, "pca_iterations": 3}' --pca-components 128 \
        --seed 0 --threads 1 --device cpu --checkpoint results/faces/seed0/autoencoder.pt \
        --codes results/faces/seed0/codes.npz --summary results/faces/seed0/autoencoder.json

No pretrained face model can be fetched, so the code is built here per face seed (the seed draws the subset,
the person split, the randomized SVD, the initialisation and the batches). The split is by person: a
``holdout`` share of the people (no identity on both sides) is held out. ``--n-faces`` > 0 keeps a seeded
random subset of the images (the smoke run). Outputs: a checkpoint (the PCA, the correction's weights, the
settings, the history), the codes of every kept face (float32) with ``image_id``, ``person`` and the ``heldout``
mask, and a JSON summary with the held-out PSNR and SSIM of three decodings: the code (``code``), the PCA
reconstruction of the same code (``pca``, the linear reference) and the code through the SOM's whitened
``--pca-components``-d latent and back (``latent``, whitening fitted on the training codes as faces_latent
fits it: what the map's states decode to).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from musicsom.encoding import PCAWhitening
from musicsom.experiments.faces import split_people
from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_sections, section

log = logging.getLogger("musicsom.pipeline.faces.autoencoder")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--faces", required=True, help=".npz with images (n, S, S, 3) uint8, person, image_id")
    p.add_argument("--n-faces", type=int, required=True,
                   help="keep a seeded random subset of this many images, 0 = all (config faces.n_faces)")
    add_sections(p, "autoencoder")
    p.add_argument("--pca-components", type=int, required=True,
                   help="the SOM's whitened latent dimension, to measure the faces through it (config faces.pca_components)")
    p.add_argument("--seed", type=int, required=True,
                   help="the face seed: of the subset, the person split, the PCA's random start and the training")
    p.add_argument("--threads", type=int, required=True, help="torch threads (the rule's threads)")
    p.add_argument("--device", required=True,
                   help="where torch trains: cpu, cuda (cuda:N) or auto (CUDA if available, else CPU); config key device")
    p.add_argument("--checkpoint", required=True, help="output .pt")
    p.add_argument("--codes", required=True, help="output .npz")
    p.add_argument("--summary", required=True, help="output .json")
    args = p.parse_args(argv)
    ae = section(args, "autoencoder")

    import torch

    from musicsom.experiments.models import checkpoint, resolve_device, seed_everything
    from musicsom.experiments.models.face_autoencoder import decode_codes, encode_images, psnr, ssim, train_autoencoder

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
    if not 1 <= args.pca_components <= ae["code_dim"]:
        raise ValueError(f"faces.pca_components = {args.pca_components} must be in [1, faces.autoencoder.code_dim = "
                         f"{ae['code_dim']}]: the latent is a PCA of the codes. Lower faces.pca_components")

    t0, c0 = time.perf_counter(), time.process_time()
    model, history = train_autoencoder(  # no per-epoch validation: the held-out people are measured below
        train, None, code_dim=ae["code_dim"], width=ae["width"], depth=ae["depth"], epochs=ae["epochs"],
        batch_size=ae["batch_size"], lr=ae["lr"], warmup=ae["warmup"], ssim_weight=ae["ssim_weight"],
        pca_iterations=ae["pca_iterations"], seed=args.seed, device=device,
    )
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    codes = encode_images(model, images[index])
    # the SOM's latent: whitening fitted on the training codes (as faces_latent does), the held-out codes through it
    whitening = PCAWhitening(args.pca_components).fit(codes[~heldout])
    latent_codes = whitening.decode(whitening.encode(codes[heldout]))
    decoded = {"code": decode_codes(model, codes[heldout]), "pca": decode_codes(model, codes[heldout], corrected=False),
               "latent": decode_codes(model, latent_codes)}
    heldout_scores = {}
    for name, rec in decoded.items():
        p_img, s_img = psnr(test, rec), ssim(test, rec)
        heldout_scores[name] = {"psnr_mean": float(p_img.mean()), "psnr_median": float(np.median(p_img)),
                                "ssim_mean": float(s_img.mean())}
    n_check = min(2000, train.shape[0])
    train_psnr = float(psnr(train[:n_check], decode_codes(model, codes[~heldout][:n_check])).mean())
    log.info("built in %.0f s; held-out PSNR %.2f dB (PCA alone %.2f dB, through the %d-d latent %.2f dB; train %.2f dB)",
             seconds, heldout_scores["code"]["psnr_mean"], heldout_scores["pca"]["psnr_mean"], args.pca_components,
             heldout_scores["latent"]["psnr_mean"], train_psnr)

    with files.atomic_path(args.checkpoint, suffix=".pt") as tmp:
        torch.save(checkpoint(model, history, seed=args.seed), tmp)
    files.save_npz(args.codes, codes=codes.astype(np.float32), image_index=index, image_id=image_id[index],
                   person=person[index], heldout=heldout)
    files.save_json(args.summary, {
        "seed": args.seed, "threads": args.threads, "device": str(device),
        "n_faces": int(index.size), "n_train": int((~heldout).sum()), "n_heldout": int(heldout.sum()),
        "n_people": int(np.unique(person[index]).size), "n_heldout_people": int(np.unique(person[index][heldout]).size),
        "image_size": int(images.shape[1]), "model": model.config, "settings": dict(ae),
        "latent_components": args.pca_components,
        "n_parameters": int(sum(q.numel() for q in model.correction.parameters())),
        "train_seconds": seconds, "train_cpu_seconds": cpu_seconds, "pca_seconds": history[0]["pca_seconds"],
        "heldout": heldout_scores, "train_psnr_mean": train_psnr, "history": history,
        "ssim": "pytorch_msssim.ssim: 11-pixel Gaussian window, sigma 1.5, data range 1, mean over RGB",
        "pretrained": False,
        "note": "encoder: PCA of the training faces' pixels; decoder: PCA reconstruction + a convolutional correction "
                "trained here from scratch (no pretrained face model can be fetched)",
    })


if __name__ == "__main__":
    files.run_main(main)

"""The face code against PCA on the pixels: held-out PSNR and SSIM of LFW faces, and the time to build it.

    .venv/bin/python benchmarks/bench_face_code.py --old-checkpoint RUN/results/faces/autoencoder.pt   # ~6 min
    .venv/bin/python benchmarks/bench_face_code.py --no-doc --skip-old

Data: the project's LFW crop (``data.lfw`` of config.yaml: every one of the 13,233 deep-funneled images,
centre crop, resized; read from a prepared ``lfw_faces.npz`` with ``--faces`` or prepared here from the data
mirror and cached) and the pipeline's person-level split (``split_people`` with ``faces.autoencoder.holdout``
and ``--seed``): fitted on the training people, measured on the held-out people. Rows:

- PCA-k on the pixels (k = 64, 128, 512): mean + projection on the k leading axes of one randomized SVD with
  ``--reference-iterations`` power iterations (converged; the face code's own PCA uses
  ``faces.autoencoder.pca_iterations``, its row "PCA alone" shows what that costs);
- the earlier face code, a convolutional autoencoder (kept here, not in the package: 4×4 stride-2 blocks of
  16-128 channels, 512-d code, pixel MSE, 8 epochs), loaded from a checkpoint of the earlier pipeline
  (``--old-checkpoint``, trained on the same split by seed 0) or trained here (``--old-epochs``);
- the face code (``musicsom.experiments.models.face_autoencoder``, settings ``faces.autoencoder`` of
  config.yaml): its PCA reconstruction alone, the code, the code with its correction trained on
  L1 + ``--ssim-row`` × (1 − SSIM) instead, and the code through the SOM's whitened
  ``faces.pca_components``-d latent (whitening fitted on the training codes, as faces_latent does) and back:
  what the map's states decode to.

PSNR: per image, pixels in [0, 1] after the uint8 rounding every decoder applies; SSIM: ``pytorch_msssim.ssim``
(11-pixel Gaussian window, σ = 1.5, data range 1, mean over RGB). Times: wall and CPU seconds of one torch and
BLAS thread (``--threads``); on a loaded machine the CPU time is the better guide to a quiet machine's wall time.
``--figure`` writes held-out faces through each decoder (docs/figures/face_code.png without ``--no-doc``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

FIGURE = common.ROOT / "docs" / "figures" / "face_code.png"


# ---------------------------------------------------------------- the earlier face code, kept for comparison
def old_autoencoder_class():
    """The convolutional autoencoder of the earlier pipeline (its checkpoints load into this class)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class OldConvAutoencoder(nn.Module):
        def __init__(self, size: int = 64, code_dim: int = 512, channels=(16, 32, 64, 128)):
            super().__init__()
            channels = [int(c) for c in channels]
            self.config = {"size": int(size), "code_dim": int(code_dim), "channels": channels}
            self.side = int(size) // 2 ** len(channels)
            enc, c_in = [], 3
            for c in channels:
                enc += [nn.Conv2d(c_in, c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                c_in = c
            self.encoder = nn.Sequential(*enc)
            flat = channels[-1] * self.side * self.side
            self.to_code = nn.Linear(flat, int(code_dim))
            self.from_code = nn.Linear(int(code_dim), flat)
            dec, rev = [], channels[::-1]
            for i, c in enumerate(rev):
                last = i == len(rev) - 1
                c_out = 3 if last else rev[i + 1]
                dec.append(nn.ConvTranspose2d(c, c_out, 4, stride=2, padding=1, bias=last))
                if not last:
                    dec += [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            self.decoder = nn.Sequential(*dec)

        def forward(self, x):
            c = self.config["channels"][-1]
            h = F.relu(self.from_code(self.to_code(self.encoder(x).flatten(1))))
            return torch.sigmoid(self.decoder(h.view(x.shape[0], c, self.side, self.side)))

    return OldConvAutoencoder


def train_old(train, epochs: int, seed: int):
    """The earlier training: pixel MSE, Adam (lr 1e-3, cosine decay), batches of 64, horizontal flips."""
    import torch
    from torch.nn import functional as F

    from musicsom.experiments.models.face_autoencoder import images_to_tensor

    x = images_to_tensor(train)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = old_autoencoder_class()(x.shape[2])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = epochs * math.ceil(x.shape[0] / 64)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(x.shape[0], generator=gen)
        for s in range(0, x.shape[0], 64):
            xb = x[order[s : s + 64]]
            mask = torch.rand(xb.shape[0], generator=gen) < 0.5
            xb = torch.where(mask[:, None, None, None], xb.flip(3), xb)
            loss = F.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def run_old(model, images) -> np.ndarray:
    import torch

    from musicsom.experiments.models.face_autoencoder import images_to_tensor

    with torch.no_grad():
        out = [model(images_to_tensor(images[s : s + 256])) for s in range(0, len(images), 256)]
    return (torch.cat(out).clamp(0, 1).numpy().transpose(0, 2, 3, 1) * 255.0 + 0.5).astype(np.uint8)


# ---------------------------------------------------------------- data
def project_lfw(faces_path: str | None) -> tuple[dict, dict]:
    """(the faces {images, person}, config.yaml) at the project's crop: ``--faces`` or the mirror, cached."""
    import yaml

    config = yaml.safe_load((common.ROOT / "config.yaml").read_text())
    lfw = {"crop": 125, "size": 64, **(config.get("data", {}).get("lfw") or {})}
    if faces_path:
        with np.load(faces_path) as f:
            faces = {"images": f["images"], "person": f["person"].astype(str)}
        if faces["images"].shape[1] != lfw["size"]:
            raise SystemExit(f"{faces_path} holds {faces['images'].shape[1]}-pixel faces; config.yaml's data.lfw.size is {lfw['size']}")
        return faces, config
    common.CACHE.mkdir(parents=True, exist_ok=True)
    cached = common.CACHE / f"lfw_faces_crop{lfw['crop']}_size{lfw['size']}.npz"
    if not cached.exists():
        from musicsom.pipeline.datasets.lfw import load_faces

        archive = common.mnist_dir().parent / "lfw" / "lfw-deepfunneled.tar.gz"
        if not archive.exists():
            raise SystemExit(f"no LFW archive at {archive}: set MUSICSOM_DATA_MIRROR or pass --faces results/data/lfw_faces.npz")
        d = load_faces(archive, lfw["crop"], lfw["size"])
        np.savez(cached, images=d["images"], person=d["person"])
    with np.load(cached) as f:
        return {"images": f["images"], "person": f["person"].astype(str)}, config


# ---------------------------------------------------------------- measures
def scores(reference, reconstruction) -> dict:
    from musicsom.experiments.models.face_autoencoder import psnr, ssim

    p, s = psnr(reference, reconstruction), ssim(reference, reconstruction)
    return {"psnr_mean": float(p.mean()), "psnr_median": float(np.median(p)), "ssim_mean": float(s.mean())}


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def pca_decode(x, mean, components, k: int, size: int) -> np.ndarray:
    """uint8 faces: mean + projection of the (n, 3·S·S) pixels ``x`` on the first ``k`` axes."""
    c = components[:k]
    rec = (mean + ((x - mean) @ c.T) @ c).clamp(0, 1)
    return (rec.view(-1, 3, size, size).numpy().transpose(0, 2, 3, 1) * 255.0 + 0.5).astype(np.uint8)


def face_figure(path: Path, rows: list[tuple[str, np.ndarray]], n: int) -> None:
    from musicsom.pipeline.files import setup_matplotlib

    plt = setup_matplotlib()
    fig, axes = plt.subplots(len(rows), n, figsize=(1.0 * n + 1.9, 1.02 * len(rows) + 0.2), squeeze=False)
    for i, (label, images) in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(images[j], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.subplots_adjust(wspace=0.04, hspace=0.06, left=1.7 / (1.0 * n + 1.9), right=0.99, top=0.99, bottom=0.01)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", help="a prepared lfw_faces.npz (default: prepared here from the data mirror, cached)")
    ap.add_argument("--seed", type=int, default=0, help="the face seed: person split, PCA start, training")
    ap.add_argument("--n-faces", type=int, default=0, help="a seeded random subset of this many faces (0 = all; for trying it out)")
    ap.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    ap.add_argument("--reference-iterations", type=int, default=8, help="power iterations of the reference PCA-k")
    ap.add_argument("--old-checkpoint", help="a checkpoint of the earlier convolutional autoencoder (results/faces/autoencoder.pt)")
    ap.add_argument("--old-epochs", type=int, default=8, help="without --old-checkpoint: train the earlier autoencoder this long")
    ap.add_argument("--skip-old", action="store_true", help="leave the earlier autoencoder out")
    ap.add_argument("--ssim-row", type=float, default=0.2,
                    help="one more row: the face code trained with this faces.autoencoder.ssim_weight (0: none)")
    ap.add_argument("--faces-shown", type=int, default=8, help="held-out faces in the figure")
    ap.add_argument("--figure", help=f"write the figure here (default {FIGURE.relative_to(common.ROOT)} without --no-doc)")
    ap.add_argument("--no-doc", action="store_true", help="print only: do not write docs/benchmarks.md, the JSON or the figure")
    args = ap.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    from musicsom.encoding import PCAWhitening
    from musicsom.experiments.faces import split_people
    from musicsom.experiments.models.face_autoencoder import (
        decode_codes, encode_images, fit_pca, images_to_tensor, train_autoencoder,
    )

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    rec = common.machine_record()
    faces, config = project_lfw(args.faces)
    ae = config["faces"]["autoencoder"]
    latent_dim = int(config["faces"]["pca_components"])
    images, person = faces["images"], faces["person"]
    if 0 < args.n_faces < len(images):
        keep = np.sort(np.random.default_rng(args.seed).choice(len(images), args.n_faces, replace=False))
        images, person = images[keep], person[keep]
    size = images.shape[1]
    heldout = split_people(person, ae["holdout"], args.seed)
    train, test = images[~heldout], images[heldout]
    print(f"{len(train)} training faces, {len(test)} held-out faces of {np.unique(person[heldout]).size} people", flush=True)
    results, decoded = [], {"original": test}

    def add(name, dims, rec_images, wall=None, cpu=None, note=""):
        row = {"decoder": name, "dims": dims, **scores(test, rec_images), "wall_s": wall, "cpu_s": cpu, "note": note}
        results.append(row)
        took = "".join(f", {v:.0f} s {what}" for v, what in ((wall, "wall"), (cpu, "CPU")) if v is not None)
        print(f"{name}: {row['psnr_mean']:.2f} dB, SSIM {row['ssim_mean']:.4f}{took}", flush=True)

    # PCA-k on the pixels
    x_train = images_to_tensor(train).flatten(1)
    x_test = images_to_tensor(test).flatten(1)
    (mean, comp), wall, cpu = timed(lambda: fit_pca(x_train, 512, iterations=args.reference_iterations, seed=args.seed))
    del x_train
    for k in (64, 128, 512):
        decoded[f"PCA-{k}"] = pca_decode(x_test, mean, comp, k, size)
        add(f"PCA-{k} on the pixels", k, decoded[f"PCA-{k}"], *((wall, cpu) if k == 512 else (None, None)),
            note=f"randomized SVD, {args.reference_iterations} power iterations" if k == 512 else "")

    # the earlier convolutional autoencoder
    if not args.skip_old:
        if args.old_checkpoint:
            ck = torch.load(args.old_checkpoint, map_location="cpu", weights_only=True)
            if ck.get("seed", args.seed) != args.seed:
                raise SystemExit(f"{args.old_checkpoint} was trained with seed {ck.get('seed')}, not --seed {args.seed}")
            old = old_autoencoder_class()(**ck["config"])
            old.load_state_dict(ck["state_dict"])
            old.eval()
            hist = ck.get("history") or []
            add("earlier conv autoencoder", old.config["code_dim"], run_old(old, test),
                sum(h.get("seconds", 0.0) for h in hist) or None,
                note=f"checkpoint of the earlier pipeline ({len(hist)} epochs; its training's wall time)")
        else:
            old, wall, cpu = timed(lambda: train_old(train, args.old_epochs, args.seed))
            add("earlier conv autoencoder", 512, run_old(old, test), wall, cpu, note=f"trained here, {args.old_epochs} epochs")

    # the face code, as the pipeline builds it
    settings = {k: ae[k] for k in ("code_dim", "width", "depth", "epochs", "batch_size", "lr", "warmup", "ssim_weight",
                                   "pca_iterations")}
    torch.manual_seed(args.seed)
    (model, history), wall, cpu = timed(lambda: train_autoencoder(train, None, seed=args.seed, progress=False, **settings))
    codes_train, codes_test = encode_images(model, train), encode_images(model, test)
    d = settings["code_dim"]
    add(f"face code: its PCA-{d} alone", d, decode_codes(model, codes_test, corrected=False),
        history[0]["pca_seconds"], history[0]["pca_cpu_seconds"], note=f"{settings['pca_iterations']} power iterations")
    decoded["code"] = decode_codes(model, codes_test)
    add(f"face code (PCA-{d} + correction)", d, decoded["code"], wall, cpu,
        note=f"width {settings['width']}, depth {settings['depth']}, {settings['epochs']} epoch(s), batch {settings['batch_size']}, "
             f"ssim_weight {settings['ssim_weight']}")
    if args.ssim_row and args.ssim_row != settings["ssim_weight"]:
        other = {**settings, "ssim_weight": args.ssim_row}
        torch.manual_seed(args.seed)
        (model_b, _), wall_b, cpu_b = timed(lambda: train_autoencoder(train, None, seed=args.seed, progress=False, **other))
        add(f"face code, loss (1 − w) L1 + w (1 − SSIM), w = {args.ssim_row}", d, decode_codes(model_b, encode_images(model_b, test)),
            wall_b, cpu_b, note="the same settings otherwise")
        del model_b
    whitening = PCAWhitening(latent_dim).fit(codes_train)
    decoded["latent"] = decode_codes(model, whitening.decode(whitening.encode(codes_test)))
    add(f"face code → {latent_dim}-d latent → image", latent_dim, decoded["latent"],
        note="what the SOM's states decode to (faces.pca_components)")

    header = ["decoder", "code dims", "PSNR mean (dB)", "PSNR median (dB)", "SSIM mean", "build: wall s", "build: CPU s", "note"]
    rows = [[r["decoder"], r["dims"], f"{r['psnr_mean']:.2f}", f"{r['psnr_median']:.2f}", f"{r['ssim_mean']:.4f}",
             "" if r["wall_s"] is None else f"{r['wall_s']:.0f}", "" if r["cpu_s"] is None else f"{r['cpu_s']:.0f}", r["note"]]
            for r in results]
    lfw = {"crop": 125, "size": 64, **(config.get("data", {}).get("lfw") or {})}
    text = (
        f"### Face code vs PCA on LFW (held-out people, seed {args.seed})\n\n"
        + common.machine_lines(rec)
        + f"- torch {torch.__version__}, {args.threads} torch / BLAS thread(s)\n"
        + f"\nLFW deep-funneled, centre crop {lfw['crop']} px → {size}×{size} RGB (data.lfw); person split "
        f"`split_people(holdout = {ae['holdout']}, seed {args.seed})`: {len(train)} training faces, {len(test)} held-out "
        f"faces of {np.unique(person[heldout]).size} people. Fitted on the training faces, measured on the held-out ones. "
        "PSNR per image on [0, 1] after uint8 rounding; SSIM: `pytorch_msssim.ssim` (11-px Gaussian window, σ 1.5, data "
        "range 1, mean over RGB). Build times: the PCA fit, the training (PCA included for the face code).\n\n"
        + common.md_table(header, rows)
    )
    print(text)
    if not args.no_doc or args.figure:
        n = min(args.faces_shown, len(test))
        pick = np.random.default_rng(args.seed).choice(len(test), n, replace=False)
        fig_rows = [("original", decoded["original"]), ("PCA-128", decoded["PCA-128"]), ("PCA-512", decoded["PCA-512"]),
                    (f"face code\n(PCA-{d} + correction)", decoded["code"]), (f"face code through\nthe {latent_dim}-d latent", decoded["latent"])]
        face_figure(Path(args.figure) if args.figure else FIGURE, [(label, imgs[pick]) for label, imgs in fig_rows], n)
    if not args.no_doc:
        common.save_json("bench_face_code", {"machine": rec, "seed": args.seed, "threads": args.threads, "settings": settings,
                                             "latent_dim": latent_dim, "n_train": int(len(train)), "n_heldout": int(len(test)),
                                             "rows": results, "history": history})
        common.write_section("face-code", text)


if __name__ == "__main__":
    main()

"""Distribution metrics in LeNet features on real MNIST: the LeNet's cost, sanity checks of the metrics, package agreement.

    .venv/bin/python benchmarks/bench_distribution_metrics.py                 # 3 seeds, every check, writes the doc
    .venv/bin/python benchmarks/bench_distribution_metrics.py --seeds 0 --no-doc

1. Training (one CPU thread, the pipeline's ``mnist.features`` defaults of workflow/schemas/config.schema.yaml):
   per seed, the wall time of :func:`~musicsom.experiments.models.lenet.train_lenet` on the 60,000 training
   images and the accuracy on the 10,000 test images. Target: ≤ 60 s and ≥ 98.5 %.
2. Sanity (the first seed's LeNet): :func:`~musicsom.experiments.distribution.compare_sets` with the real set
   = ``n`` random test images, as the ``mnist_features`` floor does, against sets of ``n`` training images:
   untouched (the floor), Gaussian-blurred (σ in pixels), with additive Gaussian noise (clipped to [0, 1]),
   and restricted to some digit classes. Every other set must sit far above the floor, and the Fréchet
   distance must grow with the blur. Per further seed: the floor and the σ = 1 blur's FD.
3. Agreement: the module's functions against independent computations on the same inputs — PRDC by the
   ``prdc`` package (what the module calls) against a brute-force scipy ``cdist`` version written here, FD
   and KD written in the module against ``torchmetrics`` (FID with an identity feature module; KID with a
   single subset holding every sample, so that its unseeded subset draw does not matter) where installed,
   and the FD's trace term against the symmetric-eigenvalue route. On Gaussian sets and on LeNet features.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from bench_knn import mnist_digits  # noqa: E402

from musicsom.experiments import distribution as dist  # noqa: E402
from musicsom.experiments.models import seed_everything  # noqa: E402
from musicsom.experiments.models.lenet import lenet_accuracy, lenet_features, train_lenet  # noqa: E402


def schema_defaults() -> dict:
    """The ``mnist.features`` defaults of the config schema (what config.yaml runs)."""
    import yaml

    schema = yaml.safe_load((common.ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    props = schema["properties"]["mnist"]["properties"]["features"]["properties"]
    return {key: spec["default"] for key, spec in props.items()}


# ---------------------------------------------------------------- independent references
def brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    """Precision, recall, density, coverage from exact scipy distances and sorted rows (no shared code)."""
    from scipy.spatial.distance import cdist

    r_rad = np.sort(cdist(real, real), axis=1)[:, k]  # column 0 is the point itself
    f_rad = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(real, fake)
    inside = d < r_rad[:, None]
    return {"precision": inside.any(0).mean(), "recall": (d < f_rad[None, :]).any(1).mean(),
            "density": inside.sum(0).mean() / k, "coverage": (d.min(1) < r_rad).mean()}


def eigh_fd(a: np.ndarray, b: np.ndarray) -> float:
    """FD with tr((Σa Σb)^½) as Σ sqrt(eig(Σa^½ Σb Σa^½)) (symmetric, no sqrtm)."""
    ma, mb = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(sa)
    # round-off of a singular covariance's zero eigenvalues (~1e-16 of the largest) has square roots of
    # ~1e-8 of the largest's: summed over a dozen silent features they would move the FD by ~1e-6
    w[w < 1e-12 * w.max()] = 0.0
    root = (v * np.sqrt(w)) @ v.T
    lam = np.linalg.eigvalsh(root @ sb @ root)
    lam[lam < 1e-12 * lam.max()] = 0.0
    return float((ma - mb) @ (ma - mb) + np.trace(sa) + np.trace(sb) - 2 * np.sqrt(lam).sum())


def mp_fd(a: np.ndarray, b: np.ndarray, digits: int = 40) -> float:
    """FD with the trace term at ``digits`` digits (mpmath), from the float64 means and covariances: the reference
    where the float64 routes part (near-singular covariances). Features constant in both sets are left out
    (zero rows and columns: exact)."""
    import mpmath

    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    live = (a.var(0) > 0) | (b.var(0) > 0)
    with mpmath.workdps(digits):
        prod = mpmath.matrix(sa[np.ix_(live, live)].tolist()) * mpmath.matrix(sb[np.ix_(live, live)].tolist())
        tr = sum(mpmath.re(mpmath.sqrt(e)) for e in mpmath.eig(prod, left=False, right=False))
        diff = mpmath.matrix((a.mean(0) - b.mean(0)).tolist())
        fd = (diff.T * diff)[0] + mpmath.fsum(np.diag(sa)) + mpmath.fsum(np.diag(sb)) - 2 * tr
    return float(fd)


def torchmetrics_fd_kd(a: np.ndarray, b: np.ndarray):
    """(FID, KID over one subset of every sample) by torchmetrics, or None when it is not installed."""
    try:
        import torch
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.kid import KernelInceptionDistance
    except ImportError:
        return None
    import warnings

    class Identity(torch.nn.Module):
        num_features = a.shape[1]

        def forward(self, x):
            return x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fid = FrechetInceptionDistance(feature=Identity())
        fid.update(torch.from_numpy(a), real=True)
        fid.update(torch.from_numpy(b), real=False)
        m = min(len(a), len(b))
        kid = KernelInceptionDistance(feature=Identity(), subsets=1, subset_size=m)
        kid.update(torch.from_numpy(a[:m]), real=True)
        kid.update(torch.from_numpy(b[:m]), real=False)
        return float(fid.compute()), float(kid.compute()[0])


# ---------------------------------------------------------------- image sets
def blurred(images: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    x = images.astype(np.float64) / 255.0
    return gaussian_filter(x, sigma=(0.0, sigma, sigma), mode="constant")


def noisy(images: np.ndarray, std: float, seed: int) -> np.ndarray:
    x = images.astype(np.float64) / 255.0
    return np.clip(x + std * np.random.default_rng(seed).standard_normal(x.shape), 0.0, 1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="LeNets to train (the first runs the sanity table)")
    ap.add_argument("--n", type=int, default=None, help="images per set (default: mnist.features.n_floor)")
    ap.add_argument("--blur", type=float, nargs="+", default=[0.5, 1.0, 2.0, 3.0], help="blur σ in pixels")
    ap.add_argument("--noise", type=float, nargs="+", default=[0.05, 0.1, 0.2], help="additive noise std (pixels in [0, 1])")
    ap.add_argument("--no-doc", action="store_true", help="print only: do not write docs/benchmarks.md or the JSON")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    rec = common.machine_record()
    cfg = schema_defaults()
    n = int(args.n or cfg["n_floor"])
    metric_kw = {"k": int(cfg["k"]), "n_subsets": int(cfg["n_subsets"]), "subset_size": min(int(cfg["subset_size"]), n)}
    d = mnist_digits()
    rng = np.random.default_rng([0, 23])
    i_test = np.sort(rng.choice(len(d["x_test"]), n, replace=False))
    i_train = np.sort(rng.choice(len(d["x_train"]), n, replace=False))
    x_train = d["x_train"][i_train]

    # 1. training, per seed
    models, train_rows, raw = {}, [], {"config": cfg, "n": n, "metric": metric_kw, "seeds": {}}
    for seed in args.seeds:
        seed_everything(seed, threads=1)
        t0 = time.perf_counter()
        model, history = train_lenet(d["x_train"], d["y_train"], epochs=int(cfg["epochs"]), batch_size=int(cfg["batch_size"]),
                                     lr=float(cfg["lr"]), seed=seed)
        secs = time.perf_counter() - t0
        acc = lenet_accuracy(model, d["x_test"], d["y_test"])
        models[seed] = model
        raw["seeds"][seed] = {"train_seconds": secs, "test_accuracy": acc, "history": history}
        print(f"seed {seed}: {secs:.1f} s, test accuracy {acc:.4f}", flush=True)

    # 2. sanity: the first seed in full, the floor and sigma = 1 for every seed
    def row_sets():
        yield "floor: training images", x_train
        for s in args.blur:
            yield f"blur σ = {s:g} px", blurred(x_train, s)
        for s in args.noise:
            yield f"noise std {s:g}", noisy(x_train, s, seed=1)
        for name, classes in (("digits 0–4 only", (0, 1, 2, 3, 4)), ("digit 1 only", (1,))):
            pick = np.flatnonzero(np.isin(d["y_train"], classes))
            yield name, d["x_train"][np.sort(np.random.default_rng(2).choice(pick, n, replace=False))]

    sanity_rows = []
    first = args.seeds[0]
    real = lenet_features(models[first], d["x_test"][i_test])
    raw["sanity"] = []
    for name, images in row_sets():
        t0 = time.perf_counter()
        m = dist.compare_sets(real, lenet_features(models[first], images), seed=first, **metric_kw)
        secs = time.perf_counter() - t0
        raw["sanity"].append({"set": name, **m, "seconds": secs})
        sanity_rows.append([name, m["fd"], m["kd"], m["kd_std"], m["precision"], m["recall"], m["density"], m["coverage"]])
        print(f"{name}: {m} ({secs:.1f} s)", flush=True)
    floor_fd = raw["sanity"][0]["fd"]
    blur_fd = [r["fd"] for r in raw["sanity"] if r["set"].startswith("blur")]
    monotone = bool(np.all(np.diff(blur_fd) > 0))
    closest = min(raw["sanity"][1:], key=lambda r: r["fd"])
    ratio = closest["fd"] / floor_fd
    per_seed_rows = []
    for seed in args.seeds:
        feats = real if seed == first else lenet_features(models[seed], d["x_test"][i_test])
        fl = dist.frechet_distance(feats, lenet_features(models[seed], x_train))
        b1 = dist.frechet_distance(feats, lenet_features(models[seed], blurred(x_train, 1.0)))
        s = raw["seeds"][seed]
        s.update(floor_fd=fl, blur1_fd=b1)
        per_seed_rows.append([seed, s["train_seconds"], f"{100 * s['test_accuracy']:.2f} %", fl, b1, f"{b1 / fl:.0f}×"])

    # 3. agreement with independent computations
    g = np.random.default_rng(5)
    cases = {
        "Gaussian, 84-d (1,500 vs 1,200)": (g.standard_normal((1500, 84)), 1.1 * g.standard_normal((1200, 84)) + 0.05),
        "ReLU of Gaussian, 84-d, 10 dead units": tuple(np.maximum(g.standard_normal((1500, 84)) + c, 0) * (np.arange(84) >= 10)
                                                       for c in (0.0, 0.2)),
        "LeNet: test vs training images": (real, lenet_features(models[first], x_train)),
        "LeNet: test vs blurred (σ = 1)": (real, lenet_features(models[first], blurred(x_train, 1.0))),
    }
    agree_rows = []
    raw["agreement"] = []
    for name, (a, b) in cases.items():
        ours_p, ref_p = dist.prdc(a, b, metric_kw["k"]), brute_prdc(a, b, metric_kw["k"])
        dp = max(abs(ours_p[key] - ref_p[key]) for key in ours_p)
        fd = dist.frechet_distance(a, b)
        d_eigh = abs(fd - eigh_fd(a, b)) / max(abs(fd), 1e-300)
        d_mp = abs(fd - mp_fd(a, b)) / max(abs(fd), 1e-300)
        m = min(len(a), len(b))
        kd = dist.kernel_distance(a[:m], b[:m], 1, m, 0)[0]
        tm = torchmetrics_fd_kd(a, b)
        d_tfd = abs(fd - tm[0]) / max(abs(fd), 1e-300) if tm else None
        d_tkd = abs(kd - tm[1]) / max(abs(kd), 1e-300) if tm else None
        raw["agreement"].append({"case": name, "prdc_max_abs_diff": dp, "fd": fd, "fd_rel_diff_eigh": d_eigh,
                                 "fd_rel_diff_40_digits": d_mp, "kd_full": kd,
                                 "fd_rel_diff_torchmetrics": d_tfd, "kd_rel_diff_torchmetrics": d_tkd})
        fmt = (lambda v: "n/a" if v is None else f"{v:.1e}")
        agree_rows.append([name, f"{dp:.1e}", f"{d_mp:.1e}", f"{d_eigh:.1e}", fmt(d_tfd), fmt(d_tkd)])
        print(f"agreement, {name}: PRDC {dp:.1e}, FD vs 40 digits {d_mp:.1e}, vs eigh {d_eigh:.1e}, "
              f"vs torchmetrics FD {fmt(d_tfd)}, KD {fmt(d_tkd)}", flush=True)
    try:
        from importlib.metadata import version

        versions = f"prdc {version('prdc')}, torchmetrics {version('torchmetrics')}"
    except Exception:  # torchmetrics absent: the column says n/a
        versions = "prdc (installed); torchmetrics not installed"
    t_all = float(np.median([r["seconds"] for r in raw["sanity"]]))

    text = (
        f"### Distribution metrics in LeNet features (MNIST, {n:,} images a set, k = {metric_kw['k']}, KID "
        f"{metric_kw['n_subsets']} subsets of {metric_kw['subset_size']})\n\n"
        + common.machine_lines(rec)
        + f"\nTraining on one CPU thread, the `mnist.features` defaults ({cfg['epochs']} epochs, batch {cfg['batch_size']}, "
        f"one-cycle peak lr {cfg['lr']}), 60,000 training images; accuracy on the 10,000 test images; FD floor = "
        f"{n:,} test vs {n:,} training images in that seed's features (target: ≤ 60 s, ≥ 98.5 %):\n\n"
        + common.md_table(["seed", "training s", "test accuracy", "FD floor", "FD blur σ = 1", "ratio"], per_seed_rows)
        + f"\nSanity, seed {first}'s features: real = {n:,} test images; each row's set = {n:,} training images (the same "
        f"images, transformed; the class rows draw their own). FD grows with the blur: {'yes' if monotone else '**no**'}; "
        f"the closest set ({closest['set']}) has {ratio:.1f}× the floor's FD. One `compare_sets` call: {t_all:.1f} s "
        "(median; one thread).\n\n"
        + common.md_table(["set vs test images", "FD", "KD", "KD std", "precision", "recall", "density", "coverage"], sanity_rows)
        + f"\nAgreement ({versions}): PRDC of the module (the `prdc` package) against a brute-force `cdist` version, max "
        "absolute difference; FD of the module (`scipy.linalg.sqrtm`) against its trace term taken to 40 digits "
        "(mpmath eigenvalues of the same covariances' product), the symmetric-eigenvalue route and torchmetrics' FID, "
        "and KD (one subset of every sample) against torchmetrics' KID, relative differences. LeNet features have "
        "units that fire on one image in 2,000 (variance ~1e-7): there the float64 routes part, and the 40-digit "
        "column says which one holds.\n\n"
        + common.md_table(["case", "PRDC", "FD vs 40 digits", "FD vs eigh", "FD vs torchmetrics", "KD vs torchmetrics"],
                          agree_rows)
    )
    print(text)
    if not args.no_doc:
        common.save_json("bench_distribution_metrics", {"machine": rec, **raw, "fd_monotone_in_blur": monotone})
        common.write_section("distribution-metrics", text)


if __name__ == "__main__":
    main()

"""k-NN manifold distance: ``KnnIndex.query`` (bound-pruned) vs the previous algorithm, side by side on real MNIST.

    .venv/bin/python benchmarks/bench_knn.py                          # every query set, median of 3 runs
    .venv/bin/python benchmarks/bench_knn.py --sets 1230 --repeats 1 --no-doc

Reference: the 60,000 MNIST training images (pixels/255, float32), k = 5. Queries: frames of linear
pixel-space interpolations between test images of a digit pair (10 pairs, as in the pipeline's Table 2),
201 frames per path, every ``stride``-th frame and the last, as ``_manifold_series`` queries them:
410 = 10 paths at stride 5 (robustness per dimension), 1230 = 30 paths at stride 5 (Table 2, one method),
201 = 1 path at stride 1 (transition), 4020 = 20 paths at stride 1. "before" is the previous algorithm
(kept here, not in the library): float32 scores of every reference row by a chunked GEMM (256 queries),
argpartition of the k + 8 best, float64 re-measure. "after" is ``KnnIndex.query``; its one-off build of
the bound space (first query) is timed apart. The last column checks that both give bit-identical distances.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.encoding import flatten_images  # noqa: E402
from musicsom.image_metrics import KnnIndex  # noqa: E402

PAIRS = [(0, 1), (1, 7), (2, 3), (3, 8), (4, 9), (5, 3), (6, 0), (7, 2), (8, 6), (9, 4)]
SETS = {410: (10, 5), 1230: (30, 5), 201: (1, 1), 4020: (20, 1)}  # queries: (paths, stride)


def before_query(ref: np.ndarray, ref_sq: np.ndarray, X, k: int = 5, margin: int = 8, chunk: int = 256) -> np.ndarray:
    """The previous ``KnnIndex.query``, verbatim: full float32 scores, argpartition of k + margin, float64 re-rank."""
    X = np.asarray(X)
    X = X.reshape(X.shape[0], -1).astype(np.float32)
    n_ref = ref.shape[0]
    m = min(n_ref, k + max(int(margin), 0))
    out = np.empty((X.shape[0], k))
    for s in range(0, X.shape[0], chunk):
        Q = X[s : s + chunk]
        score = ref_sq[None, :] - 2.0 * (Q @ ref.T)
        if m < n_ref:
            cand = np.argpartition(score, m - 1, axis=1)[:, :m]
        else:
            cand = np.broadcast_to(np.arange(n_ref), (Q.shape[0], n_ref))
        diff = Q[:, None, :].astype(np.float64) - ref[cand].astype(np.float64)
        exact = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        out[s : s + Q.shape[0]] = np.sort(exact, axis=1)[:, :k]
    return out


def mnist_digits() -> dict:
    """MNIST (uint8) through the project's loader, from the data mirror; cached under the benchmark cache."""
    common.CACHE.mkdir(parents=True, exist_ok=True)
    cached = common.CACHE / "mnist_digits_uint8.npz"
    if cached.exists():
        with np.load(cached) as f:
            return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    from musicsom.pipeline.datasets.mnist import load_digits

    d = load_digits(common.mnist_dir().parent)
    d = {k: d[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    np.savez(cached, **d)
    return d


def path_frames(d: dict, n_paths: int, stride: int, n_steps: int = 200, seed: int = 0) -> np.ndarray:
    """Every ``stride``-th frame (and the last) of ``n_paths`` linear paths test image → test image of the pair's target."""
    rng = np.random.default_rng(seed)
    X = flatten_images(d["x_test"])
    t = np.linspace(0.0, 1.0, n_steps + 1)[:, None]
    idx = np.arange(0, n_steps + 1, stride)
    idx = idx if idx[-1] == n_steps else np.append(idx, n_steps)
    frames = []
    for p in range(n_paths):
        a, b = PAIRS[p % len(PAIRS)]
        i = rng.choice(np.flatnonzero(d["y_test"] == a))
        j = rng.choice(np.flatnonzero(d["y_test"] == b))
        frames.append(((1.0 - t) * X[i] + t * X[j])[idx])
    return np.concatenate(frames)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, nargs="+", default=list(SETS), choices=list(SETS), help="query sets (number of queries)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true", help="print only: do not write docs/benchmarks.md or the JSON")
    args = ap.parse_args(argv)
    rec = common.machine_record()
    d = mnist_digits()
    ref = flatten_images(d["x_train"]).astype(np.float32)
    index = KnnIndex(ref)
    t0 = time.perf_counter()
    index.query(ref[:1], args.k)  # builds the bound space
    t_build = time.perf_counter() - t0
    rows, raw = [], []
    for n in args.sets:
        paths, stride = SETS[n]
        Q = path_frames(d, paths, stride)
        t_b, _, before = common.median_time(lambda: before_query(index.ref, index.ref_sq, Q, args.k), args.repeats)
        t_a, _, after = common.median_time(lambda: index.query(Q, args.k), args.repeats)
        same = bool(np.array_equal(before, after))
        raw.append({"queries": len(Q), "paths": paths, "stride": stride, "before_s": t_b, "after_s": t_a, "build_s": t_build,
                    "identical": same, "max_abs_diff": float(np.abs(before - after).max())})
        rows.append([len(Q), f"{paths} × 201 / {stride}", 1e6 * t_b / len(Q), 1e6 * t_a / len(Q), f"{t_b / t_a:.1f}×",
                     f"{t_b / (t_a + t_build):.1f}×", "yes" if same else "NO"])
        print(f"{len(Q)} queries: before {t_b:.3f} s, after {t_a:.3f} s ({t_b / t_a:.1f}×), identical {same}", flush=True)
    text = (
        f"### k-NN manifold distance on MNIST (k = {args.k}, 60,000 references, median of {args.repeats} runs)\n\n"
        + common.machine_lines(rec)
        + f"\nBefore: full float32 GEMM scores + argpartition (k + 8) + float64 re-rank; after: `KnnIndex.query` "
        f"(rank-96 lower bound, proven float32 allowance, float64 re-measure of the survivors). The bound space "
        f"is built once per index, on the first query: {t_build:.2f} s here (in the last speed-up column).\n\n"
        + common.md_table(["queries", "paths × frames / stride", "before ms / 1000 q", "after ms / 1000 q", "speed-up",
                           "speed-up incl. build", "identical"], rows)
    )
    print(text)
    if not args.no_doc:
        common.save_json("bench_knn", {"machine": rec, "repeats": args.repeats, "build_s": t_build, "rows": raw})
        common.write_section("knn", text)


if __name__ == "__main__":
    main()

"""Where a SOM epoch goes, the plain two-GEMM numpy SOM's and musicsom's: each part timed alone, beside the GEMM floor.

    .venv/bin/python benchmarks/bench_som_parts.py                 # both cases, the table of docs/benchmarks.md
    .venv/bin/python benchmarks/bench_som_parts.py --cases small --no-doc

``plain``: the parts of one epoch of ``common.plain_batch_som`` (the reference of bench_som.py), in
float64 and float32, on the cases of bench_som.py: the distance product per chunk of 4096 rows with
its argmin (GEMM 1, then the rest of the BMU search: the subtraction and the argmin, timed as the
difference), the per-unit sums by ``np.add.at`` (and, for comparison, by ``np.bincount`` per column),
the counts, the K × K Gaussian kernel, and its product with the sums (GEMM 2), with numpy's BLAS at
its default thread count, as the reference runs.

``musicsom``: the steps of ``SOM._epochs`` (``bmu_dtype`` float64 / float32), run by the library's
own objects as ``fit`` runs them (BLAS on one thread, the search's row blocks shared among
``n_threads`` = all CPUs): the products ``[x, 1]·[−2w, ‖w‖²]ᵀ`` per row block (the search with its
argmin left out), the argmin fused per block (the rest of the search, as the difference), the
per-unit sums and counts (``_UnitSums``), the separable neighbourhood (``_RectNeighbourhood``; and,
for comparison, the dense kernel of a hexagonal lattice of the same size, ``_HexNeighbourhood``) and
the new prototypes (``_new_prototypes``). The sum of the parts is set beside the epoch as fit runs
it, ``(t(fit, 12 epochs) − t(fit, 2)) / 10``: the difference is what the parts leave out (the
thread hand-offs, Python between the steps).

Each part is the median of ``--repeats`` timings after one warm-up call: wall clock ("ms", its
share of the epoch and its ratio to the floor) and CPU time of all the process's threads ("CPU ms",
steadier on a shared machine). The floor is ``2·N·K·(D+1)`` flops at the GEMM rate measured in the
same run (1500³, float64 and float32, numpy's default thread count).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from bench_som import CASES, load_case, sigmas  # noqa: E402

from musicsom.distances import _single_blas_thread, _to_frame, _TrainingBmus  # noqa: E402
from musicsom.som import SOM, _HexNeighbourhood, _new_prototypes, _RectNeighbourhood, _UnitSums  # noqa: E402


def _medians(fns, repeats: int) -> list[np.ndarray]:
    """Seconds of each ``fn()`` as (wall, CPU of all the process's threads), medians of ``repeats`` rounds.

    The functions take turns within each round, so that a part timed as the difference of two (the
    argmin) sees the same background load in both. CPU time is the steadier measure on a shared
    machine: time spent waiting for a core is not charged (the plain reference's OpenBLAS threads
    spin while they wait, which counts as CPU).
    """
    for fn in fns:
        fn()  # warm-up: first-touch page faults and thread start-up stay out of the timing
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            out.append((time.perf_counter() - wall, time.process_time() - cpu))
    return [np.median(t, axis=0) for t in times]


def _median(fn, repeats: int) -> np.ndarray:
    return _medians([fn], repeats)[0]


def parts(X, W, grid, dtype, repeats: int, chunk: int = 4096) -> dict[str, np.ndarray]:
    """(wall, CPU) seconds of each part of one plain epoch (see the module docstring)."""
    Xc, Wc = X.astype(dtype), W.astype(dtype)
    K, D = W.shape
    r, c = np.divmod(np.arange(K), grid[1])
    d2l = ((r[:, None] - r[None, :]) ** 2 + (c[:, None] - c[None, :]) ** 2).astype(np.float64)
    w2 = (Wc * Wc).sum(1)

    def bmus():
        return np.concatenate([(w2[None, :] - 2.0 * (Xc[s : s + chunk] @ Wc.T)).argmin(1) for s in range(0, X.shape[0], chunk)])

    bmu = bmus()

    def add_at():
        sums = np.zeros((K, D))
        np.add.at(sums, bmu, X)
        return sums

    sums = add_at()
    H = np.exp(-d2l / 8.0)

    def gemm1():
        for s in range(0, X.shape[0], chunk):
            Xc[s : s + chunk] @ Wc.T

    t_gemm1, t_bmus = _medians([gemm1, bmus], repeats)
    return {
        "GEMM 1 (X·Wᵀ per chunk)": t_gemm1,
        "‖w‖² − 2·XWᵀ and argmin": np.maximum(t_bmus - t_gemm1, 0.0),
        "np.add.at sums": _median(add_at, repeats),
        "bincount sums (alternative)": _median(lambda: np.stack([np.bincount(bmu, X[:, j], K) for j in range(D)], 1), repeats),
        "counts": _median(lambda: np.bincount(bmu, minlength=K), repeats),
        "K × K kernel": _median(lambda: np.exp(-d2l / 8.0), repeats),
        "GEMM 2": _median(lambda: (H @ np.bincount(bmu, minlength=K).astype(np.float64), H @ sums), repeats),
    }


def _products_only(search: _TrainingBmus, W: np.ndarray) -> None:
    """The search's products alone: ``_bmu_augmented`` without its argmin (same blocks, threads and claiming)."""
    Xa, bufs, pool = search.Xa, search.bufs, search.pool
    Wf = W if search.frame is None else _to_frame(W, search.frame)
    D = Wf.shape[1]
    Wa = np.empty((Wf.shape[0], D + 1), dtype=Xa.dtype)
    Wa[:, :D] = -2.0 * Wf
    Wa[:, D] = (Wf * Wf).sum(1)
    WaT = np.ascontiguousarray(Wa.T) if Xa.dtype == np.float32 else Wa.T
    block = bufs[0].shape[0]
    n_blocks = -(-Xa.shape[0] // block)
    claim, next_block = threading.Lock(), [0]

    def work(i: int) -> None:
        while True:
            with claim:
                b = next_block[0]
                next_block[0] = b + 1
            if b >= n_blocks:
                return
            xs = Xa[b * block : (b + 1) * block]
            np.matmul(xs, WaT, out=bufs[i][: xs.shape[0]])

    others = [pool.submit(work, i) for i in range(1, len(bufs))] if pool is not None else []
    work(0)
    for f in others:
        f.result()


def _fit_seconds(X, grid, dtype: str, epochs: int) -> np.ndarray:
    """(wall, CPU) seconds of ``SOM.fit`` with ``epochs`` epochs, bench_som.py's settings."""
    s0, s1 = sigmas(grid, epochs)
    som = SOM(grid, "rectangular", epochs, s0, s1, "pca", 0, bmu_dtype=dtype)
    wall, cpu = time.perf_counter(), time.process_time()
    som.fit(X)
    return np.array([time.perf_counter() - wall, time.process_time() - cpu])


def musicsom_parts(X, grid, dtype: str, repeats: int, short: int = 2, long: int = 12) -> dict[str, np.ndarray]:
    """(wall, CPU) seconds of each step of one musicsom epoch, as ``fit`` runs it (see the module docstring)."""
    rows, cols = grid
    K = rows * cols
    s0, s1 = sigmas(grid, long)
    som = SOM(grid, "rectangular", long, s0, s1, "pca", 0, bmu_dtype=dtype)
    p = som._checked_params()
    W = som.initial_prototypes(X, grid)
    sigma = float(np.sqrt(s0 * s1))  # mid-schedule; the cost of every step is the same for any σ
    with _TrainingBmus(X, K, np.dtype(dtype), p["chunk_size"], p["n_threads"]) as search, _single_blas_thread():
        t_products, t_search = _medians([lambda: _products_only(search, W), lambda: search(W)], repeats)
        bmu = search(W).copy()
        unit_sums = _UnitSums(X, K)
        sums, counts = unit_sums(bmu)
        rect, hexa = _RectNeighbourhood(rows, cols, False), _HexNeighbourhood(rows, cols, False)
        denom, numer = rect(sums, counts, sigma)
        got = {
            "products [x, 1]·[−2w, ‖w‖²]ᵀ per block (threads)": t_products,
            "argmin, fused per block": np.maximum(t_search - t_products, 0.0),
            "per-unit sums and counts": _median(lambda: unit_sums(bmu), repeats),
            "separable neighbourhood, applied": _median(lambda: rect(sums, counts, sigma), repeats),
            "hexagonal dense neighbourhood (alternative)": _median(lambda: hexa(sums, counts, sigma), repeats),
            "new prototypes": _median(lambda: _new_prototypes(W, denom, numer), repeats),
        }
    _fit_seconds(X, grid, dtype, short)  # warm-up: first-call costs stay out of the difference
    runs = [(_fit_seconds(X, grid, dtype, long) - _fit_seconds(X, grid, dtype, short)) / (long - short) for _ in range(repeats)]
    got["epoch as fit runs it (measured)"] = np.median(runs, axis=0)
    return got


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--libs", nargs="+", default=["plain", "musicsom"], choices=["plain", "musicsom"])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    rec = common.machine_record()
    rates = {"float64": common.gemm_rate(dtype=np.float64), "float32": common.gemm_rate(dtype=np.float32)}
    rows = []
    for case in args.cases:
        n, d, grid = CASES[case]
        X = np.load(load_case(case))
        W = X[np.random.default_rng(0).choice(n, grid[0] * grid[1], replace=False)].astype(np.float64)
        where = f"{n // 1000}k × {d}, {grid[0]}×{grid[1]}"
        for lib in args.libs:
            for prec, dtype in (("float64", np.float64), ("float32", np.float32)):
                floor = common.batch_epoch_flops(n, grid[0] * grid[1], d) / rates[prec]
                got = parts(X, W, grid, dtype, args.repeats) if lib == "plain" else musicsom_parts(X, grid, prec, args.repeats)
                measured = got.pop("epoch as fit runs it (measured)", None)
                epoch = sum(v for k, v in got.items() if "alternative" not in k)
                for part, (sec, cpu) in got.items():
                    rows.append([where, lib, prec, part, f"{sec * 1e3:.2f}", f"{cpu * 1e3:.2f}",
                                 "" if "alternative" in part else f"{sec / epoch[0]:.0%}", f"{sec / floor:.2f}×"])
                rows.append([where, lib, prec, "**epoch (sum of the parts)**", f"{epoch[0] * 1e3:.1f}", f"{epoch[1] * 1e3:.1f}",
                             "100%", f"{epoch[0] / floor:.2f}×"])
                if measured is not None:
                    rows.append([where, lib, prec, "**epoch as fit runs it** (12 − 2 epochs)", f"{measured[0] * 1e3:.1f}",
                                 f"{measured[1] * 1e3:.1f}", f"{measured[0] / epoch[0]:.0%}", f"{measured[0] / floor:.2f}×"])
                print(rows[-1], flush=True)
    text = (
        "### Where an epoch goes, the plain reference's and musicsom's (each part timed alone, median of "
        f"{args.repeats})\n"
        + common.machine_lines(rec)
        + f"- GEMM rate in this run: {rates['float64'] / 1e9:.0f} GFLOP/s (float64), {rates['float32'] / 1e9:.0f} GFLOP/s (float32)\n\n"
        + common.md_table(["case", "library", "precision", "part", "ms", "CPU ms", "share of the epoch", "× the floor"], rows)
    )
    print(text)
    if not args.no_doc:
        common.write_section("som-parts", text)


if __name__ == "__main__":
    main()

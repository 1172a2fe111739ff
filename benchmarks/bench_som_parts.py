"""Where the plain two-GEMM numpy SOM's epoch goes: each part timed alone, beside the GEMM floor.

    .venv/bin/python benchmarks/bench_som_parts.py                 # both cases, the table of docs/benchmarks.md
    .venv/bin/python benchmarks/bench_som_parts.py --cases small --no-doc

The parts of one epoch of ``common.plain_batch_som`` (the reference of bench_som.py), in float64 and
float32, on the cases of bench_som.py: the distance product per chunk of 4096 rows with its argmin
(GEMM 1, then the rest of the BMU search: the subtraction and the argmin, timed as the
difference), the per-unit sums by ``np.add.at`` (and, for comparison, by ``np.bincount`` per column,
which is what ``musicsom.som`` does in spirit), the counts, the K × K Gaussian kernel, and its
product with the sums (GEMM 2). Each part is the median of ``--repeats`` timings with numpy's BLAS at
its default thread count, as the reference runs. The floor is ``2·N·K·(D+1)`` flops at the GEMM rate
measured in the same run (1500³, float64 and float32).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from bench_som import CASES, load_case  # noqa: E402


def _median(fn, repeats: int) -> float:
    # one warm-up call: first-touch page faults and BLAS thread start-up stay out of the timing
    return common.median_time(fn, repeats, warmup=1)[0]


def parts(X, W, grid, dtype, repeats: int, chunk: int = 4096) -> dict[str, float]:
    """Seconds of each part of one plain epoch (see the module docstring)."""
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

    t_gemm1, t_bmus = _median(gemm1, repeats), _median(bmus, repeats)
    return {
        "GEMM 1 (X·Wᵀ per chunk)": t_gemm1,
        "‖w‖² − 2·XWᵀ and argmin": max(t_bmus - t_gemm1, 0.0),
        "np.add.at sums": _median(add_at, repeats),
        "bincount sums (alternative)": _median(lambda: np.stack([np.bincount(bmu, X[:, j], K) for j in range(D)], 1), repeats),
        "counts": _median(lambda: np.bincount(bmu, minlength=K), repeats),
        "K × K kernel": _median(lambda: np.exp(-d2l / 8.0), repeats),
        "GEMM 2": _median(lambda: (H @ np.bincount(bmu, minlength=K).astype(np.float64), H @ sums), repeats),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
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
        for prec, dtype in (("float64", np.float64), ("float32", np.float32)):
            floor = common.batch_epoch_flops(n, grid[0] * grid[1], d) / rates[prec]
            got = parts(X, W, grid, dtype, args.repeats)
            epoch = sum(v for k, v in got.items() if "alternative" not in k)
            for part, sec in got.items():
                rows.append([f"{n // 1000}k × {d}, {grid[0]}×{grid[1]}", prec, part, f"{sec * 1e3:.1f}",
                             "" if "alternative" in part else f"{sec / epoch:.0%}", f"{sec / floor:.2f}×"])
            rows.append([f"{n // 1000}k × {d}, {grid[0]}×{grid[1]}", prec, "**epoch (sum of the parts)**", f"{epoch * 1e3:.1f}",
                         "100%", f"{epoch / floor:.2f}×"])
            print(rows[-1], flush=True)
    text = (
        "### Where the plain reference's epoch goes (each part timed alone, median of "
        f"{args.repeats})\n"
        + common.machine_lines(rec)
        + f"- GEMM rate in this run: {rates['float64'] / 1e9:.0f} GFLOP/s (float64), {rates['float32'] / 1e9:.0f} GFLOP/s (float32)\n\n"
        + common.md_table(["case", "precision", "part", "ms", "share of the epoch", "× the floor"], rows)
    )
    print(text)
    if not args.no_doc:
        common.write_section("som-parts", text)


if __name__ == "__main__":
    main()

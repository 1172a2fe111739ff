"""Inversion: points per second for 10,000 activation vectors in one call vs a per-point least-squares loop.

    .venv/bin/python benchmarks/bench_inversion.py
    .venv/bin/python benchmarks/bench_inversion.py --points 2000 --loop-points 50

Two maps: (K, D) = (900, 50) (the MNIST shape) and (300, 10) (the GMM shape), standard-normal
prototypes and inputs (fixed seed). Methods, each anchored on prototype 0 with all K prototypes:

- ``Inverter(W).invert(A)``: one factorisation, then one matrix product for all points (timed
  including the factorisation);
- per-point ``np.linalg.lstsq`` on the anchored system (the obvious loop), timed on
  ``--loop-points`` points and reported per point;
- ``invert_with_bmu_anchor(A, W, m=D+1)``: the Fig. 5 protocol, each point anchored on its own BMU
  with its own D + 1 prototypes (one small SVD per point).

The error column is the largest ``||x̂ − x||`` over the points (round-off: the system is exact).
Everything runs twice: BLAS at its default thread count, then limited to one thread (threadpoolctl).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.inversion import Inverter, activations, anchored_system, invert_with_bmu_anchor  # noqa: E402


def bench(args, rows, raw, threads):
    for K, D in ((900, 50), (300, 10)):
        rng = np.random.default_rng(0)
        W = rng.standard_normal((K, D))
        X = rng.standard_normal((args.points, D))
        A = activations(X, W)

        def batch():
            return Inverter(W, reference=0).invert(A)

        t_batch, times, Xh = common.median_time(batch, args.repeats)
        err_batch = float(np.linalg.norm(Xh - X, axis=1).max())

        n_loop = min(args.loop_points, args.points)
        Aa, c, others = anchored_system(W, 0)

        def loop():
            out = np.empty((n_loop, D))
            for i in range(n_loop):
                b = c - (A[i, others] - A[i, 0])
                out[i] = np.linalg.lstsq(Aa, b, rcond=None)[0]
            return out

        t_loop, _, Xl = common.median_time(loop, args.repeats)
        err_loop = float(np.linalg.norm(Xl - X[:n_loop], axis=1).max())

        def bmu_loop():
            return invert_with_bmu_anchor(A[:n_loop], W, m=D + 1)

        t_bmu, _, Xb = common.median_time(bmu_loop, args.repeats)
        err_bmu = float(np.linalg.norm(Xb - X[:n_loop], axis=1).max())

        pps = {"batch": args.points / t_batch, "loop": n_loop / t_loop, "bmu": n_loop / t_bmu}
        raw.append({"blas_threads": threads, "K": K, "D": D, "points": args.points, "loop_points": n_loop, "seconds_batch": t_batch, "seconds_loop": t_loop,
                    "seconds_bmu": t_bmu, "points_per_s": pps, "errors": [err_batch, err_loop, err_bmu]})
        rows += [
            [threads, f"{K}×{D}", f"`Inverter(W).invert(A)`, one call, {args.points} points", t_batch, pps["batch"], "1×", f"{err_batch:.1e}"],
            [threads, f"{K}×{D}", f"per-point `np.linalg.lstsq` loop ({n_loop} points)", t_loop, pps["loop"], f"{pps['batch'] / pps['loop']:.0f}× slower", f"{err_loop:.1e}"],
            [threads, f"{K}×{D}", f"`invert_with_bmu_anchor(A, W, m=D+1)` ({n_loop} points)", t_bmu, pps["bmu"], f"{pps['batch'] / pps['bmu']:.0f}× slower", f"{err_bmu:.1e}"],
        ]
        print(f"threads={threads} K={K} D={D}: batch {pps['batch']:.0f} pts/s, lstsq loop {pps['loop']:.0f} pts/s, bmu-anchor {pps['bmu']:.0f} pts/s", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10000)
    ap.add_argument("--loop-points", type=int, default=200, help="points timed in the per-point loops")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    rec = common.machine_record()
    rows, raw = [], []
    for threads in (None, 1):
        ctx = threadpool_limits(threads, user_api="blas") if threads else contextlib.nullcontext()
        with ctx:
            bench(args, rows, raw, "default" if threads is None else "1")
    common.save_json("bench_inversion", {"machine": rec, "rows": raw})
    text = (
        f"### Inversion throughput (median of {args.repeats} runs)\n\n" + common.machine_lines(rec) + "\n"
        + common.md_table(["BLAS threads", "K×D", "method", "seconds", "points / s", "vs one call", "max ‖x̂ − x‖"], rows)
    )
    print(text)
    if not args.no_doc:
        common.write_section("inversion", text)


if __name__ == "__main__":
    main()

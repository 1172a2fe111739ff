"""MUSIC: steps per second of the informed, cluster and free modes, and the reduced (k×k) vs dense (D×D) solve.

    .venv/bin/python benchmarks/bench_music.py                 # D ∈ {50, 128, 512}, K ∈ {400, 900}
    .venv/bin/python benchmarks/bench_music.py --steps 20 --repeats 3 --dims 50 --units 400

Prototypes are standard-normal (K × D, fixed seed: the cost of a step does not depend on where
the prototypes sit); the start is a random point. MusicParams are the GMM defaults (α = 0.9,
λ = 0.01, κ = 0.1, η = 0.2, every other prototype preserved). Cluster mode moves toward the 10
prototypes nearest a random one with 2 relinearisation passes per step (so 2 solves per step).
Each row is the median over ``--repeats`` runs of ``--steps`` steps, with BLAS at its default
thread count and again limited to one thread (threadpoolctl), because the pipeline runs two jobs at
once on two cores.

The solve ratio compares ``solver="primal"`` (Cholesky of the D × D matrix MᵀM + λI) with
``solver="dual"`` (Cholesky of the k × k matrix MMᵀ + λI, k = |P| + |T|) on the same informed run,
wherever k < D: every preserved prototype when K < D, and the 1-ring of the BMU (k = 9) always.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.music import Music, MusicParams  # noqa: E402


def setup(K: int, D: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D))
    x0 = rng.standard_normal(D) * 1.5
    target = int(rng.integers(K))
    centre = W[int(rng.integers(K))]
    cluster = np.argsort(((W - centre) ** 2).sum(1))[:10]
    return W, x0, target, cluster


def run_mode(W, x0, target, cluster, mode, steps, params: MusicParams, grid=None):
    music = Music(W, params, grid_shape=grid, random_state=0)
    kw = {"informed": dict(target=target), "cluster": dict(cluster=cluster), "free": {}}[mode]
    return music.run(x0, steps, mode, **kw)


def time_mode(W, x0, target, cluster, mode, steps, repeats, params, threads=None, grid=None) -> float:
    def go():
        return run_mode(W, x0, target, cluster, mode, steps, params, grid)

    if threads is None:
        med, _, _ = common.median_time(go, repeats)
    else:
        with threadpool_limits(threads, user_api="blas"):
            med, _, _ = common.median_time(go, repeats)
    return steps / med


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[50, 128, 512])
    ap.add_argument("--units", type=int, nargs="+", default=[400, 900])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    rec = common.machine_record()
    base = MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2)
    rows, solve_rows, raw = [], [], []
    for D in args.dims:
        for K in args.units:
            W, x0, target, cluster = setup(K, D)
            entry = {"D": D, "K": K}
            for mode in ("informed", "cluster", "free"):
                entry[mode] = time_mode(W, x0, target, cluster, mode, args.steps, args.repeats, base)
                entry[mode + "_1thread"] = time_mode(W, x0, target, cluster, mode, args.steps, args.repeats, base, threads=1)
                print(f"D={D} K={K} {mode}: {entry[mode]:.1f} steps/s (1 BLAS thread {entry[mode + '_1thread']:.1f})", flush=True)
            rows.append([D, K, K, entry["informed"], entry["informed_1thread"], entry["cluster"], entry["cluster_1thread"],
                         entry["free"], entry["free_1thread"]])
            # reduced vs dense solve where k < D
            side = int(np.sqrt(K))
            grid = (side, K // side) if side * (K // side) == K else None
            settings = []
            if K < D:
                settings.append(("all others preserved", K, None))
            if grid is not None:
                settings.append(("1-ring of the BMU", 9, grid))
            for label, k, g in settings:
                p = {}
                for solver in ("primal", "dual"):
                    params = MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2, solver=solver,
                                         preserve_ring=1 if g is not None else None)
                    p[solver] = time_mode(W, x0, target, cluster, "informed", args.steps, args.repeats, params, grid=g)
                # same trajectory either way (the two forms are algebraically equal)
                a = run_mode(W, x0, target, cluster, "informed", 5, MusicParams(solver="primal", preserve_ring=1 if g else None), g)
                b = run_mode(W, x0, target, cluster, "informed", 5, MusicParams(solver="dual", preserve_ring=1 if g else None), g)
                diff = float(np.abs(a.states - b.states).max())
                entry.setdefault("solve", []).append({"preserved": label, "k": k, **p, "max_state_diff": diff})
                solve_rows.append([D, K, label, k, p["primal"], p["dual"], f"{p['dual'] / p['primal']:.2f}×", f"{diff:.1e}"])
                print(f"D={D} K={K} {label} k={k}: dense {p['primal']:.1f}, reduced {p['dual']:.1f} steps/s", flush=True)
            raw.append(entry)
    common.save_json("bench_music", {"machine": rec, "steps": args.steps, "repeats": args.repeats, "rows": raw})
    text = (
        f"### MUSIC steps per second ({args.steps} steps per run, median of {args.repeats} runs)\n\n"
        + common.machine_lines(rec)
        + "\nInformed and free: one solve per step; cluster: 10 targets, 2 passes (2 solves) per step. "
        "\"1 thr\" = BLAS limited to one thread.\n\n"
        + common.md_table(
            ["D", "K", "k = rows of M", "informed", "informed 1 thr", "cluster", "cluster 1 thr", "free", "free 1 thr"], rows
        )
        + "\nReduced (k × k, `solver=\"dual\"`) vs dense (D × D, `solver=\"primal\"`) solve, informed mode, steps per second "
        "where k < D (default BLAS threads):\n\n"
        + common.md_table(["D", "K", "preserved set", "k", "dense D×D", "reduced k×k", "reduced / dense", "max |Δx| (5 steps)"], solve_rows)
    )
    print(text)
    if not args.no_doc:
        common.write_section("music", text)


if __name__ == "__main__":
    main()

"""Batched MUSIC: trajectory-steps per second of ``Music.run_batch`` for B trajectories vs the single-trajectory loop.

    .venv/bin/python benchmarks/bench_music_batch.py                      # B ∈ {1, 30, 300}, 50 steps
    .venv/bin/python benchmarks/bench_music_batch.py --steps 5 --batches 1 30 --repeats 1 --no-doc

Informed mode (no randomness, so batch and loop compute the same trajectories), K = 900 standard-
normal prototypes in D = 50 (fixed seed), every other prototype preserved, ``per_row_mean=True``,
α = 0.9, λ = 0.01, κ = 0.1, η = 0.2; starts are random points, each trajectory with its own random
target. Both use one ``Music`` built beforehand. The loop is ``Music.run`` once per trajectory, timed on ``--loop-trajectories`` of them (its
rate does not depend on B). Each rate is the median over ``--repeats`` runs; the last column is the
largest deviation of the batch states from the loop's, relative to the largest state coordinate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.music import Music, MusicParams  # noqa: E402


def setup(B: int, K: int, D: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D))
    X0 = 1.5 * rng.standard_normal((B, D))
    targets = rng.integers(0, K, B)
    return W, X0, targets


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 30, 300])
    ap.add_argument("--units", type=int, default=900)
    ap.add_argument("--dim", type=int, default=50)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--loop-trajectories", type=int, default=10, help="trajectories the loop is timed (and compared) on")
    ap.add_argument("--no-doc", action="store_true", help="print only: do not write docs/benchmarks.md or the JSON")
    args = ap.parse_args(argv)
    rec = common.machine_record()
    K, D, T = args.units, args.dim, args.steps
    params = MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2, per_row_mean=True)
    rows, raw = [], []
    for B in args.batches:
        W, X0, targets = setup(B, K, D)
        music = Music(W, params)
        t_batch, _, batch = common.median_time(lambda: music.run_batch(X0, T, "informed", targets=targets), args.repeats)
        n_loop = min(B, args.loop_trajectories)

        def loop():  # informed mode draws nothing: one Music serves every trajectory
            return [music.run(X0[b], T, "informed", target=int(targets[b])) for b in range(n_loop)]

        t_loop, _, runs = common.median_time(loop, args.repeats)
        S = np.stack([r.states for r in runs])
        dev = float(np.abs(batch.states[:n_loop] - S).max() / np.abs(S).max())
        sps_batch = B * T / t_batch
        sps_loop = n_loop * T / t_loop
        raw.append({"B": B, "K": K, "D": D, "steps": T, "batch_s": t_batch, "loop_s": t_loop, "loop_trajectories": n_loop,
                    "batch_steps_per_s": sps_batch, "loop_steps_per_s": sps_loop, "max_rel_deviation": dev})
        rows.append([B, K, D, T, sps_batch, sps_loop, f"{sps_batch / sps_loop:.1f}×", f"{dev:.1e}"])
        print(f"B={B}: batch {sps_batch:.0f} steps/s, loop {sps_loop:.0f} steps/s, max rel. deviation {dev:.1e}", flush=True)
    text = (
        f"### Batched MUSIC, informed mode ({T} steps per trajectory, median of {args.repeats} runs)\n\n"
        + common.machine_lines(rec)
        + f"\nEvery other prototype preserved (k = K rows per system), `per_row_mean=True`; the loop is `Music.run` "
        f"per trajectory (timed on up to {args.loop_trajectories}). Steps/s count trajectory-steps.\n\n"
        + common.md_table(["B", "K", "D", "steps", "run_batch steps/s", "loop steps/s", "batch / loop", "max rel. |Δx| vs loop"], rows)
    )
    print(text)
    if not args.no_doc:
        common.save_json("bench_music_batch", {"machine": rec, "repeats": args.repeats, "rows": raw})
        common.write_section("music_batch", text)


if __name__ == "__main__":
    main()

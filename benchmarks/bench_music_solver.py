"""MUSIC solvers: trajectory-steps per second of the iterative solve (PCG on a held factor) vs the direct one.

    .venv/bin/python benchmarks/bench_music_solver.py                       # the four cases below, 40 steps
    .venv/bin/python benchmarks/bench_music_solver.py --steps 20 --repeats 1 --no-doc

Cases (K, D, B): (900, 50, 300), (900, 712, 300), (576, 128, 45) by ``Music.run_batch``, and one
trajectory (B = 1) at (900, 712) by ``Music.run``. Informed mode toward a random target per trajectory,
every other prototype preserved, prototypes standardised correlated Gaussians (whitened-like, fixed seed),
the paper setup's plain energy (α = 0.999, λ = 0.01, κ = 0.1, η = 0.2). Each case is timed side by side in
one process with ``solver="direct"``, ``"iterative"`` and ``"auto"`` (median over ``--repeats``); the table
gives the ratios, what auto picked, the mean PCG iterations per PCG step and the refactorisations per 100
trajectory-steps, and the largest step difference to the direct solve (relative to the direct step).
``--scale`` multiplies B (e.g. 0.1 for a quick look on a loaded machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.music import Music, MusicParams  # noqa: E402

CASES = [(900, 50, 300), (900, 712, 300), (576, 128, 45), (900, 712, 1)]


def setup(K: int, D: int, B: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D)) @ np.diag(np.linspace(1.0, 0.3, D))
    W = (W - W.mean(0)) / W.std(0)
    return W, rng.standard_normal((B, D)), rng.integers(0, K, B)


def run_case(K, D, B, T, repeats, params):
    W, X0, targets = setup(K, D, B)
    out = {}
    for solver in ("direct", "iterative", "auto"):
        music = Music(W, MusicParams(**params, solver=solver))
        if B == 1:
            fn = lambda: music.run(X0[0], T, "informed", target=int(targets[0])).states[None]  # noqa: E731
        else:
            fn = lambda: music.run_batch(X0, T, "informed", targets=targets).states  # noqa: E731
        t, _, states = common.median_time(fn, repeats)
        out[solver] = (B * T / t, states, getattr(music, "_last_solver_stats", None))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every B > 1 by this (at least 1)")
    ap.add_argument("--no-doc", action="store_true", help="print only: do not write docs/benchmarks.md or the JSON")
    args = ap.parse_args(argv)
    rec = common.machine_record()
    params = dict(alpha=0.999, lam=0.01, kappa=0.1, eta=0.2, per_row_mean=False)
    rows, raw = [], []
    for K, D, B0 in CASES:
        B = B0 if B0 == 1 else max(1, int(round(B0 * args.scale)))
        res = run_case(K, D, B, args.steps, args.repeats, params)
        steps_d = np.diff(res["direct"][1], axis=1)
        steps_i = np.diff(res["iterative"][1], axis=1)
        dev = float((np.linalg.norm(steps_i - steps_d, axis=2) / np.linalg.norm(steps_d, axis=2)).max())
        st = res["iterative"][2] or {}
        picked = "iterative" if res["auto"][2] is not None else "direct"
        r_it = res["iterative"][0] / res["direct"][0]
        r_auto = res["auto"][0] / res["direct"][0]
        how = "run" if B == 1 else "run_batch"
        raw.append({"K": K, "D": D, "B": B, "how": how, "steps": args.steps, "direct_steps_per_s": res["direct"][0],
                    "iterative_steps_per_s": res["iterative"][0], "auto_steps_per_s": res["auto"][0], "auto_picked": picked,
                    "pcg": st, "max_rel_step_difference": dev})
        rows.append([K, D, B, how, res["direct"][0], res["iterative"][0], f"{r_it:.1f}×", picked, f"{r_auto:.1f}×",
                     f"{st.get('mean_iterations', float('nan')):.1f}", f"{st.get('refactors_per_100_steps', float('nan')):.1f}",
                     f"{dev:.1e}"])
        print(f"K={K} D={D} B={B}: direct {res['direct'][0]:.1f}, iterative {res['iterative'][0]:.1f}, auto ({picked}) "
              f"{res['auto'][0]:.1f} steps/s; PCG {st}; max rel step diff {dev:.1e}", flush=True)
    text = (
        f"### MUSIC solvers: iterative (PCG on a held factor) vs direct, informed mode ({args.steps} steps, median of "
        f"{args.repeats})\n\n"
        + common.machine_lines(rec)
        + "\nEvery other prototype preserved (k = K), plain energy α = 0.999; steps/s count trajectory-steps; side by "
        "side in one process. PCG its: mean iterations per PCG step; refactor/100: direct steps (factorisations) per 100 "
        "trajectory-steps.\n\n"
        + common.md_table(["K", "D", "B", "via", "direct steps/s", "iterative steps/s", "iterative / direct", "auto picks",
                           "auto / direct", "PCG its", "refactor/100", "max rel. step diff"], rows)
    )
    print(text)
    if not args.no_doc:
        common.save_json("bench_music_solver", {"machine": rec, "repeats": args.repeats, "rows": raw})
        common.write_section("music_solver", text)


if __name__ == "__main__":
    main()

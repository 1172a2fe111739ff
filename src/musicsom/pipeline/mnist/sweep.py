"""Stage (Figs 17-20 inputs, claim 7): sweep one MUSIC hyperparameter on "0" → "1" trajectories, the others fixed.

    python -m musicsom.pipeline.mnist.sweep <the context options of mnist.trajectories> --source 0 --target 1 \
        --n-starts 5 --param kappa --values 0.01 0.03 0.1 0.3 1 --n-steps 150 --alpha 0.5 ... \
        --out results/mnist/seed0/sweep_kappa.csv

Starts: the first ``--n-starts`` test images of the source class the pair's seeded draw gives; each
runs at every value as one batch (:func:`musicsom.experiments.mnist.sweep_rows`). One row per (value,
start): mean and min classifier confidence, step continuity, geodesic efficiency, convergence ratio
(final / initial distance to the target prototype), crossing step, the share of steps cut by the trust
region, the cosine between the first step and the first step at the default value, and the path's
largest deviation from the default-value path relative to the start's distance to its target (claim 7:
0 when κ does not change the path). ``--lcurve`` adds, for the first start, the mean norm of the
unclipped MUSIC step and of its residual along the path (the L-curve axes of Fig 20).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.music import Music
from musicsom.pipeline import _io
from musicsom.pipeline.mnist._common import add_context_args, add_pair_args, check_pair, load_context

log = logging.getLogger("musicsom.pipeline.mnist.sweep")
FIELDS = {"alpha": "alpha", "lambda": "lam", "kappa": "kappa"}


def lcurve_columns(ctx, job, target: int, params, n_steps: int, seed: int) -> dict:
    """Mean (residual norm, unclipped step norm) of the MUSIC solves along one trajectory (the L-curve axes)."""
    batch = mn.music_batch(ctx, [job], np.array([target]), params, n_steps, seed)
    music = Music(ctx.W, params, ctx.grid_shape, ctx.topology)
    lc = np.array([mn.music_residual(x, ctx.W, target, music.preserved_set(x, [target]), params) for x in batch.states[0, :-1]])
    return {"mean_residual_norm": float(lc[:, 0].mean()), "mean_step_norm_unclipped": float(lc[:, 1].mean())}


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False)
    add_pair_args(p)
    p.add_argument("--n-starts", type=int, required=True, help="start images (the first of the pair's seeded draw)")
    p.add_argument("--n-steps", type=int, required=True)
    _io.add_music_args(p)
    p.add_argument("--param", choices=sorted(FIELDS), required=True)
    p.add_argument("--values", type=float, nargs="+", required=True)
    p.add_argument("--lcurve", action="store_true", help="add the L-curve columns for the first start")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    check_pair(a.source, a.target)
    if a.n_steps < 1 or a.n_starts < 1:
        raise _io.InputError("--n-steps and --n-starts must be >= 1")
    base = _io.music_params(a)
    for v in a.values:
        try:
            dataclasses.replace(base, **{FIELDS[a.param]: float(v)}).validate()
        except ValueError as exc:
            raise _io.InputError(f"--values: {exc}") from None
    ctx = load_context(a, knn=False, vae=False)
    jobs = mn.pair_jobs(ctx, [(a.source, a.target)], a.n_starts, a.seed)
    targets, _ = mn.targets_of(ctx, jobs)
    rows = mn.sweep_rows(ctx, jobs, targets, a.param, a.values, base, a.n_steps, a.seed)
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", a.seed)
    if a.lcurve:
        lc = {float(v): lcurve_columns(ctx, jobs[0], int(targets[0]), dataclasses.replace(base, **{FIELDS[a.param]: float(v)}),
                                       a.n_steps, a.seed) for v in a.values}
        for col in ("mean_residual_norm", "mean_step_norm_unclipped"):
            frame[col] = [lc[v][col] if s == 0 else np.nan for v, s in zip(frame["value"], frame["start"])]
    for v, g in frame.groupby("value"):
        log.info("%s = %g: confidence %.4f, continuity %.4f, convergence %.3f, clipped %.2f, path deviation %.2g", a.param, v,
                 g["mean_confidence"].mean(), g["continuity"].mean(), g["convergence_ratio"].mean(), g["share_clipped"].mean(),
                 g["path_deviation"].max())
    _io.save_csv(a.out, frame)


if __name__ == "__main__":
    _io.run_main(main)

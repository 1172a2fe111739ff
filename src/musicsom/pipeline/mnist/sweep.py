"""Stage (Figs 17-20 inputs, claim 7): sweep one MUSIC hyperparameter on "0" → "1" trajectories, the others fixed.

    python -m musicsom.pipeline.mnist.sweep <the context options of mnist.trajectories, without --vae and --knn-k> \
        --transition '{"source": 0, "target": 1, ...}' \
        --sweep '{"n_starts": 20, "n_steps": 150, "kappa": [0.01, 0.03, 0.1, 0.3, 1.0], ...}' \
        --music '{"alpha": 0.5, ...}' --param kappa --out results/mnist/seed0/sweep_kappa.csv

Starts: the first ``mnist.sweep.n_starts`` test images of the source class the pair's seeded draw gives
(the pair: ``mnist.transition``'s source and target); each runs at every value of ``mnist.sweep.<param>``
as one batch (:func:`musicsom.experiments.mnist.sweep_rows`), the other settings at ``mnist.music``. One
row per (value, start): mean and min classifier confidence, step continuity, geodesic efficiency,
convergence ratio (final / initial distance to the target prototype), crossing step, the share of steps
cut by the trust region (at this value and at the default one), the cosine between the first step and the
first step at the default value, and the path's largest deviation from the default-value path relative to
the start's distance to its target, twice: at the same step (``path_deviation``: speed and path) and at the
same arc length over the common length (``path_deviation_arc``: the path only; claim 7: 0 when κ changes
only the speed along the same curve), with the arc length travelled to the crossing (``crossing_arc``).
The ``lam`` sweep also records, for the first start, the mean norm of the unclipped MUSIC step and of its
residual along the path (the L-curve axes of Fig 20).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.music import Music, MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_sweep_args, load_context, transition_pair
from musicsom.pipeline.sections import build, require

log = logging.getLogger("musicsom.pipeline.mnist.sweep")
#: the sweep that also records the L-curve axes of Fig 20
LCURVE_PARAM = "lam"


def lcurve_columns(ctx, job, target: int, params, n_steps: int, seed: int) -> dict:
    """Mean (residual norm, unclipped step norm) of the MUSIC solves along one trajectory (the L-curve axes)."""
    batch = mn.music_batch(ctx, [job], np.array([target]), params, n_steps, seed)
    music = Music(ctx.W, params, ctx.grid_shape, ctx.topology)
    lc = np.array([mn.music_residual(x, ctx.W, target, music.preserved_set(x, [target]), params) for x in batch.states[0, :-1]])
    return {"mean_residual_norm": float(lc[:, 0].mean()), "mean_step_norm_unclipped": float(lc[:, 1].mean())}


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False, knn=False)
    add_sweep_args(p, "n_starts, n_steps, and the values of the swept setting")
    p.add_argument("--param", choices=mn.SWEPT, required=True, help="the swept MUSIC setting (the rule's wildcard)")
    p.add_argument("--out", required=True, help="the sweep's CSV to write (one row per value and start)")
    a = p.parse_args(argv)
    source, target = transition_pair(a)
    s = require(a.sweep, "mnist.sweep", ("n_starts", "n_steps", a.param))
    values, n_steps = [float(v) for v in s[a.param]], int(s["n_steps"])
    base = build(MusicParams, a.music, "mnist.music")
    for v in values:
        try:
            dataclasses.replace(base, **{a.param: v}).validate()
        except ValueError as exc:
            raise files.InputError(f"mnist.sweep.{a.param}: {exc}") from None
    ctx = load_context(a, knn=False, vae=False)
    jobs = mn.pair_jobs(ctx, [(source, target)], int(s["n_starts"]), a.seed)
    targets, _ = mn.targets_of(ctx, jobs)
    rows = mn.sweep_rows(ctx, jobs, targets, a.param, values, base, n_steps, a.seed)
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", a.seed)
    if a.param == LCURVE_PARAM:
        lc = {v: lcurve_columns(ctx, jobs[0], int(targets[0]), dataclasses.replace(base, **{a.param: v}), n_steps, a.seed)
              for v in values}
        for col in ("mean_residual_norm", "mean_step_norm_unclipped"):
            frame[col] = [lc[v][col] if st == 0 else np.nan for v, st in zip(frame["value"], frame["start"])]
    for v, g in frame.groupby("value"):
        log.info("%s = %g: confidence %.4f, continuity %.4f, convergence %.3f, clipped %.2f, path deviation %.2g "
                 "(at equal arc length %.2g)", a.param, v, g["mean_confidence"].mean(), g["continuity"].mean(),
                 g["convergence_ratio"].mean(), g["share_clipped"].mean(), g["path_deviation"].max(), g["path_deviation_arc"].max())
    files.save_csv(a.out, frame)


if __name__ == "__main__":
    files.run_main(main)

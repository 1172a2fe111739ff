"""Stage (Figs 17-20 inputs): sweep one MUSIC hyperparameter on the "0" → "1" trajectory, the others fixed.

    python -m musicsom.pipeline.mnist.sweep <the options of mnist_pair> --param alpha --values 0.1 0.2 ... 0.9 \
        --n-steps 150 --out results/mnist/seed0/sweep_alpha.csv

Same start image and target prototype as the Fig 8 trajectory. Per value: mean and min classifier
confidence, step continuity, geodesic efficiency, convergence ratio (final / initial distance to the
target prototype), crossing step, and along the path the mean norm of the unclipped MUSIC step and
of its residual (the L-curve axes), the share of steps cut by the trust region, and the cosine
between the first step and the first step at the default value (direction invariance under κ).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from musicsom.pipeline import _io
from musicsom.experiments.mnist import music_residual
from musicsom.pipeline.mnist._common import add_context_args, load_context, run_start, starts_of
from musicsom.music import Music

log = logging.getLogger("musicsom.pipeline.mnist.sweep")
FIELDS = {"alpha": "alpha", "lambda": "lam", "kappa": "kappa"}


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--param", choices=sorted(FIELDS), required=True)
    p.add_argument("--values", type=float, nargs="+", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    ctx = load_context(a, knn=False)
    idx = int(starts_of(ctx, a)[0])
    field = FIELDS[a.param]
    base = ctx.params
    default_run = run_start(ctx, a, idx, base, methods=("music",))
    d_first_default = np.diff(default_run[2]["music"]["states"][:2], axis=0)[0]
    rows = []
    for v in a.values:
        try:
            params = dataclasses.replace(base, **{field: float(v)}).validate()
        except ValueError as exc:
            raise _io.InputError(f"--values: {exc}") from None
        target, _, res, metric_rows, _ = run_start(ctx, a, idx, params, methods=("music",))
        r, S = metric_rows["music"], res["music"]["states"]
        music = Music(ctx.W, params, ctx.grid_shape, ctx.topology)
        lc = np.array([music_residual(x, ctx.W, target, music.preserved_set(x, [target]), params) for x in S[:-1]])
        d1 = S[1] - S[0]
        cos_first = float(d1 @ d_first_default / (np.linalg.norm(d1) * np.linalg.norm(d_first_default))) if np.linalg.norm(d1) > 0 else np.nan
        rows.append({
            "seed": a.seed, "param": a.param, "value": float(v), "is_default": bool(np.isclose(v, getattr(base, field))),
            "mean_confidence": r["mean_confidence"], "min_confidence": r["min_confidence"], "continuity": r["continuity"],
            "geodesic_efficiency": r["geodesic_efficiency"], "convergence_ratio": r["convergence_ratio"],
            "crossing_step": r["crossing_step"], "third_class_steps": r["third_class_steps"], "final_label": r["final_label"],
            "path_length": r["path_length"], "mean_step_norm_unclipped": float(lc[:, 1].mean()),
            "mean_residual_norm": float(lc[:, 0].mean()), "share_clipped": float(np.mean(lc[:, 1] > params.eta * (1 + 1e-12))),
            "first_step_cos_to_default": cos_first, "label_sequence": r["label_sequence"],
        })
        log.info("%s = %g: confidence %.4f, continuity %.4f, efficiency %.3f, convergence %.3f, clipped %.2f", a.param, v,
                 r["mean_confidence"], r["continuity"], r["geodesic_efficiency"], r["convergence_ratio"], rows[-1]["share_clipped"])
    _io.save_csv(a.out, pd.DataFrame(rows))


if __name__ == "__main__":
    _io.run_main(main)

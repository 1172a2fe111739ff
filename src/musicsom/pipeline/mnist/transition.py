"""Stage (Figs 8-10, 16 inputs): the "0" → "1" demonstration, one start image by MUSIC, linear and VAE.

    python -m musicsom.pipeline.mnist.transition <the context options of mnist.trajectories> --source 0 --target 1 \
        --n-starts 3 --n-steps 200 --alpha 0.5 ... --out results/mnist/seed0/transition.npz \
        --summary results/mnist/seed0/transition.json

The start is the first of the ``--n-starts`` images the Table 2 draw gives this pair, so the
demonstration is one of the Table 2 trajectories. Saves every frame (states, decoded images, class
probabilities, sharpness, manifold distance) for the figures and the per-method metrics for the report.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.experiments import mnist as mn
from musicsom.pipeline import _io
from musicsom.pipeline.mnist._common import add_context_args, add_pair_args, check_pair, load_context, run_start

log = logging.getLogger("musicsom.pipeline.mnist.transition")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    add_pair_args(p)
    p.add_argument("--n-starts", type=int, required=True, help="the Table 2 draw of start images (the first one is used)")
    p.add_argument("--n-steps", type=int, required=True)
    _io.add_music_args(p)
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True)
    a = p.parse_args(argv)
    check_pair(a.source, a.target)
    if a.n_steps < 1 or a.n_starts < 1:
        raise _io.InputError("--n-steps and --n-starts must be >= 1")
    params = _io.music_params(a)
    ctx = load_context(a)
    idx = int(mn.choose_starts(ctx.y_test, a.source, a.target, a.n_starts, a.seed)[0])
    target, relaxed, res, rows, series = run_start(ctx, a, idx, params, a.n_steps)
    arrays = {"start_index": np.array(idx), "target_prototype": np.array(target), "source": np.array(a.source),
              "target": np.array(a.target), "prototypes": ctx.W, "grid_shape": np.array(ctx.grid_shape)}
    for m, r in res.items():
        arrays[f"{m}_states"] = r["states"]
        arrays[f"{m}_images"] = r["images"].astype(np.float32)
        arrays[f"{m}_probs"] = r["probs"]
        for key in ("sharpness", "manifold_distance"):
            arrays[f"{m}_{key}"] = series[m][key]
        if "bmus" in r:
            arrays[f"{m}_bmus"] = r["bmus"]
    for m, row in rows.items():
        log.info("%s: crossing step %d, stays from %d, %d steps in a third class, labels %s", m, row["crossing_step"],
                 row["commit_step"], row["third_class_steps"], row["label_sequence"])
    music_bmus = res["music"]["bmus"]
    summary = {
        "seed": a.seed, "source": a.source, "target": a.target, "start_index": idx, "target_prototype": target,
        "target_relaxed": relaxed, "n_steps": a.n_steps, "knn_k": a.knn_k, "knn_stride": a.knn_stride,
        "music_bmu_changes": int(np.sum(music_bmus[1:] != music_bmus[:-1])),
        "methods": rows,
    }
    _io.save_npz(a.out, **arrays)
    _io.save_json(a.summary, summary)


if __name__ == "__main__":
    _io.run_main(main)

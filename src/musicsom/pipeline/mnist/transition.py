"""Stage (Figs 8-10, 16): the "0" → "1" trajectory of MUSIC, the linear baseline and the VAE, frame by frame.

    python -m musicsom.pipeline.mnist.transition <the options of mnist_pair> --out results/mnist/seed0/transition.npz \
        --summary results/mnist/seed0/transition.json

The start is the first start image that ``mnist_pair`` draws for the same pair and seed (so this
trajectory is also a row of Table 2). Saves every state, decoded frame, class probability vector,
BMU, per-frame sharpness and manifold distance; the summary holds per method the crossing step,
the step from which the path stays in the target class, the label sequence, the steps spent in a
third class and the Table 2 metrics.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import _io
from musicsom.pipeline.mnist._common import add_context_args, load_context, run_start, starts_of

log = logging.getLogger("musicsom.pipeline.mnist.transition")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True)
    a = p.parse_args(argv)
    ctx = load_context(a)
    idx = int(starts_of(ctx, a)[0])
    target, relaxed, res, rows, series = run_start(ctx, a, idx)
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

"""Stage (Figs 8-10, 16 inputs): the "0" → "1" demonstration, one start image by MUSIC and every baseline arm.

    python -m musicsom.pipeline.mnist.transition <the context options of mnist.trajectories> \
        --transition '{"source": 0, "target": 1, "n_steps": 200, "knn_stride": 1, "strip_frames": 11}' \
        --table2 '{"n_starts": 3, ...}' --music '{"alpha": 0.5, ...}' --out results/mnist/seed0/transition.npz \
        --summary results/mnist/seed0/transition.json

The start is the first of the ``mnist.table2.n_starts`` images the Table 2 draw gives this pair, so the
demonstration is one of the Table 2 trajectories; the arms are those of Table 2 (the kNN path's graph is
built here from ``mnist.table2``'s ``knn_path_k`` and ``knn_path_nodes`` with the same seed, so the path is
that of Table 2 too). Saves every frame (states, decoded images, class
probabilities, sharpness, manifold distance) for the figures and the per-method metrics for the report.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.experiments import mnist as mn
from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, attach_graph, load_context, transition_pair
from musicsom.pipeline.sections import add_section, build, require

log = logging.getLogger("musicsom.pipeline.mnist.transition")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    add_section(p, "transition", "mnist.transition", "the demonstration (this stage reads source, target, n_steps, knn_stride)")
    add_section(p, "table2", "mnist.table2", "the Table 2 draw of start images (n_starts: the first one is used) and the "
                "kNN path's graph (knn_path_k, knn_path_nodes)")
    add_section(p, "music", "mnist.music", "the MUSIC settings (musicsom.music.MusicParams)")
    p.add_argument("--out", required=True, help=".npz of every frame of every method to write")
    p.add_argument("--summary", required=True, help="JSON of the per-method metrics to write")
    a = p.parse_args(argv)
    source, target_class = transition_pair(a)
    t = require(a.transition, "mnist.transition", ("n_steps", "knn_stride"))
    n_starts = int(require(a.table2, "mnist.table2", ("n_starts",))["n_starts"])
    n_steps, knn_stride = int(t["n_steps"]), int(t["knn_stride"])
    params = build(MusicParams, a.music, "mnist.music")
    ctx = load_context(a)
    attach_graph(ctx, a.table2, a.seed)
    idx = int(mn.choose_starts(ctx.y_test, source, target_class, n_starts, a.seed)[0])
    x0 = ctx.z_test[idx]
    target, relaxed = mn.choose_target(ctx.W, ctx.labels, ctx.purity, x0, target_class, ctx.min_purity)
    if relaxed:
        log.warning("no prototype of class %d has purity >= %.2f; using the nearest of any purity", target_class, ctx.min_purity)
    res = mn.run_methods(x0, ctx.pix_test[idx], target, ctx.W, params, n_steps, ctx.enc, ctx.classify,
                         ctx.vae_encode, ctx.vae_decode, ctx.grid_shape, ctx.topology, a.seed, mn.METHODS, graph=ctx.graph)
    rows, series = {}, {}
    for m, r in res.items():
        rows[m], series[m] = mn.path_metrics(r, source, target_class, ctx.knn, a.knn_k, knn_stride)
    arrays = {"start_index": np.array(idx), "target_prototype": np.array(target), "source": np.array(source),
              "target": np.array(target_class), "prototypes": ctx.W, "grid_shape": np.array(ctx.grid_shape)}
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
        "seed": a.seed, "source": source, "target": target_class, "start_index": idx, "target_prototype": target,
        "target_relaxed": relaxed, "n_steps": n_steps, "knn_k": a.knn_k, "knn_stride": knn_stride,
        "music_bmu_changes": int(np.sum(music_bmus[1:] != music_bmus[:-1])),
        "methods": rows,
    }
    files.save_npz(a.out, **arrays)
    files.save_json(a.summary, summary)


if __name__ == "__main__":
    files.run_main(main)

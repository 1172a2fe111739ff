"""Stage: claim 9 (MUSIC on k-means vs SOM prototypes) along the sensitivity study's MUSIC axes, one seed.

    python -m musicsom.pipeline.kmeans.robustness <the context options of mnist.sweep, for the SOM> \
        --kmeans results/kmeans/seed0/prototypes.npz --kmeans-labels results/kmeans/seed0/labels.npz \
        --pairs '[[0, 1], ...]' --table2 '{"n_starts": 3, "n_steps": 200, ...}' --music '{"alpha": 0.999, ...}' \
        --study '{"energy": {...}, "eta": [...], "n_starts": 1}' --verdicts '{...}' \
        --checks results/robustness/kmeans/seed0/checks.json

Points (:func:`musicsom.experiments.robustness.kmeans_grid`): each energy form and α and each trust radius of
``robustness.kmeans`` other than the default's (``mnist.music``), moved alone, with every other prototype
preserved (k-means has no lattice for rings). Both prototype sets run the Table 2 jobs of the default stage
at each point, the first ``robustness.kmeans.n_starts`` starts per pair (``mnist.table2.n_starts`` is the
headline's; the block file records both), MUSIC only: claim 9 compares step continuity and geodesic
efficiency, which need no classifier or k-NN search.
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim9
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, load_context, pairs_of
from musicsom.pipeline.mnist.grid import add_grid_args, parse_block
from musicsom.pipeline.robustness.blocks import music_at, sample, save_block
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.kmeans.robustness")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False, knn=False)
    p.add_argument("--kmeans", required=True, help="the k-means prototypes (kmeans.fit)")
    p.add_argument("--kmeans-labels", required=True, help="their majority labels and purity (mnist.labels on them)")
    add_table2_args(p, "n_starts per pair (the headline's) and n_steps")
    add_grid_args(p, "kmeans", "the k-means control's axes (energy, eta) and the starts per pair at each point")
    a, boot, default = parse_block(p, argv)
    t = require(a.table2, "mnist.table2", ("n_starts", "n_steps"))
    study = require(a.study, "robustness.kmeans", ("energy", "eta", "n_starts"))
    som_ctx = load_context(a, knn=False, vae=False)
    km = files.load_npz(a.kmeans, required=("prototypes", "grid_shape", "topology"))
    lab = files.load_npz(a.kmeans_labels, required=("labels", "purity"))
    km_ctx = dataclasses.replace(som_ctx, W=km["prototypes"], labels=lab["labels"], purity=lab["purity"],
                                 grid_shape=tuple(int(v) for v in km["grid_shape"]), topology=str(km["topology"]))
    jobs = mn.pair_jobs(som_ctx, pairs_of(a.pairs), int(study["n_starts"]), a.seed)
    arms = {name: (c, *mn.targets_of(c, jobs)) for name, c in (("som", som_ctx), ("kmeans", km_ctx))}
    blocks = []
    for s in rb.kmeans_grid(study, default)[1:]:
        params = music_at(s, default, "robustness.kmeans")
        rows = []
        for name, (c, targets, relaxed) in arms.items():
            for r in mn.trajectory_rows(c, jobs, targets, relaxed, int(t["n_steps"]), params, a.seed, methods=("music",)):
                rows.append({**r, "prototypes": name, "seed": a.seed})
        checks = claim9.checks(pd.DataFrame(rows), a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        log.info("%s: %s", s.name, {c.name: c.outcome for c in checks})
    save_block(a.checks, "kmeans", a.seed, blocks, [sample("start images per digit pair", (9,), study["n_starts"], t["n_starts"])])


if __name__ == "__main__":
    files.run_main(main)

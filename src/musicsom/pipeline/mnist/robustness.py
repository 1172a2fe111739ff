"""Stage: claims 4-6 over the robustness grid of MNIST at the default dimension, one seed (a whole grid block).

    python -m musicsom.pipeline.mnist.robustness <the context options of mnist.trajectories> --pairs '[[0, 1], ...]' \
        --table2 '{"n_starts": 3, "n_steps": 200, "knn_stride": 5}' --music '{"alpha": 0.5, ...}' \
        --study '{"energy": {...}, "preserve": [null, 1, 2], "eta": [...], ...}' --paper '{"mnist_alpha": 0.999, ...}' \
        --verdicts '{...}' --checks results/robustness/mnist/seed0/checks.csv \
        --trajectories results/robustness/mnist/seed0/trajectories.csv

Grid (:func:`musicsom.experiments.robustness.mnist_grid`): energy form and α × preservation set (every
other prototype, the 1-ring or the 2-ring of the BMU on the torus) crossed in full, a slice over the trust
radius through the default (``mnist.music``), and the paper's plain energy. The Table 2 jobs (pairs ×
starts) are those of the default stage; linear interpolation and the VAE do not depend on MUSIC's settings
and run once; MUSIC runs as one batch per point. Output: the tidy checks table and every MUSIC
trajectory's metrics.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import robustness as rb
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, load_context, pairs_of
from musicsom.pipeline.mnist.grid import Table2Block, add_grid_args, parse_block
from musicsom.pipeline.robustness.blocks import block_table, music_at
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.mnist.robustness")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    add_table2_args(p, "n_starts per pair, n_steps, knn_stride")
    add_grid_args(p)
    p.add_argument("--trajectories", required=True, help="every MUSIC trajectory's metrics at every grid point (CSV) to write")
    a, boot, default = parse_block(p, argv)
    t = require(a.table2, "mnist.table2", ("n_starts", "n_steps", "knn_stride"))
    block = Table2Block.run(load_context(a), pairs_of(a.pairs), int(t["n_starts"]), int(t["n_steps"]), a.seed, a.knn_k,
                            int(t["knn_stride"]))
    blocks, tables = [], []
    for s in rb.mnist_grid(a.study, default, a.paper):
        params = music_at(s, default, "robustness.mnist")
        rows, checks = block.checks_at(params, boot, s.name)
        blocks.append((s, checks))
        tables.append(rows[rows["method"] == "music"].assign(setting=s.name))
        log.info("%s: share clipped %.2f; %s", s.name, rows.loc[rows["method"] == "music", "share_clipped"].mean(),
                 {c.name: c.verdict for c in checks})
    files.save_csv(a.checks, block_table(blocks, "mnist"))
    files.save_csv(a.trajectories, pd.concat(tables, ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)

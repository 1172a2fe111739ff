"""Stage: claims 4-6 along the sensitivity study's MNIST axes at the default D (energy form and α, preserved set, η), one seed.

    python -m musicsom.pipeline.mnist.robustness <the context options of mnist.trajectories> --pairs '[[0, 1], ...]' \
        --table2 '{"n_starts": 3, "n_steps": 200, "knn_stride": 5, ...}' --music '{"alpha": 0.999, ...}' \
        --study '{"energy": {...}, "preserve": [null, 1, 2], "eta": [...], "n_starts": 3, ...}' \
        --verdicts '{...}' --checks results/robustness/mnist/seed0/checks.json \
        --trajectories results/robustness/mnist/seed0/trajectories.csv

Points (:func:`musicsom.experiments.robustness.mnist_grid`): each value of each axis of ``robustness.mnist``
other than the default's, moved alone from ``mnist.music`` (the default point is the default run's own checks).
The Table 2 jobs are the default stage's pairs with the first ``robustness.mnist.n_starts`` starts of its seeded
draw per pair (``mnist.table2.n_starts`` is the headline's; the block file records both); linear interpolation
and the VAE do not depend on MUSIC's settings and run once; MUSIC runs as one batch per point. Output: the block
file (every check with its units) and every MUSIC trajectory's metrics.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import robustness as rb
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, load_context, pairs_of
from musicsom.pipeline.mnist.grid import Table2Block, add_grid_args, parse_block
from musicsom.pipeline.robustness.blocks import music_at, sample, save_block
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.mnist.robustness")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    add_table2_args(p, "n_starts per pair (the headline's), n_steps, knn_stride")
    add_grid_args(p, "mnist", "the MNIST axes (energy, preserve, eta) and the starts per pair at each point")
    p.add_argument("--trajectories", required=True, help="every MUSIC trajectory's metrics at every point (CSV) to write")
    a, boot, default = parse_block(p, argv)
    t = require(a.table2, "mnist.table2", ("n_starts", "n_steps", "knn_stride"))
    study = require(a.study, "robustness.mnist", ("energy", "preserve", "eta", "n_starts"))
    block = Table2Block.run(load_context(a), pairs_of(a.pairs), int(study["n_starts"]), int(t["n_steps"]), a.seed, a.knn_k,
                            int(t["knn_stride"]))
    blocks, tables = [], []
    for s in rb.mnist_grid(study, default)[1:]:
        params = music_at(s, default, "robustness.mnist")
        rows, checks = block.checks_at(params, boot, s.name)
        blocks.append((s, checks))
        tables.append(rows[rows["method"] == "music"].assign(setting=s.name))
        log.info("%s: share clipped %.2f; %s", s.name, rows.loc[rows["method"] == "music", "share_clipped"].mean(),
                 {c.name: c.outcome for c in checks})
    save_block(a.checks, "mnist", a.seed, blocks,
               [sample("start images per digit pair", (4, 5, 6), study["n_starts"], t["n_starts"])])
    files.save_csv(a.trajectories, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())


if __name__ == "__main__":
    files.run_main(main)

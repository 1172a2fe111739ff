"""Stage: claims 4-6 over the robustness grid of MNIST at the default dimension, one seed (a whole grid block).

    python -m musicsom.pipeline.robustness.mnist <the context options of mnist.trajectories> --pairs 0:1 1:7 ... \
        --n-starts 3 --n-steps 200 --grid '{"grid": {...}, "music": {...}, "paper": {...}}' --seed 0 \
        --checks results/robustness/mnist/seed0/checks.csv --trajectories results/robustness/mnist/seed0/trajectories.csv

Grid (:func:`musicsom.experiments.robustness.mnist_grid`): energy form and α × preservation set (every
other prototype, the 1-ring or the 2-ring of the BMU on the torus) crossed in full, a slice over the trust
radius through the default, and the paper's plain energy. The Table 2 jobs (pairs × starts) are those of
the default stage; linear interpolation and the VAE do not depend on MUSIC's settings and run once;
MUSIC runs as one batch per point. Output: the tidy checks table and every MUSIC trajectory's metrics.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim4, claim5, claim6
from musicsom.music import MusicParams
from musicsom.pipeline import _io
from musicsom.pipeline._claims import add_verdict_args, bootstrap_of
from musicsom.pipeline.mnist._common import add_context_args, load_context, parse_pairs
from musicsom.pipeline.robustness._common import add_grid_args, block_table, music_kw, parse_grid

log = logging.getLogger("musicsom.pipeline.robustness.mnist")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--pairs", nargs="+", required=True)
    p.add_argument("--n-starts", type=int, required=True)
    p.add_argument("--n-steps", type=int, required=True)
    add_grid_args(p)
    add_verdict_args(p)
    p.add_argument("--checks", required=True)
    p.add_argument("--trajectories", required=True)
    a = p.parse_args(argv)
    g = parse_grid(a)
    boot = bootstrap_of(a)
    ctx = load_context(a)
    jobs = mn.pair_jobs(ctx, parse_pairs(a.pairs), a.n_starts, a.seed)
    targets, relaxed = mn.targets_of(ctx, jobs)
    fixed = mn.trajectory_rows(ctx, jobs, targets, relaxed, a.n_steps, None, a.seed, methods=("linear", "vae"),
                               knn_k=a.knn_k, knn_stride=a.knn_stride)
    blocks, tables = [], []
    for s in rb.mnist_grid(g["grid"], g["music"], g["paper"]):
        try:
            params = MusicParams(**music_kw(s, g["music"])).validate()
        except ValueError as exc:
            raise _io.InputError(f"robustness.mnist: {exc}") from None
        music = mn.trajectory_rows(ctx, jobs, targets, relaxed, a.n_steps, params, a.seed, methods=("music",),
                                   knn_k=a.knn_k, knn_stride=a.knn_stride)
        rows = pd.DataFrame(music + fixed)
        rows.insert(0, "seed", a.seed)
        checks = (claim4.checks(rows, a.seed, a.n_steps, boot, setting=s.name) + claim5.checks(rows, a.seed, boot, setting=s.name)
                  + claim6.checks(rows, a.seed, boot, setting=s.name))
        blocks.append((s, checks))
        tables.append(rows[rows["method"] == "music"].assign(setting=s.name))
        log.info("%s: share clipped %.2f; %s", s.name, rows.loc[rows["method"] == "music", "share_clipped"].mean(),
                 {c.name: c.verdict for c in checks})
    _io.save_csv(a.checks, block_table(blocks, "mnist"))
    _io.save_csv(a.trajectories, pd.concat(tables, ignore_index=True))


if __name__ == "__main__":
    _io.run_main(main)

"""What the MNIST blocks of the sensitivity study share (``mnist.robustness``, ``mnist.robustness_dim``,
``mnist.robustness_sweeps``, ``kmeans.robustness``): their options, and claims 4-6 at one point.

Every block takes its part of the study (``--study``: ``robustness.mnist``, ``robustness.sweeps`` or
``robustness.kmeans``), the bootstrap (``--verdicts``) and the default MUSIC settings (``--music``, the section
``mnist.music``, which each point changes along its axis), and writes its block file (``--checks``,
:func:`musicsom.pipeline.robustness.blocks.save_block`). The Table 2 blocks run the default stage's jobs once
for the methods that do not depend on MUSIC (linear, VAE) and MUSIC's at each point (:class:`Table2Block`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments.claims import claim4, claim5, claim6
from musicsom.music import MusicParams
from musicsom.pipeline.check_records import bootstrap_of
from musicsom.pipeline.robustness.blocks import add_block_args, add_study_args
from musicsom.pipeline.sections import build


def add_grid_args(p, section: str = "mnist", what: str = "the grid of this block") -> None:
    """``--study`` (the section ``robustness.<section>``), ``--verdicts`` and ``--checks``."""
    add_study_args(p, section, what)
    add_block_args(p, seed=None)  # --seed: the context options' (add_context_args)


def parse_block(p, argv):
    """A block's options, parsed: (the options, the bootstrap of ``--verdicts``, the default MUSIC settings of ``--music``)."""
    a = p.parse_args(argv)
    return a, bootstrap_of(a), build(MusicParams, a.music, "mnist.music")


@dataclass
class Table2Block:
    """The Table 2 jobs of one seed (pairs × starts) at a grid block: the linear and VAE rows, made once."""

    ctx: mn.Context
    jobs: list
    targets: object
    relaxed: object
    fixed: list
    n_steps: int
    seed: int
    knn_k: int
    knn_stride: int

    @classmethod
    def run(cls, ctx: mn.Context, pairs, n_starts: int, n_steps: int, seed: int, knn_k: int, knn_stride: int) -> "Table2Block":
        """Draw the jobs as the default stage does, choose their targets and run the methods MUSIC's settings leave alone."""
        jobs = mn.pair_jobs(ctx, pairs, n_starts, seed)
        targets, relaxed = mn.targets_of(ctx, jobs)
        fixed = mn.trajectory_rows(ctx, jobs, targets, relaxed, n_steps, None, seed, methods=("linear", "vae"),
                                   knn_k=knn_k, knn_stride=knn_stride)
        return cls(ctx, jobs, targets, relaxed, fixed, n_steps, seed, knn_k, knn_stride)

    def checks_at(self, params, boot, setting: str) -> tuple[pd.DataFrame, list]:
        """Every job's rows with MUSIC at ``params`` beside the fixed ones, and claims 4-6 on them at ``setting``."""
        music = mn.trajectory_rows(self.ctx, self.jobs, self.targets, self.relaxed, self.n_steps, params, self.seed,
                                   methods=("music",), knn_k=self.knn_k, knn_stride=self.knn_stride)
        rows = pd.DataFrame(music + self.fixed)
        rows.insert(0, "seed", self.seed)
        checks = (claim4.checks(rows, self.seed, self.n_steps, boot, setting=setting)
                  + claim5.checks(rows, self.seed, boot, setting=setting) + claim6.checks(rows, self.seed, boot, setting=setting))
        return rows, checks

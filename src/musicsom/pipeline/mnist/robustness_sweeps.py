"""Stage: claim 7 (the α, λ, κ sweeps on "0" → "1") over trust radii and energy forms, one seed.

    python -m musicsom.pipeline.mnist.robustness_sweeps <the context options of mnist.sweep> \
        --transition '{"source": 0, "target": 1, ...}' --sweep '{"n_starts": 5, "n_steps": 150, "alpha": [...], ...}' \
        --music '{"alpha": 0.5, ...}' --study '{"sweep_eta": [0.05, 0.2, 1.0], "energy": {...}, ...}' \
        --paper '{"mnist_alpha": 0.999, ...}' --verdicts '{...}' \
        --checks results/robustness/sweeps/seed0/checks.csv --metrics results/robustness/sweeps/seed0/sweeps.csv

Grid (:func:`musicsom.experiments.robustness.sweep_grid`): every trust radius of
``robustness.mnist.sweep_eta`` in the default energy form and in the paper's plain form. At each point the
three sweeps run as in the default stage (:func:`musicsom.experiments.mnist.sweep_rows`); the α sweep uses
the α values of its energy form (``mnist.sweep.alpha`` for per-row-mean, ``robustness.mnist.energy.plain``
for plain), the λ and κ sweeps ``mnist.sweep.lam`` and ``mnist.sweep.kappa``. Claim 7's "κ has no effect"
needs the trust region to bind on every step: the share of clipped steps is recorded with every row.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim7
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_sweep_args, load_context, transition_pair
from musicsom.pipeline.mnist.grid import add_grid_args, parse_block
from musicsom.pipeline.robustness.blocks import block_table, music_at
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.mnist.robustness_sweeps")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False, knn=False)
    add_sweep_args(p, "n_starts, n_steps, and the values of each swept setting")
    add_grid_args(p)
    p.add_argument("--metrics", required=True, help="every sweep row at every grid point (CSV) to write")
    a, boot, default = parse_block(p, argv)
    source, target = transition_pair(a)
    sweep = require(a.sweep, "mnist.sweep", ("n_starts", "n_steps", *mn.SWEPT))
    study = require(a.study, "robustness.mnist", ("energy", "sweep_eta"))
    n_steps = int(sweep["n_steps"])
    ctx = load_context(a, knn=False, vae=False)
    jobs = mn.pair_jobs(ctx, [(source, target)], int(sweep["n_starts"]), a.seed)
    targets, _ = mn.targets_of(ctx, jobs)
    # the α values of each energy form (a form's α means another balance); λ and κ as in the default stage
    alphas = {"plain": study["energy"].get("plain", []), "per_row_mean": sweep["alpha"]}
    blocks, tables = [], []
    for s in rb.sweep_grid(study, default, a.paper):
        base = music_at(s, default, "robustness.mnist (sweeps)")
        sweeps = {}
        for param in mn.SWEPT:
            vals = alphas[s.values["energy"]] if param == "alpha" else sweep[param]
            if vals:  # a form with no α values in the grid has no α sweep
                sweeps[param] = pd.DataFrame(mn.sweep_rows(ctx, jobs, targets, param, vals, base, n_steps, a.seed))
        checks = claim7.checks(sweeps, a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        tables.append(pd.concat(sweeps.values(), ignore_index=True).assign(setting=s.name, seed=a.seed))
        log.info("%s: share clipped (kappa sweep) %.2f; %s", s.name, sweeps["kappa"]["share_clipped"].mean(),
                 {c.name: c.verdict for c in checks})
    files.save_csv(a.checks, block_table(blocks, "mnist"))
    files.save_csv(a.metrics, pd.concat(tables, ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)

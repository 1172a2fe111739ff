"""Stage: claim 7 (the α, λ, κ sweeps on "0" → "1") along the sensitivity study's η and κ axes, one seed.

    python -m musicsom.pipeline.mnist.robustness_sweeps <the context options of mnist.sweep> \
        --transition '{"source": 0, "target": 1, ...}' --sweep '{"n_starts": 20, "n_steps": 150, "alpha": [...], ...}' \
        --music '{"alpha": 0.999, ...}' --study '{"eta": [0.05, 0.2, 1.0], "kappa": [...], "n_starts": 5}' \
        --verdicts '{...}' --checks results/robustness/sweeps/seed0/checks.json --metrics results/robustness/sweeps/seed0/sweeps.csv

Points (:func:`musicsom.experiments.robustness.sweep_grid`): each trust radius of ``robustness.sweeps.eta`` and
each κ of ``robustness.sweeps.kappa`` other than the default's (``mnist.music``), moved alone. At each point the
three sweeps run as in the default stage (:func:`musicsom.experiments.mnist.sweep_rows`, the values of
``mnist.sweep``) around the point's settings: the κ of a κ point is the one the α and λ sweeps run at and the κ
sweep's reference path. The starts are the first ``robustness.sweeps.n_starts`` of the default stage's seeded
draw (``mnist.sweep.n_starts`` is the headline's; the block file records both). Claim 7's "κ has no effect"
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
from musicsom.pipeline.robustness.blocks import music_at, sample, save_block
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.mnist.robustness_sweeps")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False, knn=False)
    add_sweep_args(p, "n_starts (the headline's), n_steps, and the values of each swept setting")
    add_grid_args(p, "sweeps", "the sweeps' axes (eta, kappa) and the starts at each point")
    p.add_argument("--metrics", required=True, help="every sweep row at every point (CSV) to write")
    a, boot, default = parse_block(p, argv)
    source, target = transition_pair(a)
    sweep = require(a.sweep, "mnist.sweep", ("n_starts", "n_steps", *mn.SWEPT))
    study = require(a.study, "robustness.sweeps", ("eta", "kappa", "n_starts"))
    n_steps = int(sweep["n_steps"])
    ctx = load_context(a, knn=False, vae=False)
    jobs = mn.pair_jobs(ctx, [(source, target)], int(study["n_starts"]), a.seed)
    targets, _ = mn.targets_of(ctx, jobs)
    blocks, tables = [], []
    for s in rb.sweep_grid(study, default)[1:]:
        base = music_at(s, default, "robustness.sweeps")
        sweeps = {param: pd.DataFrame(mn.sweep_rows(ctx, jobs, targets, param, sweep[param], base, n_steps, a.seed))
                  for param in mn.SWEPT if sweep[param]}
        checks = claim7.checks(sweeps, a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        tables.append(pd.concat(sweeps.values(), ignore_index=True).assign(setting=s.name, seed=a.seed))
        clipped = sweeps["kappa"]["share_clipped"].mean() if "kappa" in sweeps else float("nan")
        log.info("%s: share clipped (kappa sweep) %.2f; %s", s.name, clipped, {c.name: c.outcome for c in checks})
    save_block(a.checks, "sweeps", a.seed, blocks, [sample("start images of the 0 -> 1 sweeps", (7,), study["n_starts"],
                                                           sweep["n_starts"])])
    files.save_csv(a.metrics, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())


if __name__ == "__main__":
    files.run_main(main)

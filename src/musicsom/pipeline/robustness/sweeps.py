"""Stage: claim 7 (the α, λ, κ sweeps on "0" → "1") over trust radii and energy forms, one seed.

    python -m musicsom.pipeline.robustness.sweeps <the context options of mnist.sweep> --source 0 --target 1 \
        --n-starts 5 --n-steps 150 --grid '{"grid": {...}, "music": {...}, "paper": {...}, "sweeps": {...}}' \
        --seed 0 --checks results/robustness/sweeps/seed0/checks.csv --sweeps results/robustness/sweeps/seed0/sweeps.csv

Grid (:func:`musicsom.experiments.robustness.sweep_grid`): every trust radius of
``robustness.mnist.sweep_eta`` in the default energy form and in the paper's plain form. At each point the
three sweeps run as in the default stage (:func:`musicsom.experiments.mnist.sweep_rows`); the α sweep uses
the α values of its energy form (``mnist.sweep.alpha`` for per-row-mean, ``robustness.mnist.energy.plain``
for plain). Claim 7's "κ has no effect" needs the trust region to bind on every step: the share of
clipped steps is recorded with every row.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim7
from musicsom.music import MusicParams
from musicsom.pipeline import _io
from musicsom.pipeline._claims import add_verdict_args, bootstrap_of
from musicsom.pipeline.mnist._common import add_context_args, add_pair_args, check_pair, load_context
from musicsom.pipeline.robustness._common import add_grid_args, block_table, music_kw, parse_grid

log = logging.getLogger("musicsom.pipeline.robustness.sweeps")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False)
    add_pair_args(p)
    p.add_argument("--n-starts", type=int, required=True)
    p.add_argument("--n-steps", type=int, required=True)
    add_grid_args(p)
    add_verdict_args(p)
    p.add_argument("--checks", required=True)
    p.add_argument("--sweeps", required=True)
    a = p.parse_args(argv)
    check_pair(a.source, a.target)
    g = parse_grid(a)
    boot = bootstrap_of(a)
    ctx = load_context(a, knn=False, vae=False)
    jobs = mn.pair_jobs(ctx, [(a.source, a.target)], a.n_starts, a.seed)
    targets, _ = mn.targets_of(ctx, jobs)
    values = g["sweeps"]
    blocks, tables = [], []
    for s in rb.sweep_grid(g["grid"], g["music"], g["paper"]):
        try:
            base = MusicParams(**music_kw(s, g["music"])).validate()
        except ValueError as exc:
            raise _io.InputError(f"robustness sweeps: {exc}") from None
        sweeps = {}
        for param in ("alpha", "lambda", "kappa"):
            vals = values["alpha"][s.values["energy"]] if param == "alpha" else values[param]
            if vals:  # a form with no α values in the grid has no α sweep
                sweeps[param] = pd.DataFrame(mn.sweep_rows(ctx, jobs, targets, param, vals, base, a.n_steps, a.seed))
        checks = claim7.checks(sweeps, a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        tables.append(pd.concat(sweeps.values(), ignore_index=True).assign(setting=s.name, seed=a.seed))
        log.info("%s: share clipped (kappa sweep) %.2f; %s", s.name, sweeps["kappa"]["share_clipped"].mean(),
                 {c.name: c.verdict for c in checks})
    _io.save_csv(a.checks, block_table(blocks, "mnist"))
    _io.save_csv(a.sweeps, pd.concat(tables, ignore_index=True))


if __name__ == "__main__":
    _io.run_main(main)

"""Stage: claims 1 and 4-6 at one MNIST whitening dimension D of the study's slice, one seed.

    python -m musicsom.pipeline.robustness.mnist_dim <the context options of mnist.trajectories, at that D> \
        --inversion-points 1000 --pairs 0:1 ... --n-starts 1 --n-steps 200 --grid '{...}' --seed 0 \
        --checks results/robustness/mnist_dim/dim400/seed0/checks.csv --inversion results/robustness/mnist_dim/dim400/seed0/inversion.json

At D (``full`` = every component of non-negligible variance, 712 on MNIST) the encoding, classifier, SOM
and labels are those of the D slice's rules. Claim 1: the relative inversion error of the first
``--inversion-points`` test codes and the conditioning of their anchored systems; when the prototypes
cannot invert at this D the check is recorded as failed with the reason (the run goes on). Claims 4-6:
the Table 2 jobs (``--n-starts`` per pair) with the default MUSIC settings and with the paper's plain energy
(:func:`musicsom.experiments.robustness.dim_grid`).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import Bootstrap, claim1, claim4, claim5, claim6
from musicsom.inversion import RankError, activations, invert_per_anchor
from musicsom.music import MusicParams
from musicsom.pipeline import _io
from musicsom.pipeline._claims import add_verdict_args, bootstrap_of
from musicsom.pipeline.mnist._common import add_context_args, load_context, parse_pairs
from musicsom.pipeline.robustness._common import add_grid_args, block_table, music_kw, parse_grid

log = logging.getLogger("musicsom.pipeline.robustness.mnist_dim")


def inversion_checks(ctx, n_points: int, seed: int, boot: Bootstrap, setting: str) -> tuple[list, dict]:
    """Claim 1 at this D: checks and the summary (errors, σ_min, condition numbers, or why it cannot invert)."""
    X = ctx.z_test[:n_points]
    K, D = ctx.W.shape
    summary = {"dim": int(D), "n_prototypes": int(K), "n_points": int(len(X)), "reason": ""}
    if K < D + 1:
        summary["reason"] = f"K = {K} prototypes < D + 1 = {D + 1}: the activations cannot be inverted (Proposition 1)"
    else:
        try:
            A = activations(X, ctx.W)
            X_hat, inverters = invert_per_anchor(A, ctx.W, A.argmin(1))
        except RankError as exc:
            summary["reason"] = f"the anchored systems are rank-deficient: {exc}"
        else:
            err = np.linalg.norm(X_hat - X, axis=1) / np.linalg.norm(X, axis=1)
            cond = np.array([inv.condition_number for inv in inverters.values()])
            smin = np.array([inv.sigma_min for inv in inverters.values()])
            summary.update({"median_relative_error": float(np.median(err)), "max_relative_error": float(err.max()),
                            "median_condition_number": float(np.median(cond)), "max_condition_number": float(cond.max()),
                            "min_sigma_min": float(smin.min()), "n_anchors": int(len(inverters))})
            return claim1.mnist_checks(err, seed, boot, setting=setting, condition_number=float(np.median(cond))), summary
    return claim1.mnist_checks(None, seed, boot, setting=setting, reason=summary["reason"]), summary


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--inversion-points", type=int, required=True, help="test codes inverted for claim 1")
    p.add_argument("--pairs", nargs="+", required=True)
    p.add_argument("--n-starts", type=int, required=True)
    p.add_argument("--n-steps", type=int, required=True)
    p.add_argument("--dim-label", required=True, help="the D of the slice as configured (an integer or 'full')")
    add_grid_args(p)
    add_verdict_args(p)
    p.add_argument("--checks", required=True)
    p.add_argument("--inversion", required=True, help="JSON: inversion error and conditioning at this D")
    a = p.parse_args(argv)
    g = parse_grid(a)
    boot = bootstrap_of(a)
    ctx = load_context(a)
    label = a.dim_label if a.dim_label == "full" else int(a.dim_label)
    settings = [s for s in rb.dim_grid(g["grid"], g["music"], g["paper"], g["default_dim"]) if s.values["dim"] == label]
    jobs = mn.pair_jobs(ctx, parse_pairs(a.pairs), a.n_starts, a.seed)
    targets, relaxed = mn.targets_of(ctx, jobs)
    fixed = mn.trajectory_rows(ctx, jobs, targets, relaxed, a.n_steps, None, a.seed, methods=("linear", "vae"),
                               knn_k=a.knn_k, knn_stride=a.knn_stride)
    blocks = []
    inversion, summary = inversion_checks(ctx, a.inversion_points, a.seed, boot, "")  # the same at every setting of this D
    for s in settings:
        checks = [dataclasses.replace(c, setting=s.name, evidence=list(c.evidence)) for c in inversion]
        params = MusicParams(**music_kw(s, g["music"])).validate()
        music = mn.trajectory_rows(ctx, jobs, targets, relaxed, a.n_steps, params, a.seed, methods=("music",),
                                   knn_k=a.knn_k, knn_stride=a.knn_stride)
        rows = pd.DataFrame(music + fixed)
        rows.insert(0, "seed", a.seed)
        checks += (claim4.checks(rows, a.seed, a.n_steps, boot, setting=s.name) + claim5.checks(rows, a.seed, boot, setting=s.name)
                   + claim6.checks(rows, a.seed, boot, setting=s.name))
        blocks.append((s, checks))
        log.info("%s: %s", s.name, {c.name: c.verdict for c in checks})
    _io.save_csv(a.checks, block_table(blocks, "mnist"))
    _io.save_json(a.inversion, {**summary, "seed": a.seed, "dim_label": a.dim_label})


if __name__ == "__main__":
    _io.run_main(main)

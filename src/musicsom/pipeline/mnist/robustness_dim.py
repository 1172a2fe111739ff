"""Stage: claims 1 and 4-6 at one MNIST whitening dimension D of the study's slice, one seed.

    python -m musicsom.pipeline.mnist.robustness_dim <the context options of mnist.trajectories, at that D> \
        --dim-label 400 --dim 50 --pairs '[[0, 1], ...]' --table2 '{"n_steps": 200, "knn_stride": 5, ...}' \
        --music '{"alpha": 0.5, ...}' --study '{"dims": [...], "dim_starts": 1, "dim_points": 300, ...}' \
        --paper '{"mnist_dim": "full", ...}' --verdicts '{...}' --checks results/robustness/mnist_dim/dim400/seed0/checks.csv \
        --inversion results/robustness/mnist_dim/dim400/seed0/inversion.json

At D (``--dim-label``; ``full`` = every component of non-negligible variance, 712 on MNIST) the encoding,
classifier, SOM and labels are those of the D slice's rules. Claim 1: the relative inversion error of the
first ``robustness.mnist.dim_points`` test codes and the conditioning of their anchored systems; when the
prototypes cannot invert at this D the check is recorded as failed with the reason (the run goes on).
Claims 4-6: the Table 2 jobs (``robustness.mnist.dim_starts`` per pair) with the default MUSIC settings and
with the paper's plain energy (:func:`musicsom.experiments.robustness.dim_grid`).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import Bootstrap, claim1
from musicsom.inversion import RankError, activations, invert_per_anchor
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, load_context, pairs_of
from musicsom.pipeline.mnist.grid import Table2Block, add_grid_args, parse_block
from musicsom.pipeline.robustness.blocks import block_table, dimension, music_at
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.mnist.robustness_dim")


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
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--dim-label", required=True, help="the D of this block as the slice names it (an integer or 'full': the rule's wildcard)")
    p.add_argument("--dim", required=True, help="config mnist.dim: the default D (the grid's default point)")
    add_table2_args(p, "n_steps and knn_stride; robustness.mnist.dim_starts is the starts per pair")
    add_grid_args(p)
    p.add_argument("--inversion", required=True, help="JSON: inversion error and conditioning at this D, to write")
    a, boot, default = parse_block(p, argv)
    t = require(a.table2, "mnist.table2", ("n_steps", "knn_stride"))
    study = require(a.study, "robustness.mnist", ("dims", "dim_starts", "dim_points"))
    ctx = load_context(a)
    label = dimension(a.dim_label)
    settings = [s for s in rb.dim_grid(study, default, a.paper, dimension(a.dim)) if s.values["dim"] == label]
    block = Table2Block.run(ctx, pairs_of(a.pairs), int(study["dim_starts"]), int(t["n_steps"]), a.seed, a.knn_k,
                            int(t["knn_stride"]))
    blocks = []
    inversion, summary = inversion_checks(ctx, int(study["dim_points"]), a.seed, boot, "")  # the same at every setting of this D
    for s in settings:
        checks = [dataclasses.replace(c, setting=s.name, evidence=list(c.evidence)) for c in inversion]
        params = music_at(s, default, "robustness.mnist")
        checks += block.checks_at(params, boot, s.name)[1]
        blocks.append((s, checks))
        log.info("%s: %s", s.name, {c.name: c.verdict for c in checks})
    files.save_csv(a.checks, block_table(blocks, "mnist"))
    files.save_json(a.inversion, {**summary, "seed": a.seed, "dim_label": a.dim_label})


if __name__ == "__main__":
    files.run_main(main)

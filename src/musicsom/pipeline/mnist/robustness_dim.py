"""Stage: claims 1 and 4-6 at one point of the sensitivity study's D axis (one MNIST whitening D), one seed.

    python -m musicsom.pipeline.mnist.robustness_dim <the context options of mnist.trajectories, at that D> \
        --dim-label var99.9 --dim full --dim-starts 1 --dim-points 300 --pairs '[[0, 1], ...]' \
        --table2 '{"n_starts": 3, "n_steps": 200, "knn_stride": 5, ...}' --music '{"alpha": 0.999, ...}' \
        --verdicts '{...}' --checks results/robustness/mnist_dim/dimvar99.9/seed0/checks.json \
        --inversion results/robustness/mnist_dim/dimvar99.9/seed0/inversion.json

At D (``--dim-label``, as ``robustness.mnist.dims`` spells it: a number of components, ``full`` = every component
of non-negligible variance, 712 on MNIST, or ``var<percent>`` = the fewest components holding that share of the
variance) the encoding, classifier, SOM and labels are those of the D axis' rules; every MUSIC setting is the
default's (:func:`musicsom.experiments.robustness.dim_grid`: the D axis moves D alone). Claim 1: the relative
inversion error of the first ``--dim-points`` test codes (``robustness.mnist.dim_points``), the decoded images'
pixel error and the conditioning of their anchored systems; where the prototypes span fewer than D dimensions,
the rank, why, and the errors of the minimum-norm inversion (:func:`musicsom.experiments.claims.claim1.mnist_checks`;
the run goes on). Claims 4-6: the Table 2 jobs with ``--dim-starts`` starts per pair (``robustness.mnist.dim_starts``;
the headline runs ``mnist.table2.n_starts``: the block file records both).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import Bootstrap, claim1
from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.check_records import bootstrap_of
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, load_context, pairs_of
from musicsom.pipeline.mnist.grid import Table2Block
from musicsom.pipeline.robustness.blocks import add_block_args, music_at, sample, save_block
from musicsom.pipeline.sections import build, require

log = logging.getLogger("musicsom.pipeline.mnist.robustness_dim")


def inversion_checks(ctx, n_points: int, seed: int, boot: Bootstrap, setting: str) -> tuple[list, dict]:
    """Claim 1 at this D: checks and the summary (latent and pixel errors, rank, σ_min, condition numbers; where the
    prototypes cannot invert exactly, why, and the errors of the minimum-norm inversion)."""
    X = ctx.z_test[:n_points]
    K, D = ctx.W.shape
    res = claim1.invert_codes(X, ctx.W, ctx.enc)
    err, rank = res["relative_errors"], int(res["rank"].min())
    summary = {"dim": int(D), "n_prototypes": int(K), "n_points": int(len(X)), "rank": rank, "reason": ""}
    if rank < D:
        summary["reason"] = (f"the anchored systems are rank-deficient: rank {rank} < D = {D} (K = {K} prototypes): "
                             "the errors are those of the minimum-norm inversion")
    finite = np.isfinite(res["condition_number"])
    cond = res["condition_number"][finite] if finite.any() else np.array([np.nan])
    summary.update({"median_relative_error": float(np.median(err)), "max_relative_error": float(err.max()),
                    "max_pixel_error_grey_levels": float(res["pixel_errors"].max() / claim1.GREY_LEVEL),
                    "median_condition_number": float(np.median(cond)), "max_condition_number": float(cond.max()),
                    "min_sigma_min": float(res["sigma_min"].min()), "n_anchors": int(np.unique(res["anchors"]).size)})
    return claim1.mnist_checks(err, seed, boot, setting=setting, reason=summary["reason"],
                               condition_number=summary["median_condition_number"], pixel_errors=res["pixel_errors"],
                               rank=rank, dim=D, anchors=res["anchors"]), summary


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--dim-label", required=True, help="the D of this block as the D axis spells it (an integer, 'full' or "
                   "var<percent>: the rule's wildcard)")
    p.add_argument("--dim", required=True, help="config mnist.dim: the default D (the axis' default point)")
    p.add_argument("--dim-starts", type=int, required=True, help="config robustness.mnist.dim_starts: start images per pair")
    p.add_argument("--dim-points", type=int, required=True, help="config robustness.mnist.dim_points: test codes inverted (claim 1)")
    add_table2_args(p, "n_starts (the headline's), n_steps and knn_stride")
    add_block_args(p, seed=None)  # --seed: the context options'
    p.add_argument("--inversion", required=True, help="JSON: inversion error and conditioning at this D, to write")
    a = p.parse_args(argv)
    boot, default = bootstrap_of(a), build(MusicParams, a.music, "mnist.music")
    t = require(a.table2, "mnist.table2", ("n_starts", "n_steps", "knn_stride"))
    if a.dim_starts < 1 or a.dim_points < 1:
        raise files.InputError(f"robustness.mnist.dim_starts and dim_points must be >= 1; got {a.dim_starts} and {a.dim_points}")
    points = [s for s in rb.dim_grid([a.dim_label], a.dim)[1:] if s.value == a.dim_label]
    if not points:
        raise files.InputError(f"--dim-label {a.dim_label} is the default D (mnist.dim = {a.dim}): the default run's own "
                               "checks are that point; the D axis' rules run only the other dimensions")
    setting = points[0]
    ctx = load_context(a)
    block = Table2Block.run(ctx, pairs_of(a.pairs), a.dim_starts, int(t["n_steps"]), a.seed, a.knn_k, int(t["knn_stride"]))
    checks, summary = inversion_checks(ctx, a.dim_points, a.seed, boot, setting.name)
    checks += block.checks_at(music_at(setting, default, "mnist.music"), boot, setting.name)[1]
    log.info("%s (D = %d): %s", setting.name, summary["dim"], {c.name: c.outcome for c in checks})
    save_block(a.checks, "mnist", a.seed, [(setting, checks)],
               [sample("test codes inverted", (1,), summary["n_points"], len(ctx.z_test)),
                sample("start images per digit pair", (4, 5, 6), a.dim_starts, t["n_starts"])],
               extra={"dim_label": a.dim_label, "dim": summary["dim"]})
    files.save_json(a.inversion, {**summary, "seed": a.seed, "dim_label": a.dim_label})


if __name__ == "__main__":
    files.run_main(main)

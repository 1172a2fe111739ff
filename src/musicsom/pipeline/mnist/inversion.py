"""Stage: inversion of the SOM activations of the MNIST test codes, in latent and pixel space (paper §5.3.1; claim 1).

    python -m musicsom.pipeline.mnist.inversion --latent results/mnist/latent.npz --encoding results/mnist/encoding.npz \
        --som results/mnist/seed0/som.npz --inversion '{"n_anchors": 100}' --seed 0 \
        --summary results/mnist/seed0/inversion.json --errors results/mnist/seed0/inversion_errors.npz

For each test code ``x`` (whitened latent) whose BMU is one of ``n_anchors`` BMUs drawn with ``--seed``
(:func:`musicsom.experiments.claims.claim1.anchor_sample`; 0 = every test code) the squared distances to all K
prototypes are computed directly, the anchored system is formed on the BMU with all other prototypes, and
``x̂`` solved by least squares (:func:`musicsom.experiments.claims.claim1.invert_codes`): one SVD per anchor.
Records, per code, the relative latent error ``||x̂ − x|| / ||x||`` and the largest absolute pixel error of the decoded
reconstruction against the decoded code (through the whitening's inverse; pixel units, the images' range
being [0, 1]); and the numerical rank, σ_min and condition number of the anchored systems. When the prototypes
span fewer than D dimensions (K < D + 1, or a rank-deficient system) exact inversion is impossible: the stage
records why (``reason``) and the errors of the minimum-norm inversion, which recovers the part of each code
inside the prototypes' span; claim 1 reads both. It does not stop the run.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.experiments.claims.claim1 import GREY_LEVEL, anchor_sample, invert_codes
from musicsom.experiments.mnist import load_encoder
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require

log = logging.getLogger("musicsom.pipeline.mnist.inversion")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True, help="the whitened codes of mnist.encode (.npz)")
    p.add_argument("--encoding", required=True, help="the PCA whitening of mnist.encode (.npz): decodes to pixels")
    p.add_argument("--som", required=True, help="the SOM (.npz)")
    add_section(p, "inversion", "mnist.inversion", "which test codes are inverted (n_anchors)")
    p.add_argument("--seed", type=int, required=True, help="the seed: the map's, and the draw of the anchors")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    p.add_argument("--errors", required=True, help=".npz with the latent and pixel errors and the rank of every inverted code")
    a = p.parse_args(argv)
    n_anchors = require(a.inversion, "mnist.inversion", ("n_anchors",))["n_anchors"]
    if not isinstance(n_anchors, int) or isinstance(n_anchors, bool) or n_anchors < 0:
        raise files.InputError(f"mnist.inversion.n_anchors must be an integer >= 0 (0 = every test code); got {n_anchors!r}")
    d = files.load_npz(a.latent, required=("x_test",))
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    enc = load_encoder(files.load_npz(a.encoding, required=("mean", "components", "explained_variance")))
    X = d["x_test"]
    K, D = W.shape
    if X.shape[1] != D or enc.components_.shape[0] != D:
        raise files.InputError(f"--latent (D = {X.shape[1]}), --encoding (D = {enc.components_.shape[0]}) and --som "
                               f"(D = {D}) must come from one whitening: rerun mnist_encode and the SOM")
    codes = anchor_sample(X, W, n_anchors, a.seed)
    X = X[codes]
    res = invert_codes(X, W, enc)
    err, pix, rank = res["relative_errors"], res["pixel_errors"], res["rank"]
    r_min, r_max = int(rank.min()), int(rank.max())
    reason = ""
    if r_min < D:
        reason = (f"the anchored systems are rank-deficient: rank {r_min} < D = {D}: the {K} prototypes span only a "
                  f"{r_min}-dimensional affine subspace; exact inversion needs D + 1 = {D + 1} affinely independent "
                  "prototypes (Proposition 1)" + (f", and the map has only K = {K}" if K < D + 1 else "")
                  + "; the errors are those of the minimum-norm inversion")
    finite = np.isfinite(res["condition_number"])
    grey = pix / GREY_LEVEL
    summary = {
        "n_test": int(len(X)), "n_test_codes": int(len(d["x_test"])), "n_anchors_drawn": int(n_anchors),
        "n_prototypes": int(K), "dim": int(D), "rank": r_min, "rank_max": r_max,
        "exact": not reason, "reason": reason, "n_anchors": int(np.unique(res["anchors"]).size),
        "median_relative_error": float(np.median(err)), "p95_relative_error": float(np.percentile(err, 95)),
        "max_relative_error": float(err.max()),
        "median_pixel_error_grey_levels": float(np.median(grey)), "max_pixel_error_grey_levels": float(grey.max()),
        "images_off_by_a_grey_level": int(np.sum(grey >= 1.0)),
        "median_sigma_min": float(np.median(res["sigma_min"])), "min_sigma_min": float(res["sigma_min"].min()),
        "median_condition_number": float(np.median(res["condition_number"][finite])) if finite.any() else None,
        "max_condition_number": float(res["condition_number"][finite].max()) if finite.any() else None,
    }
    if reason:
        log.warning("no exact inversion at D = %d: %s", D, reason)
    log.info("%s inversion of %d test codes (rank %d..%d of D = %d): relative error median %.3g, max %.3g; largest pixel "
             "error median %.3g, max %.3g grey levels", "min-norm" if reason else "exact", err.size, r_min, r_max, D,
             summary["median_relative_error"], summary["max_relative_error"], summary["median_pixel_error_grey_levels"],
             summary["max_pixel_error_grey_levels"])
    files.save_json(a.summary, summary)
    files.save_npz(a.errors, relative_errors=err, pixel_errors=pix, rank=rank, anchors=res["anchors"], codes=codes)


if __name__ == "__main__":
    files.run_main(main)

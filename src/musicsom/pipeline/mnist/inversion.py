"""Stage: exact inversion of the SOM activations of the MNIST test codes (paper §5.3.1; claim 1).

    python -m musicsom.pipeline.mnist.inversion --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz \
        --n-points 0 --summary results/mnist/seed0/inversion.json --errors results/mnist/seed0/inversion_errors.npz

For each test code ``x`` (whitened latent; the first ``--n-points``, 0 = all) the squared distances to
all K prototypes are computed directly, the anchored system is formed on the BMU with all other
prototypes, and ``x̂`` solved by least squares (``musicsom.inversion.invert_per_anchor``). Reports the
relative error ``||x̂ − x|| / ||x||`` (median, 95th percentile, max) and the conditioning of the
systems (σ_min and condition number over the anchors used). When the prototypes cannot give an exact
inversion (K < D + 1, or a rank-deficient system) the stage records why, as a result: claim 1 then
fails at this setting; it does not stop the run.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.inversion import RankError, activations, invert_per_anchor
from musicsom.pipeline import files

log = logging.getLogger("musicsom.pipeline.mnist.inversion")


def relative_errors(X, W) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative inversion error of each row of X anchored on its BMU, and σ_min and condition number of its system."""
    A = activations(X, W)
    bmu = A.argmin(1)
    X_hat, inverters = invert_per_anchor(A, W, bmu)
    err = np.linalg.norm(X_hat - X, axis=1) / np.linalg.norm(X, axis=1)
    smin = np.array([inverters[int(b)].sigma_min for b in bmu])
    cond = np.array([inverters[int(b)].condition_number for b in bmu])
    return err, smin, cond


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True, help="the whitened codes of mnist.encode (.npz)")
    p.add_argument("--som", required=True, help="the SOM (.npz)")
    p.add_argument("--n-points", type=int, default=0, help="invert the first n test codes (0 = all)")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    p.add_argument("--errors", required=True, help=".npz with the relative error of every inverted code")
    a = p.parse_args(argv)
    if a.n_points < 0:
        raise files.InputError(f"--n-points must be >= 0; got {a.n_points}")
    d = files.load_npz(a.latent, required=("x_test",))
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    X = d["x_test"][: a.n_points or None]
    K, D = W.shape
    summary = {"n_test": int(len(X)), "n_prototypes": int(K), "dim": int(D), "reason": ""}
    err = np.zeros(0)
    if K < D + 1:
        summary["reason"] = f"K = {K} prototypes < D + 1 = {D + 1}: the activations cannot be inverted (Proposition 1)"
    else:
        try:
            err, smin, cond = relative_errors(X, W)
        except RankError as exc:
            summary["reason"] = f"the anchored systems are rank-deficient: {exc}"
        else:
            summary.update({
                "median_relative_error": float(np.median(err)),
                "p95_relative_error": float(np.percentile(err, 95)),
                "max_relative_error": float(err.max()),
                "median_sigma_min": float(np.median(smin)),
                "min_sigma_min": float(smin.min()),
                "median_condition_number": float(np.median(cond)),
                "max_condition_number": float(cond.max()),
            })
    if summary["reason"]:
        log.warning("no exact inversion at D = %d: %s", D, summary["reason"])
    else:
        log.info("relative inversion error over %d test codes: median %.3g, max %.3g; condition number median %.3g",
                 err.size, summary["median_relative_error"], summary["max_relative_error"], summary["median_condition_number"])
    files.save_json(a.summary, summary)
    files.save_npz(a.errors, relative_errors=err)


if __name__ == "__main__":
    files.run_main(main)

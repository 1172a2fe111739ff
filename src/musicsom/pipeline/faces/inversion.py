"""Stage: invert the SOM activations of the held-out face codes and record the error.

    python -m musicsom.pipeline.faces.inversion --latent results/faces/seed0/latent.npz \
        --som results/faces/seed0/som.npz --out results/faces/seed0/inversion.json

Every held-out code's activation vector (squared distances to all K prototypes) is inverted with the
anchored least-squares system of docs/METHOD.md §2, anchored on the code's BMU; the error ``||x̂ − x||`` must be
round-off when K ≥ D + 1 (claim 1 on faces). Also records the SOM's quantisation and topographic
errors on the held-out codes.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files
from musicsom.inversion import activations, invert_per_anchor
from musicsom.som import best_matching_units, quantization_error, topographic_error

log = logging.getLogger("musicsom.pipeline.faces.inversion")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "som")
    p.add_argument("--out", required=True, help="JSON summary to write")
    args = p.parse_args(argv)

    lat = files.load_npz(args.latent, required=("x_test",))
    som = files.load_npz(args.som, required=("prototypes", "grid_shape", "topology"))
    W, X = som["prototypes"], lat["x_test"]
    A = activations(X, W)
    X_hat, inverters = invert_per_anchor(A, W, best_matching_units(X, W))
    err = np.linalg.norm(X_hat - X, axis=1)
    conds = [inv.condition_number for inv in inverters.values()]
    rel = err / np.linalg.norm(X, axis=1)
    grid = tuple(int(v) for v in som["grid_shape"])
    out = {
        "K": int(W.shape[0]), "D": int(W.shape[1]), "n_heldout": int(X.shape[0]),
        "median_error": float(np.median(err)), "max_error": float(err.max()),
        "median_relative_error": float(np.median(rel)), "max_relative_error": float(rel.max()),
        "condition_number_median": float(np.median(conds)), "condition_number_max": float(np.max(conds)),
        "heldout_quantization_error": float(quantization_error(X, W)),
        "heldout_topographic_error": float(topographic_error(X, W, grid, str(som["topology"]))),
    }
    log.info("inversion of %d held-out codes: median error %.2e, max %.2e", X.shape[0], out["median_error"], out["max_error"])
    files.save_json(args.out, out)


if __name__ == "__main__":
    files.run_main(main)

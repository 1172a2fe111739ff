"""Stage: train a batch SOM on the ``x_train`` array of an ``.npz`` and save it.

    python -m musicsom.pipeline.train_som --data results/gmm/seed0/data.npz --rows 20 --cols 15 \
        --topology rectangular --epochs 30 --seed 0 --out results/gmm/seed0/som.npz

The output holds ``prototypes`` (K×D), ``grid_shape``, ``topology``, the quantization and
topographic errors on the training data, and the training settings. Shared by every experiment.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from musicsom.pipeline import _io
from musicsom.som import SOM, TOPOLOGIES

log = logging.getLogger("musicsom.pipeline.train_som")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help=".npz holding x_train (n × D)")
    p.add_argument("--key", default="x_train", help="array name inside --data")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--cols", type=int, required=True)
    p.add_argument("--topology", choices=list(TOPOLOGIES), default="rectangular")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--sigma-start", type=float, default=None, help="initial neighbourhood width (default: half the larger side)")
    p.add_argument("--sigma-end", type=float, default=1.0)
    p.add_argument("--init", choices=["pca", "random"], default="pca")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="threads of the BMU search (the rule's threads; BLAS stays on one; the result does not depend on it)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    data = _io.load_npz(args.data, required=(args.key,))
    X = data[args.key].astype(np.float64)
    K = args.rows * args.cols
    if K < X.shape[1] + 1:  # a valid map, but its activations cannot be inverted: the inversion stages say so
        log.warning("a %d×%d SOM has K = %d prototypes, fewer than D + 1 = %d: its activations cannot be inverted",
                    args.rows, args.cols, K, X.shape[1] + 1)
    som = SOM((args.rows, args.cols), args.topology, args.epochs, args.sigma_start, args.sigma_end, args.init, args.seed,
              n_threads=max(1, args.threads))
    t0 = time.perf_counter()
    som.fit(X)
    seconds = time.perf_counter() - t0
    qe, te = som.quantization_error(X), som.topographic_error(X)
    log.info("trained %s SOM %dx%d on %s in %.1f s: QE %.4f TE %.4f", args.topology, args.rows, args.cols, X.shape, seconds, qe, te)
    _io.save_npz(
        args.out,
        prototypes=som.prototypes_,
        grid_shape=np.array([args.rows, args.cols]),
        topology=np.array(args.topology),
        quantization_error=np.array(qe),
        topographic_error=np.array(te),
        sigmas=som.sigmas((args.rows, args.cols)),
        seed=np.array(args.seed),
    )


if __name__ == "__main__":
    _io.run_main(main)

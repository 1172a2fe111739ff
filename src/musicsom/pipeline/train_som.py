"""Stage: train a batch SOM on the ``x_train`` array of an ``.npz`` and save it.

    python -m musicsom.pipeline.train_som --data results/gmm/seed0/data.npz --som '{"rows": 20, "cols": 15,
        "topology": "rectangular", "epochs": 30, "sigma_start": null, "sigma_end": 1.0, "init": "pca"}' \
        --seed 0 --threads 1 --backend numpy --device cpu --out results/gmm/seed0/som.npz

The output holds ``prototypes`` (K×D), ``grid_shape``, ``topology``, the quantization and
topographic errors on the training data, and the training settings. Shared by every experiment.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from musicsom.pipeline import files, sections
from musicsom.pipeline.sections import add_section

log = logging.getLogger("musicsom.pipeline.train_som")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help=".npz holding x_train (n × D)")
    p.add_argument("--key", default="x_train", help="array name inside --data")
    add_section(p, "som", "<experiment>.som", "the map (rows, cols, topology, epochs, sigma_start, sigma_end, init)")
    p.add_argument("--seed", type=int, required=True, help="seed of the random initialisation (one of the config's seeds)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads of the BMU search (the rule's threads; BLAS stays on one; the result does not depend on it)")
    p.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                   help="the engine of the epochs (the config's som_backend; numpy is the reference)")
    p.add_argument("--device", default="cpu", help="where the torch backend runs (the config's device: cpu, cuda, auto)")
    p.add_argument("--out", required=True, help=".npz to write")
    args = p.parse_args(argv)
    som = sections.som(args.som, "<experiment>.som", random_state=args.seed, n_threads=max(1, args.threads),
                       backend=args.backend, device=args.device if args.backend == "torch" else "cpu")
    rows, cols = som.grid_shape

    data = files.load_npz(args.data, required=(args.key,))
    X = data[args.key].astype(np.float64)
    K = rows * cols
    if K < X.shape[1] + 1:  # a valid map, but its activations cannot be inverted: the inversion stages say so
        log.warning("a %d×%d SOM has K = %d prototypes, fewer than D + 1 = %d: its activations cannot be inverted",
                    rows, cols, K, X.shape[1] + 1)
    t0 = time.perf_counter()
    som.fit(X)
    seconds = time.perf_counter() - t0
    qe, te = som.quantization_error(X), som.topographic_error(X)
    log.info("trained %s SOM %dx%d on %s in %.1f s: QE %.4f TE %.4f", som.topology, rows, cols, X.shape, seconds, qe, te)
    files.save_npz(
        args.out,
        prototypes=som.prototypes_,
        grid_shape=np.array([rows, cols]),
        topology=np.array(som.topology),
        quantization_error=np.array(qe),
        topographic_error=np.array(te),
        sigmas=som.sigmas((rows, cols)),
        seed=np.array(args.seed),
        backend=np.array(args.backend),
    )


if __name__ == "__main__":
    files.run_main(main)

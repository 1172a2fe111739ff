"""Stage (k-means control): k-means prototypes with the SOM's K on the same encoding, saved like a SOM.

    python -m musicsom.pipeline.kmeans.fit --latent results/mnist/latent.npz --k 900 \
        --kmeans '{"n_init": 1, "max_iter": 100}' --seed 0 --threads 1 --out results/kmeans/seed0/prototypes.npz

The paper's §6 says unstructured prototypes such as k-means give unstable, uninterpretable MUSIC
motion but never shows it; this stage makes the prototypes to test that. The output has the keys
of a trained SOM (``prototypes``, ``grid_shape`` = (K, 1), ``topology`` = "none": k-means has no
lattice, so lattice-ring preservation is meaningless on it) so the MNIST trajectory stages read it
unchanged.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.cluster import KMeans

from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require
from musicsom.som import quantization_error

log = logging.getLogger("musicsom.pipeline.kmeans.fit")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True, help="npz holding x_train (the encoded training set)")
    p.add_argument("--k", type=int, required=True, help="number of prototypes (config mnist.som.rows × mnist.som.cols)")
    add_section(p, "kmeans", "kmeans", "the k-means fit (n_init restarts, max_iter Lloyd iterations at most)")
    p.add_argument("--seed", type=int, required=True, help="seed of the k-means initialisation (one of the config's seeds)")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenMP threads of scikit-learn's k-means (the rule's threads; the centres' last bits depend on the count)")
    p.add_argument("--out", required=True, help=".npz of the centres to write, laid out like a SOM's")
    a = p.parse_args(argv)
    km_cfg = require(a.kmeans, "kmeans", ("n_init", "max_iter"))
    from threadpoolctl import threadpool_limits

    # scikit-learn's Lloyd loop runs on OpenMP threads and calls BLAS on one thread inside them; one BLAS
    # thread outside it too, so the process runs exactly --threads threads (same centres as BLAS on more)
    threadpool_limits(max(1, a.threads), user_api="openmp")
    threadpool_limits(1, user_api="blas")
    X = files.load_npz(a.latent, required=("x_train",))["x_train"].astype(np.float64)
    if not X.shape[1] + 1 <= a.k <= X.shape[0]:
        raise files.InputError(f"--k must be between D + 1 = {X.shape[1] + 1} (to invert) and the number of samples {X.shape[0]}; got {a.k}")
    t0 = time.perf_counter()
    km = KMeans(n_clusters=a.k, n_init=int(km_cfg["n_init"]), max_iter=int(km_cfg["max_iter"]), random_state=a.seed).fit(X)
    W = km.cluster_centers_.astype(np.float64)
    qe = quantization_error(X, W)
    log.info("k-means K = %d on %s in %.1f s (%d iterations): QE %.4f", a.k, X.shape, time.perf_counter() - t0, km.n_iter_, qe)
    files.save_npz(
        a.out,
        prototypes=W,
        grid_shape=np.array([a.k, 1]),
        topology=np.array("none"),
        quantization_error=np.array(qe),
        n_iter=np.array(km.n_iter_),
        seed=np.array(a.seed),
    )


if __name__ == "__main__":
    files.run_main(main)

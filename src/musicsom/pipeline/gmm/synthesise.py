"""Stage: sample the Gaussian mixture (train and test sets, component labels and means).

    python -m musicsom.pipeline.gmm.synthesise --dim 10 --n-train 25000 --n-test 8000 --seed 0 --out raw.npz

Writes ``x_train``, ``y_train``, ``x_test``, ``y_test`` and the component ``means`` (raw units).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import _io
from musicsom.experiments.gmm import synthesise_mixture

log = logging.getLogger("musicsom.pipeline.gmm.synthesise")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--n-train", type=int, required=True)
    p.add_argument("--n-test", type=int, required=True)
    p.add_argument("--components", type=int, default=3)
    p.add_argument("--radius", type=float, default=3.0, help="distance of the means from the origin (first two coordinates)")
    p.add_argument("--spread", type=float, default=0.5, help="component standard deviation in the first two coordinates")
    p.add_argument("--noise", type=float, default=0.1, help="standard deviation in the other coordinates")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    x_train, y_train, means = synthesise_mixture(a.n_train, a.dim, a.components, a.radius, a.spread, a.noise, rng)
    x_test, y_test, _ = synthesise_mixture(a.n_test, a.dim, a.components, a.radius, a.spread, a.noise, rng)
    log.info("mixture: %d train, %d test, D = %d, %d components", a.n_train, a.n_test, a.dim, a.components)
    _io.save_npz(a.out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, means=means)


if __name__ == "__main__":
    _io.run_main(main)

"""Stage: sample the Gaussian mixture (train and test sets, component labels and means).

    python -m musicsom.pipeline.gmm.synthesise --mixture '{"dim": 10, "n_train": 25000, "n_test": 8000,
        "components": 3, "radius": 3.0, "spread": 0.5, "noise": 0.1}' --seed 0 --out raw.npz

Writes ``x_train``, ``y_train``, ``x_test``, ``y_test`` and the component ``means`` (raw units).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require
from musicsom.experiments.gmm import synthesise_mixture

log = logging.getLogger("musicsom.pipeline.gmm.synthesise")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_section(p, "mixture", "gmm.mixture", "the mixture (dim, n_train, n_test, components, radius, spread, noise)")
    p.add_argument("--seed", type=int, required=True, help="seed of the draw (one of the config's seeds)")
    p.add_argument("--out", required=True, help=".npz to write")
    a = p.parse_args(argv)
    m = require(a.mixture, "gmm.mixture", ("dim", "n_train", "n_test", "components", "radius", "spread", "noise"))
    shape = (m["dim"], m["components"], m["radius"], m["spread"], m["noise"])
    rng = np.random.default_rng(a.seed)
    x_train, y_train, means = synthesise_mixture(m["n_train"], *shape, rng)
    x_test, y_test, _ = synthesise_mixture(m["n_test"], *shape, rng)
    log.info("mixture: %d train, %d test, D = %d, %d components", m["n_train"], m["n_test"], m["dim"], m["components"])
    files.save_npz(a.out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, means=means)


if __name__ == "__main__":
    files.run_main(main)

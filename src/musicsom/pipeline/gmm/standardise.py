"""Stage: standardise the mixture with training statistics (per-coordinate z-score, or one global scale).

    python -m musicsom.pipeline.gmm.standardise --raw raw.npz --mode per_coordinate --out data.npz

Writes the standardised ``x_train``, ``x_test``, the labels, the component ``means`` in the
standardised space, and the training ``mean``/``scale`` used (see gmm.standardise).
"""

from __future__ import annotations

from musicsom.pipeline import _io
from musicsom.experiments.gmm import standardise


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--raw", required=True)
    p.add_argument("--mode", choices=["per_coordinate", "global"], default="per_coordinate")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    raw = _io.load_npz(a.raw, required=("x_train", "y_train", "x_test", "y_test", "means"))
    x_train, x_test, means, mean, scale = standardise(raw["x_train"], raw["x_test"], raw["means"], mode=a.mode)
    _io.save_npz(a.out, x_train=x_train, y_train=raw["y_train"], x_test=x_test, y_test=raw["y_test"], means=means, mean=mean, scale=scale)


if __name__ == "__main__":
    _io.run_main(main)

"""Stage: standardise the mixture with training statistics (per-coordinate z-score, or one global scale).

    python -m musicsom.pipeline.gmm.standardise --raw raw.npz --standardise per_coordinate --out data.npz

Writes the standardised ``x_train``, ``x_test``, the labels, the component ``means`` in the
standardised space, and the training ``mean``/``scale`` used (see gmm.standardise).
"""

from __future__ import annotations

from musicsom.pipeline import files
from musicsom.experiments.gmm import standardise


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--raw", required=True, help="the mixture of gmm.synthesise (.npz, raw units)")
    p.add_argument("--standardise", required=True, choices=["per_coordinate", "global"],
                   help="config gmm.standardise: a z-score per coordinate, or one global scale that keeps the shape")
    p.add_argument("--out", required=True, help=".npz to write (standardised, with the mean and scale used)")
    a = p.parse_args(argv)
    raw = files.load_npz(a.raw, required=("x_train", "y_train", "x_test", "y_test", "means"))
    x_train, x_test, means, mean, scale = standardise(raw["x_train"], raw["x_test"], raw["means"], mode=a.standardise)
    files.save_npz(a.out, x_train=x_train, y_train=raw["y_train"], x_test=x_test, y_test=raw["y_test"], means=means, mean=mean, scale=scale)


if __name__ == "__main__":
    files.run_main(main)

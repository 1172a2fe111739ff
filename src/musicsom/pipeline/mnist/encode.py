"""Stage: PCA whitening of MNIST (fit on the training images), the latent codes of train and test.

    python -m musicsom.pipeline.mnist.encode --data results/data/digits.npz --dim 50 --n-train 0 --n-test 0 \
        --encoding results/mnist/encoding.npz --latent results/mnist/latent.npz --summary results/mnist/encoding.json

``--n-train`` / ``--n-test`` (config ``mnist.n_train`` / ``mnist.n_test``) keep the first n images (0 = all;
the smoke run uses a slice). ``--dim`` is a number of components, ``full`` (every component of non-negligible
variance) or ``var<percent>`` (e.g. ``var99.9``: the fewest leading components holding that share of the pixel
variance, :class:`musicsom.encoding.PCAWhitening` with a float ``n_components``). The encoding holds the training mean, the principal axes and their variances
(the decoder back to pixels of any latent state); the latent file holds ``x_train``, ``y_train``,
``x_test``, ``y_test`` in the whitened space (the SOM, MUSIC and the classifier work there).
"""

from __future__ import annotations

import logging
import re

import numpy as np

from musicsom.pipeline import files
from musicsom.encoding import PCAWhitening, flatten_images
from musicsom.pipeline.mnist.context import add_slice_args, slice_digits

log = logging.getLogger("musicsom.pipeline.mnist.encode")

#: the variance-share spelling of D: "var" and a percentage in (0, 100), e.g. var99.9 (99.9 % of the variance)
VAR_SHARE = re.compile(r"var([1-9][0-9]?(?:\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)")  # the schema's pattern


def n_components(dim: str) -> int | float | str:
    """``PCAWhitening``'s ``n_components`` for a D as the config writes it: an integer, ``full`` or ``var<percent>``."""
    text = str(dim).strip()
    if text == "full":
        return "full"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    match = VAR_SHARE.fullmatch(text)
    if match:
        return float(match.group(1) + "e-2")  # a percentage, parsed exactly (99.9 / 100 would give 0.99900...01)
    raise files.InputError(
        f"--dim (config mnist.dim or a D of robustness.mnist.dims) must be a positive integer, 'full', or 'var' and a "
        f"percentage of the variance in (0, 100) such as var99.9; got {dim!r}"
    )


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="digits.npz with x_train, y_train, x_test, y_test (uint8 images)")
    p.add_argument("--dim", required=True, help="config mnist.dim (or a D of the robustness study's slice): the latent "
                   "dimension D (principal components kept), 'full' for every component of non-negligible variance (712 on "
                   "MNIST), or var<percent> (e.g. var99.9) for the fewest components holding that share of the variance")
    add_slice_args(p)
    p.add_argument("--encoding", required=True, help=".npz of the whitening to write (mean, principal axes, variances)")
    p.add_argument("--latent", required=True, help=".npz of the whitened codes to write (x_train, y_train, x_test, y_test)")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    a = p.parse_args(argv)
    components = n_components(a.dim)
    d = slice_digits(files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, a.n_test)
    Xtr, Xte = flatten_images(d["x_train"]), flatten_images(d["x_test"])
    enc = PCAWhitening(components).fit(Xtr)
    Ztr, Zte = enc.encode(Xtr), enc.encode(Xte)
    rec = enc.decode(Zte)
    summary = {
        "dim": int(enc.components_.shape[0]),
        "dim_requested": a.dim,
        "n_train": int(len(Xtr)),
        "n_test": int(len(Xte)),
        "explained_variance_ratio_total": float(enc.explained_variance_ratio_.sum()),
        "explained_variance_ratio": enc.explained_variance_ratio_,
        "test_reconstruction_rmse": float(np.sqrt(((rec - Xte) ** 2).mean())),
        "train_latent_std_range": [float(Ztr.std(0).min()), float(Ztr.std(0).max())],
    }
    log.info("PCA whitening to D = %d keeps %.1f%% of the pixel variance; test reconstruction RMSE %.4f",
             summary["dim"], 100 * summary["explained_variance_ratio_total"], summary["test_reconstruction_rmse"])
    files.save_npz(a.encoding, mean=enc.mean_, components=enc.components_, explained_variance=enc.explained_variance_,
                 total_variance=np.array(enc.total_variance_))
    files.save_npz(a.latent, x_train=Ztr, y_train=d["y_train"], x_test=Zte, y_test=d["y_test"])
    files.save_json(a.summary, summary)


if __name__ == "__main__":
    files.run_main(main)

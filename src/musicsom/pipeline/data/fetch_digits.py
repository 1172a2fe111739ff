"""Stage: fetch and verify MNIST (or Fashion-MNIST), and save it as one ``.npz``.

    python -m musicsom.pipeline.data.fetch_digits --digits mnist --mirror ../shared/data --raw-dir results/data/raw \
        --out results/data/digits.npz

The four IDX ``.gz`` files are fetched into ``--raw-dir/<mnist|fashion-mnist>/`` from the mirror (``--mirror``;
when empty, ``$MUSICSOM_DATA_MIRROR``) or the canonical URLs and verified against pinned hashes (docs/DATA.md).
The output holds ``x_train`` (60000, 28, 28) uint8, ``y_train`` int64, ``x_test`` (10000, 28, 28),
``y_test`` and ``dataset`` (0-d str).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.data import add_mirror_arg
from musicsom.pipeline.datasets.mnist import DIGIT_DATASETS, fetch_digits

log = logging.getLogger("musicsom.pipeline.data.fetch_digits")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--digits", choices=sorted(DIGIT_DATASETS), required=True, help="the dataset (config data.digits)")
    add_mirror_arg(p)
    p.add_argument("--raw-dir", default="results/data/raw", help="folder of the verified downloads (a cache)")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--no-progress", action="store_true", help="no download progress bar")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    d = fetch_digits(args.raw_dir, args.digits, args.mirror, progressbar=not args.no_progress)
    for split in ("train", "test"):
        counts = np.bincount(d[f"y_{split}"], minlength=10).tolist()
        log.info("%s %s: %s images, label counts %s", args.digits, split, d[f"x_{split}"].shape, counts)
    files.save_npz(args.out, **d)
    log.info("wrote %s in %.1f s", args.out, time.perf_counter() - t0)


if __name__ == "__main__":
    files.run_main(main)

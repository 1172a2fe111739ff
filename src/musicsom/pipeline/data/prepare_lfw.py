"""Stage: verify the LFW deep-funneled images and save the centre-cropped faces and their labels.

    python -m musicsom.pipeline.data.prepare_lfw --archive results/data/raw/lfw/lfw-deepfunneled.tgz \
        --names results/data/raw/lfw/lfw-names.txt --lfw '{"crop": 125, "size": 64}' \
        --labels .../female_names.txt .../male_names.txt .../dfi/lfw_binary_attributes2.npz .../dfi/filelist.txt \
        --out results/data/lfw_faces.npz --labels-out results/data/lfw_labels.csv

The archive is read as a stream (never extracted to disk); its image-set digest must equal the
pinned one. Output: ``images`` (13233, S, S, 3) uint8 (centre crop, Pillow BOX resize), ``person``,
``image_id``, sorted by image id; and a CSV image_id, person, gender, black. Without the label
files (``--labels`` with none), gender and black are "unknown".
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from musicsom.pipeline import files
from musicsom.pipeline.datasets.fetch import GROUPS
from musicsom.pipeline.datasets.labels import label_table, read_dfi_attribute, read_gender
from musicsom.pipeline.datasets.lfw import load_faces
from musicsom.pipeline.sections import add_section, require

log = logging.getLogger("musicsom.pipeline.data.prepare_lfw")

#: the file names of the label files: AFIF4's gender lists, DFI's attributes and the row order of those
LABEL_FILES = sorted(Path(name).name for name in GROUPS["lfw_labels"])


def label_paths(paths) -> dict[str, str] | None:
    """The ``--labels`` files by their registry file names, or None when none are given."""
    if not paths:
        return None
    given = {Path(p).name: p for p in paths}
    if sorted(given) != LABEL_FILES or len(paths) != len(LABEL_FILES):
        raise files.InputError(f"--labels takes the {len(LABEL_FILES)} files {LABEL_FILES} (the registry group "
                               f"lfw_labels) or none; got {list(map(str, paths))}")
    return given


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--archive", required=True, help="verified lfw-deepfunneled archive")
    p.add_argument("--names", help="lfw-names.txt: check the per-person image counts")
    add_section(p, "lfw", "data.lfw", "crop: the centre crop side (pixels of the 250x250 image); size: the output side")
    p.add_argument("--labels", nargs="*", default=[], metavar="FILE",
                   help=f"the label files {LABEL_FILES} (AFIF4 gender lists, DFI attributes and their row "
                        "order; any order), or none: every gender and black label is then unknown")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--labels-out", required=True, help="output .csv")
    args = p.parse_args(argv)
    lfw = require(args.lfw, "data.lfw", ("crop", "size"))
    crop, size = int(lfw["crop"]), int(lfw["size"])
    if not 8 <= size <= 250 or not 1 <= crop <= 250:
        raise files.InputError(f"data.lfw: crop must be in 1..250 and size in 8..250 (got {crop}, {size})")
    labels = label_paths(args.labels)

    t0 = time.perf_counter()
    faces = load_faces(args.archive, crop, size, names=args.names)
    gender = black = None
    if labels is not None:
        gender = read_gender(labels["female_names.txt"], labels["male_names.txt"])
        black = read_dfi_attribute(labels["lfw_binary_attributes2.npz"], labels["filelist.txt"], "Black")
    table = label_table(faces["image_id"], faces["person"], gender, black)
    for col in ("gender", "black"):
        log.info("%s: %s", col, table[col].value_counts().to_dict())
    files.save_npz(args.out, **faces)
    files.save_csv(args.labels_out, table)
    log.info("wrote %s %s and %s in %.1f s", args.out, faces["images"].shape, args.labels_out, time.perf_counter() - t0)


if __name__ == "__main__":
    files.run_main(main)

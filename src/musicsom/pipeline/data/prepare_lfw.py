"""Stage: verify the LFW deep-funneled images and save the centre-cropped faces and their labels.

    python -m musicsom.pipeline.data.prepare_lfw --archive results/data/raw/lfw/lfw-deepfunneled.tgz \
        --names results/data/raw/lfw/lfw-names.txt --crop 125 --size 64 \
        --female .../female_names.txt --male .../male_names.txt \
        --dfi .../lfw_binary_attributes2.npz --dfi-filelist .../filelist.txt \
        --out results/data/lfw_faces.npz --labels-out results/data/lfw_labels.csv

The archive is read as a stream (never extracted to disk); its image-set digest must equal the
pinned one. Output: ``images`` (13233, S, S, 3) uint8 (centre crop, Pillow BOX resize), ``person``,
``image_id``, sorted by image id; and a CSV image_id, person, gender, black. Without the label
files, gender and black are "unknown".
"""

from __future__ import annotations

import logging
import time

from musicsom.pipeline import _io
from musicsom.data.labels import label_table, read_dfi_attribute, read_gender
from musicsom.data.lfw import load_faces

log = logging.getLogger("musicsom.pipeline.data.prepare_lfw")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--archive", required=True, help="verified lfw-deepfunneled archive")
    p.add_argument("--names", help="lfw-names.txt: check the per-person image counts")
    p.add_argument("--crop", type=int, default=125, help="centre crop side (pixels of the 250x250 image)")
    p.add_argument("--size", type=int, default=64, help="output side")
    p.add_argument("--female", help="AFIF4 female_names.txt")
    p.add_argument("--male", help="AFIF4 male_names.txt")
    p.add_argument("--dfi", help="DFI lfw_binary_attributes2.npz")
    p.add_argument("--dfi-filelist", help="DFI filelist.txt (row order of --dfi)")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--labels-out", required=True, help="output .csv")
    args = p.parse_args(argv)
    if bool(args.female) != bool(args.male) or bool(args.dfi) != bool(args.dfi_filelist):
        raise ValueError("give --female with --male, and --dfi with --dfi-filelist")
    if not 8 <= args.size <= 250 or not 1 <= args.crop <= 250:
        raise ValueError(f"--crop must be in 1..250 and --size in 8..250 (got {args.crop}, {args.size})")

    t0 = time.perf_counter()
    faces = load_faces(args.archive, args.crop, args.size, names=args.names)
    gender = read_gender(args.female, args.male) if args.female else None
    black = read_dfi_attribute(args.dfi, args.dfi_filelist, "Black") if args.dfi else None
    table = label_table(faces["image_id"], faces["person"], gender, black)
    for col in ("gender", "black"):
        log.info("%s: %s", col, table[col].value_counts().to_dict())
    _io.save_npz(args.out, **faces)
    _io.save_csv(args.labels_out, table)
    log.info("wrote %s %s and %s in %.1f s", args.out, faces["images"].shape, args.labels_out, time.perf_counter() - t0)


if __name__ == "__main__":
    _io.run_main(main)

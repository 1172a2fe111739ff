"""The data layer: a registry of the public files, verified fetching (pooch or a local mirror), loaders.

    from musicsom.pipeline.datasets import fetch_digits, fetch_group, load_faces
    digits = fetch_digits("results/data/raw", "mnist")          # $MUSICSOM_DATA_MIRROR if set
    paths = fetch_group("lfw", "results/data/raw")
    faces = load_faces(paths["lfw/lfw-deepfunneled.tgz"], crop=125, size=64)

See docs/DATA.md for sources, checksums, licences and citations.
"""

from .fetch import (
    GROUPS,
    LFW_IMAGES_DIGEST,
    MIRROR_ENV,
    REGISTRY,
    ArchiveError,
    DataError,
    DataFile,
    DownloadError,
    FormatError,
    HashMismatch,
    MirrorError,
    data_mirror,
    fetch_file,
    fetch_group,
    file_hashes,
    verify,
)
from .labels import label_table, read_dfi_attribute, read_gender
from .lfw import archive_digest, crop_resize, extract_images, image_set_digest, iter_archive, load_faces, read_names, tree_digest
from .mnist import DIGIT_DATASETS, fetch_digits, load_digits, read_idx

__all__ = [
    "GROUPS", "LFW_IMAGES_DIGEST", "MIRROR_ENV", "REGISTRY", "DIGIT_DATASETS",
    "ArchiveError", "DataError", "DataFile", "DownloadError", "FormatError", "HashMismatch", "MirrorError",
    "data_mirror", "fetch_file", "fetch_group", "file_hashes", "verify",
    "label_table", "read_dfi_attribute", "read_gender",
    "archive_digest", "crop_resize", "extract_images", "image_set_digest", "iter_archive", "load_faces", "read_names", "tree_digest",
    "fetch_digits", "load_digits", "read_idx",
]

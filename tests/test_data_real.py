"""The real datasets, read from the offline mirror (skipped when there is none).

The mirror is $MUSICSOM_DATA_MIRROR, else ../shared/data beside the checkout (conftest.data_mirror).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musicsom.pipeline.datasets import GROUPS, LFW_IMAGES_DIGEST, fetch_digits, fetch_group, label_table, load_faces
from musicsom.pipeline.datasets.labels import read_dfi_attribute, read_gender
from musicsom.pipeline.datasets.lfw import image_set_digest

MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FASHION_SYSTEM = Path("/usr/share/datasets/fashion-mnist")


def test_mnist_shapes_and_label_histograms(mirror, tmp_path):
    d = fetch_digits(tmp_path / "raw", "mnist", mirror, progressbar=False)
    assert d["x_train"].shape == (60000, 28, 28) and d["x_test"].shape == (10000, 28, 28)
    assert d["x_train"].dtype == np.uint8 and d["y_train"].dtype == np.int64
    assert np.bincount(d["y_train"]).tolist() == MNIST_TRAIN
    assert np.bincount(d["y_test"]).tolist() == MNIST_TEST
    assert abs(d["x_train"].mean() / 255 - 0.1307) < 1e-4 and str(d["dataset"]) == "mnist"


@pytest.mark.skipif(not FASHION_SYSTEM.is_dir(), reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_the_debian_package(mirror, tmp_path):
    d = fetch_digits(tmp_path / "raw", "fashion_mnist", mirror, progressbar=False)  # the mirror lacks it: Debian's copy
    assert d["x_train"].shape == (60000, 28, 28) and d["x_test"].shape == (10000, 28, 28)
    assert np.bincount(d["y_train"]).tolist() == [6000] * 10 and np.bincount(d["y_test"]).tolist() == [1000] * 10
    assert str(d["dataset"]) == "fashion_mnist"


def test_pinned_digest_matches_the_mirror_listing(mirror):
    """The pinned LFW digest, recomputed from the mirror's independent per-file sha256 listing."""
    listing = mirror / "lfw" / "lfw-deepfunneled.files.sha256"
    if not listing.exists():
        pytest.skip(f"{listing} is absent")
    items = [(("/".join(p.split("/")[-2:])), h) for h, p in (line.split() for line in listing.read_text().splitlines())]
    assert len(items) == 13233 and image_set_digest(items) == LFW_IMAGES_DIGEST


@pytest.mark.slow
def test_lfw_faces_and_labels(mirror, tmp_path):
    raw = tmp_path / "raw"
    paths = fetch_group("lfw", raw, mirror, progressbar=False)
    faces = load_faces(paths["lfw/lfw-deepfunneled.tgz"], crop=125, size=64, names=paths["lfw/lfw-names.txt"])
    images, ids, person = faces["images"], faces["image_id"], faces["person"]
    assert images.shape == (13233, 64, 64, 3) and images.dtype == np.uint8
    assert len(set(ids)) == 13233 and len(set(person)) == 5749 and list(ids) == sorted(ids)
    assert ids[0] == "AJ_Cook_0001" and person[0] == "AJ_Cook"
    face = images[list(ids).index("Aaron_Eckhart_0001")]
    assert face.shape == (64, 64, 3) and 0 <= face.min() < 60 and 180 < face.max() <= 255 and face.std() > 20
    labels = fetch_group("lfw_labels", raw, mirror, progressbar=False)
    gender = read_gender(labels["lfw/labels/female_names.txt"], labels["lfw/labels/male_names.txt"])
    black = read_dfi_attribute(labels["lfw/labels/dfi/lfw_binary_attributes2.npz"], labels["lfw/labels/dfi/filelist.txt"])
    table = label_table(ids, person, gender, black)
    assert table["gender"].value_counts().to_dict() == {"male": 10263, "female": 2961, "unknown": 9}
    assert table["black"].value_counts().to_dict() == {"false": 12770, "true": 373, "unknown": 90}
    assert sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()) == sorted(
        GROUPS["lfw"] + GROUPS["lfw_labels"]
    )

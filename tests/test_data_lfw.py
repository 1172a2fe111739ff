"""LFW archive handling on tiny fixture archives: image-set digest, bad members, atomic extraction, labels."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from musicsom.pipeline.datasets import fetch as F
from musicsom.pipeline.datasets import labels as L
from musicsom.pipeline.datasets import lfw

IDS = ["Ann_Lee_0001", "Ann_Lee_0002", "Bob_Ray_0001"]


def jpeg(seed: int, side: int = 40) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_tar(path: Path, members: dict[str, bytes], top: str = "lfw-deepfunneled", mtime: int = 0, extra=()) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for rel, data in members.items():
            info = tarfile.TarInfo(f"{top}/{rel}" if top else rel)
            info.size, info.mtime = len(data), mtime
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return path


@pytest.fixture
def images():
    return {f"{i.rsplit('_', 1)[0]}/{i}.jpg": jpeg(k) for k, i in enumerate(IDS)}


@pytest.fixture
def archive(tmp_path, images):
    (tmp_path / "src").mkdir()
    return make_tar(tmp_path / "src" / "faces.tgz", images)


def expected_digest(images) -> str:
    lines = sorted(f"{rel} {hashlib.sha256(b).hexdigest()}\n" for rel, b in images.items())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def test_digest_definition_and_repacking(tmp_path, images, archive):
    digest, n = lfw.archive_digest(archive)
    assert n == 3 and digest == expected_digest(images)
    # the same JPEGs re-packed (other top folder, order, timestamps, plain tar) give the same digest
    repacked = make_tar(tmp_path / "other.tar", dict(reversed(images.items())), top="lfw_funneled", mtime=99)
    assert lfw.archive_digest(repacked) == (digest, 3)
    # ... and so does the extracted tree
    tree = lfw.extract_images(archive, tmp_path / "tree", expected_digest=digest)
    assert lfw.tree_digest(tree) == (digest, 3)
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.jpg")) == sorted(images)


def test_load_faces_shapes_and_order(archive, images, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("Ann_Lee\t2\nBob_Ray\t1\n")
    faces = lfw.load_faces(archive, crop=20, size=8, expected_digest=expected_digest(images), names=names)
    assert faces["images"].shape == (3, 8, 8, 3) and faces["images"].dtype == np.uint8
    assert list(faces["image_id"]) == IDS and list(faces["person"]) == ["Ann_Lee", "Ann_Lee", "Bob_Ray"]
    # the crop is centred: a crop of the whole image resized to its own size is the decoded image
    full = lfw.load_faces(archive, crop=40, size=40, expected_digest=None)["images"][0]
    decoded = np.asarray(Image.open(io.BytesIO(images["Ann_Lee/Ann_Lee_0001.jpg"])).convert("RGB"))
    np.testing.assert_array_equal(full, decoded)
    np.testing.assert_array_equal(
        lfw.load_faces(archive, crop=20, size=20, expected_digest=None)["images"][0], decoded[10:30, 10:30]
    )
    names.write_text("Ann_Lee\t1\nBob_Ray\t1\n")
    with pytest.raises(F.FormatError, match="disagree"):
        lfw.load_faces(archive, crop=20, size=8, expected_digest=None, names=names)
    with pytest.raises(ValueError, match="does not fit"):
        lfw.load_faces(archive, crop=41, size=8, expected_digest=None)


def test_flipped_byte_in_an_image_is_rejected(tmp_path, images):
    good = expected_digest(images)
    data = bytearray(images["Bob_Ray/Bob_Ray_0001.jpg"])
    data[len(data) // 2] ^= 0x01  # in the entropy-coded data: still decodes, but the bytes differ
    images["Bob_Ray/Bob_Ray_0001.jpg"] = bytes(data)
    bad = make_tar(tmp_path / "bad.tgz", images)
    with pytest.raises(F.HashMismatch, match=f"expected {good}"):
        lfw.load_faces(bad, crop=20, size=8, expected_digest=good)
    out = tmp_path / "out"
    with pytest.raises(F.HashMismatch):
        lfw.extract_images(bad, out / "tree", expected_digest=good)
    assert list(out.iterdir()) == []  # no half-extracted (or unverified) tree


@pytest.mark.parametrize(
    "kind",
    ["dotdot", "absolute", "symlink", "badname", "duplicate", "notjpeg", "truncated"],
)
def test_bad_archive_member(tmp_path, images, kind):
    path = tmp_path / "bad.tgz"
    if kind == "dotdot":
        make_tar(path, {**images, "../evil/evil_0001.jpg": b"x"})
    elif kind == "absolute":
        make_tar(path, {"/etc/Ann_Lee/Ann_Lee_0003.jpg": b"x"}, top="")
    elif kind == "symlink":
        link = tarfile.TarInfo("lfw-deepfunneled/Ann_Lee/Ann_Lee_0003.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        make_tar(path, images, extra=[link])
    elif kind == "badname":
        make_tar(path, {**images, "Ann_Lee/Bob_Ray_0001.jpg": jpeg(9)})
    elif kind == "duplicate":
        with tarfile.open(path, "w:gz") as tar:
            for top in ("a", "b"):
                data = images["Ann_Lee/Ann_Lee_0001.jpg"]
                info = tarfile.TarInfo(f"{top}/Ann_Lee/Ann_Lee_0001.jpg")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    elif kind == "notjpeg":
        make_tar(path, {**images, "Cy_Do/Cy_Do_0001.jpg": b"this is not a JPEG"})
    elif kind == "truncated":
        make_tar(tmp_path / "ok.tgz", images)
        path.write_bytes((tmp_path / "ok.tgz").read_bytes()[:-200])
    message = {"truncated": "corrupt or truncated", "notjpeg": "not a readable JPEG"}.get(kind, "bad archive member")
    with pytest.raises(F.ArchiveError, match=message):
        lfw.load_faces(path, crop=20, size=8, expected_digest=None)
    out = tmp_path / "out"
    if kind != "notjpeg":  # extraction does not decode; the digest would reject that one
        with pytest.raises(F.ArchiveError, match=message):
            lfw.extract_images(path, out / "tree", expected_digest=None)
        assert list(out.iterdir()) == []


def test_archive_entry_accepted_by_content_digest(tmp_path, images, archive):
    """A re-packed archive (unknown file hash) is accepted by its image-set digest; other images are not."""
    digest = expected_digest(images)
    mirror = tmp_path / "mirror"
    (mirror / "lfw").mkdir(parents=True)
    entry = F.DataFile("lfw/faces.tgz", ("http://127.0.0.1:9/faces.tgz",), "lfw/faces.tar.gz", ("sha256:" + "1" * 64,),
                       "md5:" + "2" * 32, content_digest=digest)
    make_tar(mirror / "lfw/faces.tar.gz", images, top="repacked", mtime=5)
    raw = tmp_path / "raw"
    assert F.fetch_file(entry, raw, mirror).exists()
    assert F.verify(entry, raw / entry.name, delete=False).startswith(f"content digest {digest}")
    images["Ann_Lee/Ann_Lee_0002.jpg"] = jpeg(42)
    make_tar(mirror / "lfw/faces.tar.gz", images)
    other = tmp_path / "raw2"
    with pytest.raises(F.HashMismatch) as err:
        F.fetch_file(entry, other, mirror)
    assert digest in str(err.value) and "1" * 64 in str(err.value)
    assert not other.exists()


def test_labels(tmp_path):
    female, male = tmp_path / "female_names.txt", tmp_path / "male_names.txt"
    female.write_bytes(b"Ann_Lee_0002.jpg\r\nAnn_Lee_0001.jpg\r\n")
    male.write_bytes(b"Ann_Lee_0002.jpg\r\nBob_Ray_0001.jpg\n")
    gender = L.read_gender(female, male)
    assert gender == {"Ann_Lee_0001": "female", "Ann_Lee_0002": "unknown", "Bob_Ray_0001": "male"}
    npz, filelist = tmp_path / "attr.npz", tmp_path / "filelist.txt"
    np.savez(npz, attrname=np.array([b"Asian", b"Black"]), data=np.array([[True, False], [False, True]]))
    filelist.write_text("lfw/Ann_Lee/Ann_Lee_0001.jpg\nlfw/Bob_Ray/Bob_Ray_0001.jpg\n")
    black = L.read_dfi_attribute(npz, filelist, "Black")
    assert black == {"Ann_Lee_0001": False, "Bob_Ray_0001": True}
    table = L.label_table(IDS + ["Cy_Do_0001"], ["Ann_Lee", "Ann_Lee", "Bob_Ray", "Cy_Do"], gender, black)
    assert table.to_dict("list") == {
        "image_id": IDS + ["Cy_Do_0001"],
        "person": ["Ann_Lee", "Ann_Lee", "Bob_Ray", "Cy_Do"],
        "gender": ["female", "unknown", "male", "unknown"],
        "black": ["false", "unknown", "true", "unknown"],
    }
    filelist.write_text("lfw/Ann_Lee/Ann_Lee_0001.jpg\n")
    with pytest.raises(F.FormatError, match="rows"):
        L.read_dfi_attribute(npz, filelist)


def test_prepare_lfw_cli_on_a_bad_archive_writes_nothing(tmp_path, images):
    images["Bob_Ray/Bob_Ray_0001.jpg"] = jpeg(7)
    bad = make_tar(tmp_path / "bad.tgz", images)
    out = tmp_path / "res"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "musicsom.pipeline.data.prepare_lfw", "--archive", str(bad), "--lfw", '{"crop": 20, "size": 8}',
         "--out", str(out / "faces.npz"), "--labels-out", str(out / "labels.csv")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1 and "not the pinned LFW deep-funneled set" in proc.stderr
    assert "Traceback" not in proc.stderr and list(out.iterdir()) == []

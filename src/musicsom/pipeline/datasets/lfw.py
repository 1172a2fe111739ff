"""LFW deep-funneled: stream the archive, verify its image set, decode centre-cropped faces.

The pipeline never extracts the archive to disk: :func:`load_faces` reads each JPEG from the tar
stream, hashes it and decodes it in one pass, and accepts the result only when the digest of the
whole image set equals the pinned :data:`~musicsom.pipeline.datasets.fetch.LFW_IMAGES_DIGEST`. So a corrupt,
truncated or foreign archive leaves nothing behind. :func:`extract_images` is there for whoever
wants the tree on disk; it extracts into a temporary folder and renames it into place only once
the digest has matched.

**Image-set digest** (:func:`image_set_digest`): for every image, the line
``"<Person>/<Person>_NNNN.jpg <sha256 of the JPEG bytes, lower-case hex>\\n"`` (the path relative to
the image root, whatever the archive's top folder is called); the lines sorted by path (code-point
order); the digest is the sha256 (lower-case hex) of their UTF-8 concatenation. The same 13,233
JPEGs re-packed in any tar give the same digest.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tarfile
import tempfile
import zlib
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

import numpy as np

from .fetch import LFW_IMAGES_DIGEST, ArchiveError, FormatError, HashMismatch

log = logging.getLogger("musicsom.pipeline.datasets")

N_IMAGES, N_PEOPLE, SIDE = 13_233, 5_749, 250
IMAGE_RE = re.compile(r"(?P<person>[^/]+)/(?P=person)_(?P<num>\d{4})\.jpg")


# ----------------------------------------------------------------------------------------------
# archive members and the image-set digest


def iter_archive(archive: str | os.PathLike) -> Iterator[tuple[str, bytes]]:
    """Yield ``("<Person>/<Person>_NNNN.jpg", JPEG bytes)`` for every image in a (compressed) tar.

    Every member is checked: absolute paths, ``..``, links and devices, a ``.jpg`` outside the
    ``[<top>/]<Person>/<Person>_NNNN.jpg`` layout, and duplicates raise :class:`ArchiveError`, as does a
    corrupt or truncated archive. Folders are skipped; other regular files (``.DS_Store``) are skipped
    and counted in the log.
    """
    archive = Path(archive)
    seen: set[str] = set()
    skipped = 0
    try:
        with tarfile.open(archive, "r|*") as tar:
            for m in tar:
                parts = PurePosixPath(m.name).parts
                if not parts or parts[0] == "/" or ".." in parts or "\\" in m.name:
                    raise ArchiveError(f"bad archive member {m.name!r} in {archive}: unsafe path. The archive is rejected.")
                if m.isdir():
                    continue
                if not m.isfile():
                    kind = "link" if (m.issym() or m.islnk()) else "special file"
                    raise ArchiveError(
                        f"bad archive member {m.name!r} in {archive}: a {kind}; only plain files and folders are accepted."
                    )
                if not m.name.lower().endswith(".jpg"):
                    skipped += 1
                    continue
                rel = "/".join(parts[-2:])
                if len(parts) > 3 or not IMAGE_RE.fullmatch(rel):
                    raise ArchiveError(
                        f"bad archive member {m.name!r} in {archive}: not [<top>/]<Person>/<Person>_NNNN.jpg."
                    )
                if rel in seen:
                    raise ArchiveError(f"bad archive member {m.name!r} in {archive}: {rel} appears twice.")
                seen.add(rel)
                fh = tar.extractfile(m)
                yield rel, fh.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ArchiveError(
            f"{archive} is corrupt or truncated ({type(exc).__name__}: {exc}). Delete it and fetch it again."
        ) from None
    if skipped:
        log.info("%s: skipped %d members that are not .jpg images", archive.name, skipped)


def digest_lines(items: Iterable[tuple[str, str]]) -> str:
    """The digest's text: ``"<relative path> <sha256>\\n"`` lines sorted by path."""
    return "".join(f"{rel} {sha}\n" for rel, sha in sorted(items))


def image_set_digest(items: Iterable[tuple[str, str]]) -> str:
    """sha256 (hex) of :func:`digest_lines` over ``(relative path, sha256 of the bytes)`` pairs."""
    return hashlib.sha256(digest_lines(items).encode("utf-8")).hexdigest()


def archive_digest(archive: str | os.PathLike) -> tuple[str, int]:
    """The image-set digest of an archive and its number of images (no extraction to disk)."""
    items = [(rel, hashlib.sha256(data).hexdigest()) for rel, data in iter_archive(archive)]
    return image_set_digest(items), len(items)


def tree_digest(root: str | os.PathLike) -> tuple[str, int]:
    """The image-set digest of an extracted tree ``root/<Person>/<Person>_NNNN.jpg``."""
    root = Path(root)
    items = [
        (p.relative_to(root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in root.glob("*/*.jpg")
    ]
    return image_set_digest(items), len(items)


def _check_digest(archive, digest: str, n: int, expected: str | None) -> None:
    if expected is not None and digest != expected:
        raise HashMismatch(
            f"the images in {archive} are not the pinned LFW deep-funneled set: image-set digest {digest} "
            f"({n} images), expected {expected}. Nothing was written; delete the archive and fetch it again."
        )


def extract_images(archive: str | os.PathLike, dest: str | os.PathLike, expected_digest: str | None = LFW_IMAGES_DIGEST) -> Path:
    """Extract the images to ``dest/<Person>/<Person>_NNNN.jpg``, atomically.

    The tree is built in a temporary folder beside ``dest`` and renamed into place only after the
    image-set digest has matched; on any failure nothing is left behind.
    """
    dest = Path(dest)
    if dest.exists():
        raise FileExistsError(f"{dest} exists; remove it first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}.", dir=dest.parent) as tmp:
        tree = Path(tmp) / "images"
        items = []
        for rel, data in iter_archive(archive):
            path = tree / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            items.append((rel, hashlib.sha256(data).hexdigest()))
        _check_digest(archive, image_set_digest(items), len(items), expected_digest)
        os.replace(tree, dest)
    return dest


# ----------------------------------------------------------------------------------------------
# faces


def crop_resize(image, crop: int = 125, size: int = 64) -> np.ndarray:
    """Centre ``crop``×``crop`` crop of a PIL image, resized to ``size``×``size`` RGB uint8.

    The crop box starts at ``((w - crop) // 2, (h - crop) // 2)``; the resize is Pillow's ``BOX``
    filter (area averaging: each output pixel is the area-weighted mean of the input pixels it covers).
    """
    from PIL import Image

    w, h = image.size
    if not 1 <= crop <= min(w, h):
        raise ValueError(f"crop {crop} does not fit the {w}x{h} image; choose data.lfw.crop in 1..{min(w, h)}")
    left, top = (w - crop) // 2, (h - crop) // 2
    out = image.convert("RGB").resize((size, size), Image.Resampling.BOX, box=(left, top, left + crop, top + crop))
    return np.asarray(out, dtype=np.uint8)


def read_names(path: str | os.PathLike) -> dict[str, int]:
    """``lfw-names.txt``: {person: number of images}."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            name, count = line.split()
            out[name] = int(count)
    return out


def load_faces(
    archive: str | os.PathLike,
    crop: int = 125,
    size: int = 64,
    *,
    expected_digest: str | None = LFW_IMAGES_DIGEST,
    names: str | os.PathLike | None = None,
) -> dict[str, np.ndarray]:
    """Read, verify and decode every face of an LFW archive.

    Returns ``images`` (n, size, size, 3) uint8, ``person`` and ``image_id`` (str arrays, e.g.
    ``"Aaron_Eckhart"``, ``"Aaron_Eckhart_0001"``), sorted by ``image_id``. Raises :class:`HashMismatch`
    when the image-set digest differs from ``expected_digest`` (``None`` skips the check), and
    :class:`FormatError` when ``names`` (``lfw-names.txt``) disagrees with the per-person counts.
    """
    from PIL import Image

    faces: dict[str, np.ndarray] = {}
    items = []
    for rel, data in iter_archive(archive):
        items.append((rel, hashlib.sha256(data).hexdigest()))
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                faces[PurePosixPath(rel).stem] = crop_resize(img, crop, size)
        except ValueError:
            raise
        except Exception as exc:  # PIL raises OSError / UnidentifiedImageError / SyntaxError for bad data
            raise ArchiveError(
                f"bad archive member {rel} in {archive}: not a readable JPEG ({type(exc).__name__}: {exc})."
            ) from None
    _check_digest(archive, image_set_digest(items), len(items), expected_digest)
    ids = sorted(faces)
    person = [i.rsplit("_", 1)[0] for i in ids]
    if names is not None:
        expected = read_names(names)
        got = Counter(person)
        if got != Counter(expected):
            diff = sorted(set(got.items()) ^ set(expected.items()))[:5]
            raise FormatError(f"the images of {archive} disagree with {names} (person, count), e.g. {diff}")
    log.info("%s: %d images of %d people, digest verified", Path(archive).name, len(ids), len(set(person)))
    images = np.stack([faces[i] for i in ids]) if ids else np.zeros((0, size, size, 3), np.uint8)
    return {"images": images, "person": np.array(person, dtype=str), "image_id": np.array(ids, dtype=str)}

"""Registry of the public data files, and a verified, atomic fetch of each (pooch or a local mirror).

Every file the pipeline reads is listed in :data:`REGISTRY` with its canonical URL(s), its path
inside a mirror laid out like ``../shared/data``, and the hashes it must have. :func:`fetch` gets a
file from, in this order:

1. the raw data folder itself, when a verified copy is already there;
2. the **mirror** (:func:`data_mirror`: the fetch stages' ``--mirror``, which the workflow resolves from
   ``data.mirror`` or the variable, else ``$MUSICSOM_DATA_MIRROR``);
3. a copy installed by the operating system (Debian's ``dataset-fashion-mnist``);
4. the canonical URLs, through pooch (hash registry, retries, progress bar). Not tried when a mirror is
   set: a mirror means "offline", and a file missing from it is an error.

Whatever the source, the file lands in a temporary folder beside its destination, is verified there
(:func:`verify`), and only then is renamed into place. On any failure the temporary file is deleted,
so nothing partial or unverified is ever left in the data folder.

Hashes are written pooch-style, ``"sha256:<hex>"`` or ``"md5:<hex>"``. A file is accepted when any one
of its pinned hashes matches (``gunzipped=True``: hashes of the decompressed content). An archive with
a ``content_digest`` (LFW) whose bytes match none of its hashes (the same images re-packed elsewhere)
is accepted when the digest of its image set matches (:func:`musicsom.pipeline.datasets.lfw.archive_digest`).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

log = logging.getLogger("musicsom.pipeline.datasets")

MIRROR_ENV = "MUSICSOM_DATA_MIRROR"
#: pooch's ``retry_if_failed``: extra download attempts per URL (with 1 s, 2 s, ... waits).
RETRIES = 2
_CHUNK = 1 << 20
_FROM_ENV = object()
_HOW_TO_MIRROR = (
    f"set `data.mirror` in config.yaml or the environment variable {MIRROR_ENV} to a folder laid out "
    "like ../shared/data (see docs/DATA.md)"
)


# ----------------------------------------------------------------------------------------------
# errors: one short paragraph each, shown without a traceback by the stage CLIs


class DataError(Exception):
    """A data file could not be obtained or verified (an ordinary exception: ``except Exception`` catches it)."""


class MirrorError(DataError):
    """The mirror folder does not exist, or lacks a file."""


class DownloadError(DataError):
    """No source could deliver a file (no network and no mirror, typically)."""


class HashMismatch(DataError):
    """A file's content does not match any pinned hash (the file has been deleted)."""


class ArchiveError(DataError):
    """An archive is corrupt or truncated, or holds a member that is unsafe or malformed."""


class FormatError(DataError):
    """A verified-looking file does not have the expected format, shape or counts."""


# ----------------------------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class DataFile:
    """One public data file: where it comes from and what it must hash to."""

    name: str  # path under the raw data folder; also the registry key
    urls: tuple[str, ...]  # canonical URLs, tried in order
    mirror: str  # path inside a mirror laid out like ../shared/data
    hashes: tuple[str, ...]  # accepted "alg:hex" hashes (any source)
    url_hash: str | None = None  # the hash pooch checks on download (also accepted from any source)
    gunzipped: bool = False  # `hashes` are of the gunzipped content (the .gz wrapper may differ)
    system: tuple[str, ...] = ()  # copies installed by the operating system
    content_digest: str | None = None  # archives: sha256 of the image set (see lfw.archive_digest)
    size: int | None = None  # bytes of the reference copy (informative)

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.hashes + ((self.url_hash,) if self.url_hash else ())))


MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
FASHION_SYSTEM = "/usr/share/datasets/fashion-mnist/"
LFW_URL = "http://vis-www.cs.umass.edu/lfw/"
GENDER_URL = "https://raw.githubusercontent.com/Lukeli0425/Gender-Classification/efdba063f8892f255e92412e96b9015a082a5faa/"
DFI_URL = "https://raw.githubusercontent.com/paulu/deepfeatinterp/76b72e0a3b683a8cdeb13ed35b932680dc159ed1/datasets/lfw/"

#: sha256 over the sorted ``"<Person>/<Person>_NNNN.jpg <sha256 of the JPEG bytes>\n"`` lines of the
#: 13,233 deep-funneled LFW images (see :func:`musicsom.pipeline.datasets.lfw.archive_digest`).
LFW_IMAGES_DIGEST = "a9393faec4329f347e58e76565d5b711e48ae96a4cdd4ff2b276959dcde3ecfa"

_MNIST = {  # file: (sha256, md5 of the official .gz, bytes)
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        9912422,
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "d53e105ee54ea40749a09fcbcd1e9432",
        28881,
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fb629c4189551a2d022fa330f9573f3",
        1648877,
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ec29112dd5afa0611ce80d1b7f02629c",
        4542,
    ),
}
_FASHION = {  # file: (sha256 of the gunzipped content, official md5 of the gunzipped content)
    "train-images-idx3-ubyte.gz": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    ),
    "train-labels-idx1-ubyte.gz": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "9018921c3c673c538a1fc5bad174d6f9",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "8181f5470baa50b63fa0f6fddb340f0a",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        "15d484375f8d13e6eb1aabb0c3f46965",
    ),
}
_LFW_TEXT = {  # file: (sha256, official md5 as in torchvision)
    "pairs.txt": ("ea42330c62c92989f9d7c03237ed5d591365e89b3e649747777b70e692dc1592", "9f1ba174e4e1c508ff7cdf10ac338a7d"),
    "pairsDevTrain.txt": ("1d454dada7dfeca0e7eab6f65dc4e97a6312d44cf142207be28d688be92aabfa", "4f27cbf15b2da4a85c1907eb4181ad21"),
    "pairsDevTest.txt": ("7cb06600ea8b2814ac26e946201cdb304296262aad67d046a16a7ec85d0ff87c", "5132f7440eb68cf58910c8a45a2ac10b"),
    "people.txt": ("bc8fa2b7f25c895cf7efb6de4f4fc27ca8b8d1cfa63350ad8b96eae2b198d365", "450f0863dd89e85e73936a6d71a3474b"),
    "peopleDevTrain.txt": ("2e58df13ba4cc143189336e001cc2c195f1dfa5b29a6475c02857be353c2a2fa", "54eaac34beb6d042ed3a7d883e247a21"),
    "peopleDevTest.txt": ("c3ed1f90499473401542101a56c14c1d82396bb8218c67a356d7460601047555", "e4bf5be0a43b5dcd9dc5ccfcb8fb19c5"),
    "lfw-names.txt": ("403cd39411ee297f99f69241959bd8f0496b44377711913a76ccdd8562874164", "a6d0a479bd074669f656265a6e693f6d"),
}
_LABELS = {  # name: (url, sha256)
    "lfw/labels/female_names.txt": (GENDER_URL + "female_names.txt", "c57d2c7c535f9639660088cbc791655ef8748c26ca55fc866efd3796877ef39d"),
    "lfw/labels/male_names.txt": (GENDER_URL + "male_names.txt", "6ed9cd7a08a50aba4e9ea0d5edba25ae13871896ee2f3dc205b39fcd2a6bc728"),
    "lfw/labels/dfi/lfw_binary_attributes2.npz": (
        DFI_URL + "lfw_binary_attributes2.npz",
        "355a88194353bb124f1521ace6ac8f2205465d079a4a825f24eeaa9e4832a723",
    ),
    "lfw/labels/dfi/filelist.txt": (DFI_URL + "filelist.txt", "3f9746654f5d53681e68b9fc6d5055c11e5b4676bf71829b01115ac04d805e01"),
}


def _build_registry() -> dict[str, DataFile]:
    files = []
    for fname, (sha, md5, size) in _MNIST.items():
        files.append(
            DataFile(f"mnist/{fname}", tuple(u + fname for u in MNIST_URLS), f"mnist/{fname}", (f"sha256:{sha}", f"md5:{md5}"), f"sha256:{sha}", size=size)
        )
    for fname, (sha, md5) in _FASHION.items():
        files.append(
            DataFile(
                f"fashion-mnist/{fname}",
                tuple(u + fname for u in FASHION_URLS),
                f"fashion-mnist/{fname}",
                (f"sha256:{sha}", f"md5:{md5}"),
                None,
                gunzipped=True,
                system=(FASHION_SYSTEM + fname,),
            )
        )
    files.append(
        DataFile(
            "lfw/lfw-deepfunneled.tgz",
            (LFW_URL + "lfw-deepfunneled.tgz",),
            "lfw/lfw-deepfunneled.tar.gz",
            ("sha256:6d6ade50d1db136dadc8baf99fc65b9b90fdd7e8c9ce385a093ac340a285c72e",),  # the mirror's re-packed tar
            "md5:68331da3eb755a505a502b5aacb3c201",  # the official tgz
            content_digest=LFW_IMAGES_DIGEST,
            size=108626011,
        )
    )
    for fname, (sha, md5) in _LFW_TEXT.items():
        files.append(DataFile(f"lfw/{fname}", (LFW_URL + fname,), f"lfw/{fname}", (f"sha256:{sha}", f"md5:{md5}"), f"sha256:{sha}"))
    for name, (url, sha) in _LABELS.items():
        files.append(DataFile(name, (url,), name, (f"sha256:{sha}",), f"sha256:{sha}"))
    return {f.name: f for f in files}


#: every data file the pipeline may read, by name (its path under the raw data folder)
REGISTRY: dict[str, DataFile] = _build_registry()

#: the files of each dataset, in registry order
GROUPS: dict[str, tuple[str, ...]] = {
    "mnist": tuple(f"mnist/{f}" for f in _MNIST),
    "fashion_mnist": tuple(f"fashion-mnist/{f}" for f in _FASHION),
    "lfw": ("lfw/lfw-deepfunneled.tgz",) + tuple(f"lfw/{f}" for f in _LFW_TEXT),
    "lfw_labels": tuple(_LABELS),
}


# ----------------------------------------------------------------------------------------------
# mirror


def data_mirror(value: str | os.PathLike | None = None) -> Path | None:
    """The mirror folder: ``value`` if given, else ``$MUSICSOM_DATA_MIRROR``; None when neither is set.

    Raises :class:`MirrorError` when the named folder does not exist.
    """
    origin = "the mirror"
    if value is None or value == "":
        value = os.environ.get(MIRROR_ENV) or None
        origin = f"{MIRROR_ENV}"
    if value is None:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise MirrorError(
            f"the data mirror {path} (from {origin}) is not a folder. Fix the path: {_HOW_TO_MIRROR}; "
            f"or unset it to download from the canonical URLs."
        )
    return path


# ----------------------------------------------------------------------------------------------
# hashing and verification


def _split(h: str) -> tuple[str, str]:
    alg, _, hexdigest = h.partition(":")
    if not hexdigest:
        alg, hexdigest = "sha256", alg
    return alg.lower(), hexdigest.lower()


def file_hashes(path: str | os.PathLike, algs: Iterable[str] = ("sha256",), gunzipped: bool = False) -> dict[str, str]:
    """Hex digests of a file (or of its gunzipped content) for several algorithms in one pass."""
    hashers = {a: hashlib.new(a) for a in dict.fromkeys(algs)}
    opener = gzip.open if gunzipped else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def verify(entry: DataFile | str, path: str | os.PathLike, source: str | None = None, *, delete: bool = True) -> str:
    """Check ``path`` against the entry's pinned hashes (or content digest); return what matched.

    On a mismatch the file is deleted (``delete=True``) and :class:`HashMismatch` names the file,
    its source, the expected and the actual hash.
    """
    entry = REGISTRY[entry] if isinstance(entry, str) else entry
    path = Path(path)
    source = source or str(path)
    accepted = [_split(h) for h in entry.accepted]
    try:
        try:
            actual = file_hashes(path, [a for a, _ in accepted], gunzipped=entry.gunzipped)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise HashMismatch(
                f"{entry.name} from {source} cannot be read as {'gzip' if entry.gunzipped else 'a file'} "
                f"({type(exc).__name__}: {exc}); expected {_fmt(accepted, entry.gunzipped)}. The bad file was deleted; "
                f"replace it at its source{_url_hint(entry)}."
            ) from None
        for alg, expected in accepted:
            if actual[alg] == expected:
                return f"{alg}:{expected}" + (" (gunzipped)" if entry.gunzipped else "")
        if entry.content_digest:
            from .lfw import archive_digest  # lazy: lfw imports this module

            log.info("%s: the archive bytes match no pinned hash; checking the digest of its image set", entry.name)
            digest, n = archive_digest(path)
            if digest == entry.content_digest:
                return f"content digest {digest} ({n} images)"
            raise HashMismatch(
                f"{entry.name} from {source} does not hold the expected images: its image-set digest is {digest} "
                f"({n} images), expected {entry.content_digest} (and its bytes match none of {_fmt(accepted)}; "
                f"actual sha256:{actual.get('sha256') or file_hashes(path)['sha256']}). The bad file was deleted; "
                f"replace it at its source{_url_hint(entry)}."
            )
        got = ", ".join(f"{a}:{actual[a]}" for a in dict.fromkeys(a for a, _ in accepted))
        raise HashMismatch(
            f"hash mismatch for {entry.name} from {source}: expected {_fmt(accepted, entry.gunzipped)}, got {got}. "
            f"The bad file was deleted; replace it at its source{_url_hint(entry)}."
        )
    except DataError:
        if delete:
            path.unlink(missing_ok=True)
        raise


def _fmt(accepted, gunzipped: bool = False) -> str:
    s = " or ".join(f"{a}:{h}" for a, h in accepted)
    return s + (" (of the gunzipped content)" if gunzipped else "")


def _url_hint(entry: DataFile) -> str:
    return f" (canonical URL {entry.urls[0]})" if entry.urls else ""


# ----------------------------------------------------------------------------------------------
# fetching


@contextlib.contextmanager
def _staging(dest: Path) -> Iterator[Path]:
    """A private temporary folder beside ``dest``; on failure also remove the folders it created."""
    created = []
    parent = dest.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=f".{dest.name}.", dir=dest.parent) as tmp:
            yield Path(tmp)
    except BaseException:
        for d in created:  # deepest first
            with contextlib.suppress(OSError):
                d.rmdir()
        raise


def _download(entry: DataFile, tmp: Path, progressbar: bool) -> str:
    """Download ``entry`` into the folder ``tmp`` with pooch; return the URL used."""
    import pooch
    import requests

    errors = []
    for url in entry.urls:
        fname = Path(entry.name).name
        pup = pooch.create(
            path=tmp, base_url="", registry={fname: entry.url_hash}, urls={fname: url}, retry_if_failed=RETRIES
        )
        try:
            pup.fetch(fname, progressbar=progressbar)
            return url
        except ValueError as exc:  # pooch: hash mismatch (it has deleted the download)
            raise HashMismatch(f"{entry.name} downloaded from {url} failed verification: {exc}") from None
        except (requests.RequestException, OSError) as exc:
            errors.append(f"{url}: {type(exc).__name__}")
            log.warning("could not download %s from %s: %s", entry.name, url, str(exc)[:200])
    raise DownloadError(
        f"could not download {entry.name} from {', '.join(errors)}. No data mirror is set: {_HOW_TO_MIRROR} "
        f"(this file is then read from <mirror>/{entry.mirror}); or fix the network access."
    )


def fetch_file(
    entry: DataFile | str,
    raw_dir: str | os.PathLike,
    mirror: str | os.PathLike | None | object = _FROM_ENV,
    *,
    progressbar: bool = True,
) -> Path:
    """Return the path of a verified copy of ``entry`` under ``raw_dir`` (``raw_dir/entry.name``).

    ``mirror``: a folder laid out like ``../shared/data``; by default ``$MUSICSOM_DATA_MIRROR``;
    ``None`` for no mirror. Raises a :class:`DataError` subclass (one paragraph, nothing left behind).
    """
    entry = REGISTRY[entry] if isinstance(entry, str) else entry
    mirror_dir = data_mirror() if mirror is _FROM_ENV else data_mirror(mirror) if mirror is not None else None
    dest = Path(raw_dir) / entry.name
    if dest.is_file():
        try:
            how = verify(entry, dest, f"existing {dest}", delete=False)
            log.info("%s: existing copy verified (%s)", entry.name, how)
            return dest
        except DataError as exc:  # a wrong hash, or an archive that is not even readable
            log.warning("%s: existing copy fails verification, fetching it again (%s)", entry.name, exc)
            dest.unlink()
    with _staging(dest) as tmpdir:
        tmp = tmpdir / Path(entry.name).name
        source = None
        candidates = ([mirror_dir / entry.mirror] if mirror_dir else []) + [Path(p) for p in entry.system]
        for cand in candidates:
            if cand.is_file():
                log.info("%s: copying %s", entry.name, cand)
                shutil.copyfile(cand, tmp)
                source = str(cand)
                break
        if source is None:
            if mirror_dir is not None:
                raise MirrorError(
                    f"{entry.name} is not in the data mirror {mirror_dir} (looked for {mirror_dir / entry.mirror}). "
                    f"Fix the mirror (it must be laid out like ../shared/data, see docs/DATA.md) or unset `data.mirror` "
                    f"and {MIRROR_ENV} to download it from {entry.urls[0]}."
                )
            source = _download(entry, tmpdir, progressbar)
        how = verify(entry, tmp, source)
        os.replace(tmp, dest)
    log.info("%s: verified (%s) from %s", entry.name, how, source)
    return dest


def fetch_group(group: str, raw_dir, mirror=_FROM_ENV, *, progressbar: bool = True) -> dict[str, Path]:
    """Fetch every file of a dataset (:data:`GROUPS`); return {name: path}."""
    if group not in GROUPS:
        raise ValueError(f"unknown dataset {group!r}; choose one of {sorted(GROUPS)}")
    return {name: fetch_file(name, raw_dir, mirror, progressbar=progressbar) for name in GROUPS[group]}

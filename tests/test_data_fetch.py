"""The data layer's fetch and verification, on small fixture files the tests make themselves.

Each failure mode (flipped byte, truncated file, missing file, wrong mirror path, no network, a bad
download) must raise its own error with a useful message and leave nothing in the data folder.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from musicsom.pipeline.datasets import fetch as F
from musicsom.pipeline.datasets.mnist import load_digits, read_idx

from conftest import ROOT, data_mirror


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")) if folder.exists() else []


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_mirror(tmp_path):
    """A mirror with a tiny MNIST-like dataset (5 train, 3 test images) and registry entries for it."""
    mirror = tmp_path / "mirror"
    rng = np.random.default_rng(0)
    entries = {}
    for split, n in (("train", 5), ("t10k", 3)):
        for kind, arr in (("images-idx3", rng.integers(0, 256, (n, 28, 28))), ("labels-idx1", rng.integers(0, 10, n))):
            name = f"mnist/{split}-{kind}-ubyte.gz"
            path = mirror / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(idx_bytes(arr), mtime=0))
            h = f"sha256:{sha256(path)}"
            entries[name] = F.DataFile(name, ("http://127.0.0.1:9/" + name,), name, (h,), h)
    return mirror, entries


@pytest.fixture
def raw(tmp_path):
    return tmp_path / "data"


def test_fetch_from_mirror_verifies_and_loads(tiny_mirror, raw):
    mirror, entries = tiny_mirror
    for e in entries.values():
        path = F.fetch_file(e, raw, mirror)
        assert path == raw / e.name and path.read_bytes() == (mirror / e.mirror).read_bytes()
    d = load_digits(raw, "mnist", check_counts=False)
    assert d["x_train"].shape == (5, 28, 28) and d["x_train"].dtype == np.uint8
    assert d["y_test"].shape == (3,) and d["y_test"].dtype == np.int64 and str(d["dataset"]) == "mnist"
    with pytest.raises(F.FormatError, match="expected 60,000"):
        load_digits(raw, "mnist")
    # a verified copy already in place is reused, and no temporary file is ever left beside it
    assert F.fetch_file(next(iter(entries.values())), raw, None) == raw / "mnist/train-images-idx3-ubyte.gz"
    assert [p.name for p in files_in(raw / "mnist")] == sorted(Path(n).name for n in entries)


def test_flipped_byte_is_rejected_and_deleted(tiny_mirror, raw):
    mirror, entries = tiny_mirror
    e = entries["mnist/train-images-idx3-ubyte.gz"]
    src = mirror / e.mirror
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x01
    src.write_bytes(bytes(data))
    with pytest.raises(F.HashMismatch) as err:
        F.fetch_file(e, raw, mirror)
    msg = str(err.value)
    assert e.name in msg and e.hashes[0] in msg and f"sha256:{sha256(src)}" in msg and str(src) in msg
    assert files_in(raw) == []


def test_truncated_file_is_rejected(tiny_mirror, raw):
    mirror, entries = tiny_mirror
    e = entries["mnist/t10k-images-idx3-ubyte.gz"]
    src = mirror / e.mirror
    src.write_bytes(src.read_bytes()[:-40])
    with pytest.raises(F.HashMismatch, match="hash mismatch for mnist/t10k-images"):
        F.fetch_file(e, raw, mirror)
    assert files_in(raw) == []
    # the IDX reader rejects a truncated file by its header as well
    bad = raw.parent / "short.gz"
    bad.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28)))[:-10]))
    with pytest.raises(F.FormatError, match="truncated or corrupt"):
        read_idx(bad)


def test_truncated_gzip_with_gunzipped_hashes(tmp_path, raw):
    """Fashion-MNIST style entry: hashes of the gunzipped content; a cut .gz cannot be read."""
    content = idx_bytes(np.arange(10) % 10)
    mirror = tmp_path / "m"
    (mirror / "f").mkdir(parents=True)
    entry = F.DataFile("f/x.gz", (), "f/x.gz", (f"sha256:{hashlib.sha256(content).hexdigest()}",), gunzipped=True)
    (mirror / "f/x.gz").write_bytes(gzip.compress(content, mtime=123))  # another gzip header: still accepted
    assert "gunzipped" in F.verify(entry, mirror / "f/x.gz", delete=False)
    (mirror / "f/x.gz").write_bytes(gzip.compress(content)[:-6])
    with pytest.raises(F.HashMismatch, match="cannot be read as gzip"):
        F.fetch_file(entry, raw, mirror)
    assert files_in(raw) == []


def test_missing_file_in_mirror(tiny_mirror, raw):
    mirror, entries = tiny_mirror
    e = entries["mnist/train-labels-idx1-ubyte.gz"]
    (mirror / e.mirror).unlink()
    with pytest.raises(F.MirrorError) as err:
        F.fetch_file(e, raw, mirror)
    msg = str(err.value)
    assert "not in the data mirror" in msg and str(mirror / e.mirror) in msg and e.urls[0] in msg
    assert files_in(raw) == []


def test_wrong_mirror_path(tmp_path, raw, monkeypatch):
    e = F.REGISTRY["mnist/t10k-labels-idx1-ubyte.gz"]
    with pytest.raises(F.MirrorError, match="is not a folder") as err:
        F.fetch_file(e, raw, tmp_path / "no-such-mirror")
    assert "data.mirror" in str(err.value) and F.MIRROR_ENV in str(err.value)
    monkeypatch.setenv(F.MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(F.MirrorError, match=f"from {F.MIRROR_ENV}"):
        F.fetch_file(e, raw)
    assert files_in(raw) == []


def test_no_network_and_no_mirror(raw, monkeypatch):
    monkeypatch.setattr(F, "RETRIES", 0)
    monkeypatch.delenv(F.MIRROR_ENV, raising=False)
    real = F.REGISTRY["mnist/t10k-labels-idx1-ubyte.gz"]
    e = F.DataFile(real.name, ("http://127.0.0.1:9/t10k-labels-idx1-ubyte.gz",), real.mirror, real.hashes, real.url_hash)
    with pytest.raises(F.DownloadError) as err:
        F.fetch_file(e, raw)
    msg = str(err.value)
    assert e.name in msg and e.urls[0] in msg and F.MIRROR_ENV in msg and "data.mirror" in msg
    assert "\n" not in msg and len(msg) < 600
    assert files_in(raw) == []


@pytest.fixture
def http_server(tmp_path):
    """A local HTTP server over a folder, standing in for a canonical URL (pooch downloads from it)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_with_pooch(http_server, raw, monkeypatch):
    root, url = http_server
    monkeypatch.setattr(F, "RETRIES", 0)
    (root / "a.txt").write_bytes(b"hello\n")
    good = f"md5:{hashlib.md5(b'hello' + bytes([10])).hexdigest()}"
    e = F.DataFile("x/a.txt", (url + "missing.txt", url + "a.txt"), "x/a.txt", (), good)  # first URL 404s
    assert F.fetch_file(e, raw, None, progressbar=False).read_bytes() == b"hello\n"
    bad = F.DataFile("y/a.txt", (url + "a.txt",), "y/a.txt", (), "md5:" + "0" * 32)
    with pytest.raises(F.HashMismatch) as err:
        F.fetch_file(bad, raw, None, progressbar=False)
    assert "0" * 32 in str(err.value) and good.split(":")[1] in str(err.value) and url in str(err.value)
    assert not (raw / "y").exists() and files_in(raw) == [raw / "x", raw / "x/a.txt"]


def test_existing_corrupt_copy_is_replaced(tiny_mirror, raw):
    mirror, entries = tiny_mirror
    e = entries["mnist/t10k-labels-idx1-ubyte.gz"]
    (raw / "mnist").mkdir(parents=True)
    (raw / e.name).write_bytes(b"junk")
    F.fetch_file(e, raw, mirror)
    assert (raw / e.name).read_bytes() == (mirror / e.mirror).read_bytes()


def test_registry_is_complete():
    for name, e in F.REGISTRY.items():
        assert e.name == name and e.urls and e.mirror and e.accepted
        for h in e.accepted:
            alg, hexd = h.split(":")
            assert len(hexd) == {"sha256": 64, "md5": 32}[alg], name
    assert {n for g in F.GROUPS.values() for n in g} == set(F.REGISTRY)
    assert all(u.startswith(("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"))
               for n in F.GROUPS["mnist"] for u in F.REGISTRY[n].urls)


def test_registry_matches_the_mirror_manifest():
    """The pinned sha256 of every mirror file equals the mirror's SHA256SUMS line (no hashing of big files)."""
    mirror = data_mirror()
    if mirror is None or not (mirror / "SHA256SUMS").exists():
        pytest.skip("no data mirror with SHA256SUMS: set MUSICSOM_DATA_MIRROR or place the data in ../shared/data")
    sums = {p: h for h, p in (line.split() for line in (mirror / "SHA256SUMS").read_text().splitlines() if line.strip())}
    for name, e in F.REGISTRY.items():
        if e.mirror in sums:
            assert f"sha256:{sums[e.mirror]}" in e.accepted, name
        else:
            assert name.startswith("fashion-mnist/"), f"{e.mirror} missing from the mirror"


def test_cli_error_is_one_paragraph_and_writes_nothing(tmp_path):
    env = dict(os.environ, MUSICSOM_DATA_MIRROR=str(tmp_path / "absent"))
    out = tmp_path / "res"
    proc = subprocess.run(
        [sys.executable, "-m", "musicsom.pipeline.data.fetch_digits", "--digits", "mnist", "--mirror", "",
         "--raw-dir", str(out / "raw"), "--out", str(out / "d.npz")],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the data mirror") and "MUSICSOM_DATA_MIRROR" in last and "Traceback" not in proc.stderr
    assert files_in(out) == []


def test_workflow_rejects_a_missing_mirror(tmp_path):
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text().replace("mirror: null", "mirror: no/such/dir"))
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
         "--cores", "1", "-n", "data_all"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode != 0
    assert "data.mirror" in proc.stdout + proc.stderr and "does not exist" in proc.stdout + proc.stderr


def test_invocation_dir_and_a_relative_mirror(tmp_path, monkeypatch):
    """A relative mirror is relative to the folder the command was typed in ($PWD where it fits --directory)."""
    from musicsom.pipeline import config_check as C

    here = tmp_path / "here"
    run = here / "runs" / "x"
    run.mkdir(parents=True)
    monkeypatch.chdir(run)  # where Snakemake has gone (--directory runs/x) before it reads the Snakefile
    assert C.invocation_dir(Path("runs/x"), {"PWD": str(here)}) == here
    assert C.invocation_dir(Path(run), {"PWD": str(here)}) == here  # an absolute --directory: $PWD as the shell set it
    assert C.invocation_dir(None, {"PWD": str(here)}) == run  # no --directory: the current folder
    assert C.invocation_dir(Path("runs/x"), {"PWD": str(tmp_path)}) == run  # a $PWD that does not fit: the current folder
    assert C.invocation_dir(Path("runs/x"), {}) == run
    env = {C.MIRROR_ENV: "../shared/data"}
    assert C.mirror_path({"data": {"mirror": None}}, env, here) == (f"${C.MIRROR_ENV}", tmp_path / "shared" / "data")
    assert C.mirror_path({"data": {"mirror": "m"}}, env, here) == ("data.mirror", here / "m")  # config wins
    assert C.mirror_path({"data": {"mirror": None}}, {}, here) is None
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert C.mirror_errors({"data": {"mirror": None}}, env, here) == []
    assert "does not exist" in C.mirror_errors({"data": {"mirror": None}}, env, run)[0]


def test_a_relative_mirror_is_relative_to_where_the_command_is_typed(tmp_path):
    """The README's `MUSICSOM_DATA_MIRROR=../shared/data snakemake --directory runs/d50`, typed in the
    repository: the mirror is looked for beside it, not inside the run folder, and the fetch jobs get it as an
    absolute path; data.mirror is relative the same way. Typed from a folder where the path names nothing, refused."""
    repo, mirror = tmp_path / "repo", tmp_path / "shared" / "data"
    mirror.mkdir(parents=True)
    runs = {}
    for name, data in (("env", "data: {}"), ("config", "data: {mirror: ../shared/data}")):
        runs[name] = repo / "runs" / name
        runs[name].mkdir(parents=True)
        smoke = (ROOT / "tests" / "smoke" / "config.yaml").read_text()
        assert smoke.count("data: {}") == 1
        (runs[name] / "config.yaml").write_text(smoke.replace("data: {}", data))

    def dry_run(cwd: Path, run: Path, mirror_env: str) -> subprocess.CompletedProcess:
        # PWD: what the shell sets in the folder the command is typed in (subprocess does not)
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                   PWD=str(cwd), MUSICSOM_DATA_MIRROR=mirror_env)
        cmd = [str(Path(sys.executable).parent / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory",
               os.path.relpath(run, cwd), "--cores", "1", "-n", "-p", "data_all"]
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    proc = dry_run(repo, runs["env"], "../shared/data")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"--mirror {mirror} " in proc.stdout, proc.stdout[-3000:]
    proc = dry_run(repo, runs["config"], "/nonexistent/env-mirror")  # data.mirror wins over the variable
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"--mirror {mirror} " in proc.stdout, proc.stdout[-3000:]
    proc = dry_run(runs["env"], runs["env"], "../shared/data")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"$MUSICSOM_DATA_MIRROR = {repo / 'runs' / 'shared' / 'data'} does not exist" in out, out[-3000:]

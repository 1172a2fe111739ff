"""The library as people install it: ``pip install musicsom`` brings numpy and scipy only.

The slow test installs the package (not editable, no extras) from a copy of the checkout into a
fresh virtual environment and checks there what a user of the bare library does: ``import
musicsom``, ``from musicsom import *``, ``help(musicsom)``, every name of ``musicsom.__all__``,
``python -m musicsom --help`` and ``pdoc musicsom`` (installed into the same environment), while
``import pandas`` fails (so the install really is bare). It skips only when pip cannot reach a
package index. The fast tests keep the packaging metadata in one place: one version (written as
``musicsom.__version__``, repeated by CITATION.cff and CHANGELOG.md), py.typed shipped, the library
modules of ``__all__`` equal to the package's public top-level modules, and each extra holding the
packages that ``src/`` imports and no others.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, pdoc_warnings

SRC = ROOT / "src" / "musicsom"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _requirement_names(reqs: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.\-]+", r).group(0).lower().replace("_", "-") for r in reqs}


# ---------------------------------------------------------------- one version, one place
def test_the_version_is_written_once_and_repeated_consistently():
    import musicsom

    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"], "pyproject.toml must read the version, not write it"
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "musicsom.__version__"}
    version = musicsom.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf"^version: {re.escape(version)}$", cff, re.M), "CITATION.cff names another version"
    released = re.search(r'^date-released: "?(\d{4}-\d{2}-\d{2})"?$', cff, re.M).group(1)
    top = re.search(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert top and top.groups() == (version, released), f"CHANGELOG.md's top entry {top and top.groups()} is not {version}, {released}"


def test_citation_cff_is_valid_yaml_and_cites_the_software_and_the_paper():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["title"] == "musicsom" and cff["license"] == "MIT"
    assert isinstance(cff["date-released"], str), "quote the date: YAML would read a bare one as a date, not a string"
    assert cff["authors"] == [{"name": "The musicsom developers"}]
    (paper,) = cff["references"]
    assert paper["title"] == "Inverting Self-Organizing Maps: A Unified Activation-Based Framework"
    assert [a["family-names"] for a in paper["authors"]] == ["Londei", "Benati", "Lanzieri", "Loreto"]
    assert paper["year"] == 2026 and paper["url"] == PYPROJECT["project"]["urls"]["Paper"]


def test_py_typed_is_shipped():
    assert (SRC / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["musicsom"]


def test_the_library_modules_are_the_public_top_level_modules():
    """``__all__`` names every public top-level module (the library, numpy and scipy only) and no package:
    the experiments and the pipeline need the ``pipeline`` extra, so help(), pdoc and ``import *`` skip them."""
    import musicsom

    files = {p.stem for p in SRC.glob("*.py") if not p.stem.startswith("_")}
    assert set(musicsom._MODULES) == files, "musicsom._MODULES and the top-level modules of src/musicsom differ"
    packages = {p.parent.name for p in SRC.glob("*/__init__.py")}
    assert packages >= {"experiments", "pipeline"} and not packages & set(musicsom.__all__)
    assert set(musicsom.__all__) == set(musicsom._EXPORTS) | set(musicsom._MODULES) | {"__version__"}


# ---------------------------------------------------------------- extras: what src/ imports, no more
# packages an extra holds without src/ importing them, and why
NOT_IMPORTED = {"snakemake": "runs the workflow (the Snakefile), which runs the stages"}


def _third_party_imports(paths) -> set[str]:
    """Top-level names of every import (at any depth) and importlib.util.find_spec("...") in these files."""
    names = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        names.update(re.findall(r"find_spec\(\s*[\"']([A-Za-z0-9_]+)", text))
    return names - set(sys.stdlib_module_names) - {"musicsom", "__future__"}


# import names that differ from the distribution's name
DISTRIBUTION = {"sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml", "dlib": "dlib-bin"}


def _distribution(import_name: str) -> str:
    return DISTRIBUTION.get(import_name, import_name).lower().replace("_", "-")


def test_each_extra_holds_what_src_imports_and_no_more():
    extras = PYPROJECT["project"]["optional-dependencies"]
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    pipeline = _requirement_names(extras["pipeline"])
    upper = [p for sub in ("experiments", "pipeline") for p in (SRC / sub).rglob("*.py")]
    imported = {_distribution(n) for n in _third_party_imports(upper)}
    assert not imported - core - pipeline, f"imported by the experiments or the pipeline, but in no extra: {sorted(imported - core - pipeline)}"
    unused = pipeline - imported - set(NOT_IMPORTED)
    assert not unused, f"in the pipeline extra, but imported nowhere in src/: {sorted(unused)}"
    # statsmodels gives reference values to tests only (musicsom.stats computes Holm in numpy)
    everywhere = _third_party_imports(SRC.rglob("*.py"))
    assert "statsmodels" not in everywhere and "statsmodels" in _requirement_names(extras["test"])
    assert "statsmodels" not in pipeline


# ---------------------------------------------------------------- the bare install
# pip's words when no package index (or proxy) answers: the test skips instead of failing
UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
    r"Name or service not known|Network is unreachable|Connection refused|ConnectTimeout|ReadTimeout|"
    r"ProxyError|Could not fetch URL|No matching distribution found for (?:setuptools|numpy|scipy|pdoc)"
)


def _run(cmd, cwd: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _pip_install(python: Path, args: list, cwd: Path, env: dict) -> None:
    """pip install with the tested pins into the bare environment; skip when no index answers."""
    res = _run([python, "-m", "pip", "install", "--no-compile", "--disable-pip-version-check", "-q",
                "-c", ROOT / "constraints.txt", *args], cwd, env)
    if res.returncode != 0:
        out = res.stdout + res.stderr
        if UNREACHABLE.search(out):
            pytest.skip(f"no package index reachable for pip install {' '.join(map(str, args))}: "
                        f"{UNREACHABLE.search(out).group(0)}")
        raise AssertionError(f"pip install {args} failed ({res.returncode}):\n{out[-6000:]}")


# run in the bare environment: what a user of the library sees, as JSON
PROBE = r"""
import contextlib, importlib, importlib.metadata, io, json, sys
import musicsom
loaded_alone = sorted(m for m in sys.modules if m.split(".")[0] == "musicsom")
ns = {}
exec("from musicsom import *", ns)
help_text = io.StringIO()
with contextlib.redirect_stdout(help_text):
    help(musicsom)
unresolved = [n for n in musicsom.__all__ if n not in ns or getattr(musicsom, n) is not ns[n]]
files = importlib.metadata.files("musicsom")
print(json.dumps({
    "file": musicsom.__file__, "version": musicsom.__version__,
    "metadata_version": importlib.metadata.version("musicsom"),
    "requires": importlib.metadata.requires("musicsom") or [],
    "loaded_alone": loaded_alone, "unresolved": unresolved, "all": musicsom.__all__, "modules": musicsom._MODULES,
    "help": help_text.getvalue(), "py_typed": any(str(f).replace("\\", "/") == "musicsom/py.typed" for f in files),
    "heavy": sorted({"pandas", "sklearn", "torch", "matplotlib", "snakemake"} & set(sys.modules)),
}))
"""


@pytest.mark.slow
def test_bare_install_imports_documents_itself_and_runs(tmp_path):
    import musicsom

    started = time.monotonic()
    # build from a copy: building in the checkout would leave build/ and an egg-info behind
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "src", pkg / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, pkg / name)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}}
    env.update(PIP_NO_INPUT="1", PAGER="cat", TERM="dumb")
    venv = tmp_path / "venv"
    try:
        res = _run([sys.executable, "-m", "venv", venv], tmp_path, env)
        assert res.returncode == 0, res.stderr
        py = venv / "bin" / "python"
        _pip_install(py, [pkg], tmp_path, env)

        # the install: a copy in the environment (not the checkout), numpy and scipy only, py.typed shipped
        res = _run([py, "-c", PROBE], tmp_path, env)
        assert res.returncode == 0, res.stderr[-4000:]
        probe = json.loads(res.stdout)
        assert Path(probe["file"]).is_relative_to(venv), f"imported {probe['file']}, not the installed copy"
        assert probe["version"] == probe["metadata_version"] == musicsom.__version__
        assert {r for r in probe["requires"] if "extra ==" not in r} and all(
            re.match(r"(numpy|scipy)\b", r) for r in probe["requires"] if "extra ==" not in r), probe["requires"]
        assert probe["py_typed"], "py.typed is not in the installed package"
        assert probe["loaded_alone"] == ["musicsom"], f"import musicsom alone loaded {probe['loaded_alone']}"
        assert not probe["unresolved"], f"names of musicsom.__all__ that do not resolve: {probe['unresolved']}"
        assert not probe["heavy"], f"the library imported {probe['heavy']}"
        for m in probe["modules"]:
            assert f"musicsom.{m}" in probe["help"] or f"    {m}\n" in probe["help"], f"help(musicsom) does not name {m}"

        # the commands, exactly as a user types them
        res = _run([py, "-c", "import musicsom; from musicsom import *; help(musicsom)"], tmp_path, env)
        assert res.returncode == 0 and "PACKAGE CONTENTS" in res.stdout, res.stderr[-4000:]
        res = _run([py, "-m", "musicsom", "--help"], tmp_path, env)
        assert res.returncode == 0 and res.stdout.startswith("usage: musicsom"), res.stdout + res.stderr[-4000:]
        res = _run([py, "-m", "musicsom", "--version"], tmp_path, env)
        assert res.returncode == 0 and res.stdout.strip() == f"musicsom {probe['version']}", res.stdout + res.stderr
        res = _run([venv / "bin" / "musicsom", "list"], tmp_path, env)  # the console script; listing reads sources
        assert res.returncode == 0 and "train_som" in res.stdout, res.stdout + res.stderr[-4000:]

        # the install is bare: the pipeline's packages are not there
        res = _run([py, "-c", "import pandas"], tmp_path, env)
        assert res.returncode != 0 and "No module named 'pandas'" in res.stderr, res.stdout + res.stderr

        # pdoc musicsom documents the library modules (those of __all__), and only them
        _pip_install(py, ["pdoc"], tmp_path, env)
        html = tmp_path / "html"
        res = _run([venv / "bin" / "pdoc", "-o", html, "musicsom"], tmp_path, env)
        assert res.returncode == 0, res.stderr[-4000:]
        pages = sorted(str(p.relative_to(html)) for p in html.rglob("*.html"))
        expected = sorted(["index.html", "musicsom.html", *(f"musicsom/{m}.html" for m in probe["modules"])])
        assert pages == expected, f"pdoc wrote {pages}, expected {expected}"
        package_page = (html / "musicsom.html").read_text(encoding="utf-8")
        for m in probe["modules"]:
            assert f"musicsom/{m}.html" in package_page, f"the package page does not link musicsom.{m}"
        assert "&gt;&gt;&gt;" in (html / "musicsom" / "som.html").read_text(encoding="utf-8")
        _check_pdoc_warnings(res.stderr, py, tmp_path, env)
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # about 200 MB; pytest keeps the last three tmp folders
        print(f"bare install test: {time.monotonic() - started:.1f} s")


def _check_pdoc_warnings(stderr: str, py: Path, cwd: Path, env: dict) -> None:
    lazy, other = pdoc_warnings(stderr, pandas_missing=True)
    assert not other, "pdoc musicsom warned:\n" + "\n".join(other)
    # and each name pdoc could not see resolves in the bare install
    check = "import importlib\nfor name, module in %r:\n    getattr(importlib.import_module(module), name)\n" % lazy
    res = _run([py, "-c", check], cwd, env)
    assert res.returncode == 0, res.stderr[-4000:]

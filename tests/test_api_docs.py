"""The library's documentation runs: docstring examples (doctests), the pdoc API reference, docs/LIBRARY.md.

The library modules are those of ``musicsom._MODULES`` (the modules of ``musicsom.__all__``; numpy and
scipy only); ``tests/test_install.py`` checks that they are the package's public top-level modules.
(a) The ``>>>`` examples of the package and of every library module pass, and there are enough of
them: each group of modules (a module split in several keeps its examples across the group) runs at
least a set number of examples, and the main public objects, looked up where the user imports them
from, each have their own wherever they are defined, so deleting examples fails here. (b) pdoc builds
the API reference of those modules into a temporary folder, and the pages name the key classes and
methods; ``pdoc musicsom`` alone documents exactly the library modules (skipped without pdoc: ``pip
install pdoc``). (c) Every ```python block of docs/LIBRARY.md executes (a block that imports an
optional package, e.g. minisom, minigng or scikit-learn, is skipped when that package is missing).
"""

from __future__ import annotations

import ast
import doctest
import functools
import importlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import pdoc_warnings

import musicsom

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_MD = ROOT / "docs" / "LIBRARY.md"
LIBRARY_MODULES = [f"musicsom.{m}" for m in musicsom._MODULES]

# group of library modules -> the least number of doctest examples the group runs (som.py was split into
# som/lattice/distances and music.py into music/music_batch: the examples may live in any module of a group)
MIN_EXAMPLES = {
    ("som", "lattice", "distances"): 100,
    ("inversion",): 60,
    ("music", "music_batch"): 75,
    ("metrics",): 40,
    ("stats",): 15,
    ("encoding",): 18,
    ("image_metrics",): 25,
}
MIN_PACKAGE_EXAMPLES = 5  # musicsom/__init__.py

# public objects that must carry their own examples, by the module they are imported from (for a class,
# "Class.method"); the examples count wherever the object is defined (its __module__ and __qualname__)
REQUIRED = {
    "musicsom.som": ["SOM", "SOM.distance_map", "SOM.get_weights", "SOM.transform", "sq_distances",
                     "best_matching_units", "lattice_ring", "quantization_error", "topographic_error"],
    "musicsom.inversion": ["activations", "Inverter", "ActivationInverter", "invert", "invert_per_anchor"],
    "musicsom.music": ["Music", "MusicParams", "Music.run_batch", "music_direction", "energy_coefficients",
                       "trust_region"],
    "musicsom.metrics": ["geodesic_efficiency", "transition_rate", "dwell_lengths", "trajectory_summary"],
    "musicsom.stats": ["holm", "wilcoxon_paired"],
    "musicsom.encoding": ["PCAWhitening"],
    "musicsom.image_metrics": ["laplacian_sharpness"],
}


def _group(module: str) -> tuple[str, ...]:
    """The group of ``musicsom.<module>`` in MIN_EXAMPLES, as full module names."""
    short = module.removeprefix("musicsom.")
    (group,) = [g for g in MIN_EXAMPLES if short in g]
    return tuple(f"musicsom.{m}" for m in group)


# ---------------------------------------------------------------- (a) doctests
@functools.lru_cache(maxsize=None)
def _run_doctests(name: str):
    """(failed, attempted, {doctest name: number of examples}, report) for the docstrings of one module."""
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name)
    runner = doctest.DocTestRunner(verbose=False)  # option flags come from the examples' own directives
    out = io.StringIO()
    failed = attempted = 0
    for test in sorted(tests, key=lambda t: t.name):
        result = runner.run(test, out=out.write)
        failed += result.failed
        attempted += result.attempted
    counts = {t.name: len(t.examples) for t in tests}
    return failed, attempted, counts, out.getvalue()


def test_every_library_module_is_in_one_group():
    grouped = [m for g in MIN_EXAMPLES for m in g]
    assert sorted(grouped) == sorted(set(grouped)), "a module is in two groups of MIN_EXAMPLES"
    assert set(grouped) == set(musicsom._MODULES), (
        f"MIN_EXAMPLES and musicsom._MODULES differ: {sorted(set(grouped) ^ set(musicsom._MODULES))}")


@pytest.mark.parametrize("name", ["musicsom", *LIBRARY_MODULES])
def test_docstring_examples_pass(name):
    failed, attempted, _, report = _run_doctests(name)
    assert failed == 0, f"{failed} of {attempted} doctest examples of {name} failed:\n{report}"
    if name == "musicsom":
        assert attempted >= MIN_PACKAGE_EXAMPLES, f"musicsom runs only {attempted} doctest examples"


@pytest.mark.parametrize("group", list(MIN_EXAMPLES), ids=["+".join(g) for g in MIN_EXAMPLES])
def test_each_group_of_modules_runs_enough_examples(group):
    attempted = {m: _run_doctests(f"musicsom.{m}")[1] for m in group if m in musicsom._MODULES}
    assert sum(attempted.values()) >= MIN_EXAMPLES[group], (
        f"{attempted} run {sum(attempted.values())} doctest examples (expected >= {MIN_EXAMPLES[group]})")


def _defined_as(module: str, dotted: str) -> str:
    """The doctest name of ``module.dotted`` where it is defined (its home module and qualified name)."""
    head, _, method = dotted.partition(".")
    obj = getattr(importlib.import_module(module), head)
    home = f"{obj.__module__}.{obj.__qualname__}"
    return f"{home}.{method}" if method else home


@pytest.mark.parametrize("module", sorted(REQUIRED))
def test_main_public_objects_have_examples(module):
    missing = []
    for dotted in REQUIRED[module]:
        name = _defined_as(module, dotted)
        home = max((m for m in ["musicsom", *LIBRARY_MODULES] if name.startswith(m + ".")), key=len, default=None)
        assert home, f"{module}.{dotted} is defined as {name}, outside the library modules"
        if _run_doctests(home)[2].get(name, 0) == 0:
            missing.append(f"{dotted} (defined as {name})")
    assert not missing, f"these public objects of {module} have no doctest example: {missing}"


def test_examples_say_activations_are_squared_distances():
    # every module group whose examples compute activations says, in them, that they are squared distances
    for name in ("musicsom.som", "musicsom.inversion", "musicsom.music"):
        text = ""
        for m in _group(name):
            module = importlib.import_module(m)
            text += "\n".join(t.docstring or "" for t in doctest.DocTestFinder().find(module, m) if t.examples)
        assert re.search(r"squared distance", text, re.IGNORECASE), _group(name)


# ---------------------------------------------------------------- (b) the API reference
def _pdoc(out: Path, *modules: str) -> subprocess.CompletedProcess:
    src = str(Path(musicsom.__file__).resolve().parents[1])  # the musicsom under test, in the subprocess too
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run(
        [sys.executable, "-m", "pdoc", *modules, "-o", str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )


def _page(out: Path, module: str) -> Path:
    return out / (module.replace(".", "/") + ".html")


def test_api_reference_builds_with_pdoc(tmp_path):
    pytest.importorskip("pdoc", reason="the API reference is built by pdoc: pip install pdoc (or the docs extra)")
    res = _pdoc(tmp_path, *LIBRARY_MODULES)
    assert res.returncode == 0, res.stderr[-3000:]
    _check_pdoc_warnings(res.stderr)
    assert (tmp_path / "index.html").is_file()
    for m in LIBRARY_MODULES:
        assert _page(tmp_path, m).is_file(), f"pdoc wrote no page for {m}"
    # names and examples on the pages of a module's group (where the split put them)
    group_html = {m: "".join(_page(tmp_path, g).read_text(encoding="utf-8") for g in _group(m)) for m in LIBRARY_MODULES}
    expect = {
        "musicsom.inversion": ["ActivationInverter", "inverse_transform", "Inverter", "sigma_min", "invert_per_anchor",
                               'id="ActivationInverter"', 'id="ActivationInverter.inverse_transform"'],
        "musicsom.music": ["run_batch", "MusicParams", "music_direction", "energy_coefficients", 'id="Music.run_batch"'],
        "musicsom.som": ["distance_map", "get_weights", "best_matching_units", "lattice_ring", "hexagonal",
                         'id="SOM.distance_map"'],
        "musicsom.metrics": ["geodesic_efficiency", "transition_rate", "dwell_lengths"],
        "musicsom.stats": ["holm", "wilcoxon_paired"],
        "musicsom.encoding": ["PCAWhitening"],
        "musicsom.image_metrics": ["laplacian_sharpness"],
    }
    for m, names in expect.items():
        for name in names:
            assert name in group_html[m], f"{name} is not documented on the pages of {_group(m)}"
    for m in LIBRARY_MODULES:
        assert "&gt;&gt;&gt;" in group_html[m], f"the pages of {_group(m)} show no doctest example"


def test_pdoc_of_the_package_alone_documents_the_library(tmp_path):
    """``pdoc musicsom`` documents the modules of ``__all__`` (the library) and leaves out the experiments and
    the pipeline. The names exported lazily (PEP 562) are documented on their modules' pages: pdoc cannot see
    them in the package's namespace and warns about each, and any other warning fails here."""
    pytest.importorskip("pdoc", reason="pip install pdoc")
    res = _pdoc(tmp_path, "musicsom")
    assert res.returncode == 0, res.stderr[-3000:]
    pages = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.html"))
    assert pages == sorted(["index.html", "musicsom.html", *(f"musicsom/{m}.html" for m in musicsom._MODULES)]), pages
    html = (tmp_path / "musicsom.html").read_text(encoding="utf-8")
    for m in musicsom._MODULES:
        assert f"musicsom/{m}.html" in html, f"the package page does not link musicsom.{m}"
    _check_pdoc_warnings(res.stderr)


def _check_pdoc_warnings(stderr: str) -> None:
    """pdoc printed only warnings about lazily exported names (PEP 562), and each of those names resolves."""
    lazy, other = pdoc_warnings(stderr)
    assert not other, "pdoc warned:\n" + "\n".join(other)
    assert {module for _, module in lazy} <= {"musicsom", *LIBRARY_MODULES}
    for name, module in lazy:
        getattr(importlib.import_module(module), name)  # pdoc could not see it, but it resolves


# ---------------------------------------------------------------- (c) docs/LIBRARY.md
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_CORE = {"numpy", "scipy", "musicsom", "__future__"}
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}  # import name -> what to pip install


def _library_blocks() -> list[tuple[int, str]]:
    text = LIBRARY_MD.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _FENCE.finditer(text)]


def _optional_imports(code: str) -> list[str]:
    """Top-level packages the block imports beyond numpy, scipy and musicsom."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(names - _CORE)


def test_library_md_has_its_code_blocks():
    assert len(_library_blocks()) >= 7


@pytest.mark.parametrize("line, code", _library_blocks(), ids=[f"LIBRARY.md:{line}" for line, _ in _library_blocks()])
def test_library_md_code_block_runs(line, code):
    for package in _optional_imports(code):
        dist = _DISTRIBUTIONS.get(package, package)
        pytest.importorskip(package, reason=f"docs/LIBRARY.md:{line} needs {dist} (pip install {dist})")
    # padded so that a traceback's line numbers are those of LIBRARY.md
    exec(compile("\n" * (line - 1) + code, str(LIBRARY_MD), "exec"), {"__name__": "__library_md__"})

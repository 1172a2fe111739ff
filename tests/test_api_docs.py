"""The library's documentation runs: docstring examples (doctests), the pdoc API reference, docs/LIBRARY.md.

(a) The ``>>>`` examples of the library modules pass, and there are enough of them: each module runs
at least a set number of examples and the main public objects each have their own, so deleting
examples fails here. (b) pdoc builds the API reference of those modules into a temporary folder,
and the pages name the key classes and methods (skipped without pdoc: ``pip install pdoc``).
(c) Every ```python block of docs/LIBRARY.md executes (a block that imports an optional package,
e.g. minisom, minigng or scikit-learn, is skipped when that package is missing).
"""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_MD = ROOT / "docs" / "LIBRARY.md"

# module -> the least number of doctest examples it must run
MIN_EXAMPLES = {
    "musicsom": 5,
    "musicsom.som": 100,
    "musicsom.inversion": 60,
    "musicsom.music": 75,
    "musicsom.metrics": 40,
    "musicsom.stats": 15,
    "musicsom.encoding": 18,
    "musicsom.image_metrics": 25,
}

# objects that must carry their own examples (names as doctest gives them, without the module)
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

LIBRARY_MODULES = [m for m in MIN_EXAMPLES if m != "musicsom"]


# ---------------------------------------------------------------- (a) doctests
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


@pytest.mark.parametrize("name", sorted(MIN_EXAMPLES))
def test_docstring_examples_pass(name):
    failed, attempted, counts, report = _run_doctests(name)
    assert failed == 0, f"{failed} of {attempted} doctest examples of {name} failed:\n{report}"
    assert attempted >= MIN_EXAMPLES[name], f"{name} runs only {attempted} doctest examples (expected >= {MIN_EXAMPLES[name]})"
    missing = [obj for obj in REQUIRED.get(name, []) if counts.get(f"{name}.{obj}", 0) == 0]
    assert not missing, f"these public objects of {name} have no doctest example: {missing}"


def test_examples_say_activations_are_squared_distances():
    # every module whose examples compute activations says, in them, that they are squared distances
    for name in ("musicsom.som", "musicsom.inversion", "musicsom.music"):
        module = importlib.import_module(name)
        text = "\n".join(t.docstring or "" for t in doctest.DocTestFinder().find(module, name) if t.examples)
        assert re.search(r"squared distance", text, re.IGNORECASE), name


# ---------------------------------------------------------------- (b) the API reference
def _pdoc(out: Path, *modules: str) -> subprocess.CompletedProcess:
    import musicsom

    src = str(Path(musicsom.__file__).resolve().parents[1])  # the musicsom under test, in the subprocess too
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run(
        [sys.executable, "-m", "pdoc", *modules, "-o", str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )


def test_api_reference_builds_with_pdoc(tmp_path):
    pytest.importorskip("pdoc", reason="the API reference is built by pdoc: pip install pdoc (or the docs extra)")
    res = _pdoc(tmp_path, *LIBRARY_MODULES)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Error importing" not in res.stderr, res.stderr[-3000:]
    assert (tmp_path / "index.html").is_file()
    pages = {m: tmp_path / (m.replace(".", "/") + ".html") for m in LIBRARY_MODULES}
    for m, page in pages.items():
        assert page.is_file(), f"pdoc wrote no page for {m}"
    expect = {
        "musicsom.inversion": ["ActivationInverter", "inverse_transform", "Inverter", "sigma_min", "invert_per_anchor"],
        "musicsom.music": ["run_batch", "MusicParams", "music_direction", "energy_coefficients"],
        "musicsom.som": ["distance_map", "get_weights", "best_matching_units", "lattice_ring", "hexagonal"],
        "musicsom.metrics": ["geodesic_efficiency", "transition_rate", "dwell_lengths"],
        "musicsom.stats": ["holm", "wilcoxon_paired"],
        "musicsom.encoding": ["PCAWhitening"],
        "musicsom.image_metrics": ["laplacian_sharpness"],
    }
    for m, names in expect.items():
        html = pages[m].read_text(encoding="utf-8")
        for name in names:
            assert name in html, f"{name} is not documented on the page of {m}"
        assert "&gt;&gt;&gt;" in html, f"the page of {m} shows no doctest example"
    assert 'id="ActivationInverter"' in pages["musicsom.inversion"].read_text(encoding="utf-8")
    assert 'id="ActivationInverter.inverse_transform"' in pages["musicsom.inversion"].read_text(encoding="utf-8")
    assert 'id="Music.run_batch"' in pages["musicsom.music"].read_text(encoding="utf-8")
    assert 'id="SOM.distance_map"' in pages["musicsom.som"].read_text(encoding="utf-8")


def test_pdoc_of_the_package_alone_documents_the_public_api(tmp_path):
    """musicsom/__init__ exports lazily (PEP 562); its __all__ names the modules, so pdoc reaches them."""
    pytest.importorskip("pdoc", reason="pip install pdoc")
    res = _pdoc(tmp_path, "musicsom")
    assert res.returncode == 0, res.stderr[-3000:]
    html = (tmp_path / "musicsom.html").read_text(encoding="utf-8")
    assert (tmp_path / "musicsom" / "inversion.html").is_file() and (tmp_path / "musicsom" / "som.html").is_file()
    assert "musicsom.inversion" in html


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

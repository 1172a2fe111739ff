"""The layers of the package, decided by what each needs, and the rule <-> stage chain.

- library (every top-level module of ``musicsom`` but ``experiments`` and ``pipeline``: ``som``,
  ``lattice``, ``distances``, ``inversion``, ``music``, ``metrics``, ...) imports only the library, and of
  the world only the standard library, numpy and scipy at module level (``pip install musicsom`` holds
  nothing else); a few optional packages may be imported inside a function, named in ``OPTIONAL``;
- experiments (``musicsom.experiments``, the paper's logic and its torch models, ``experiments.models``)
  import the library and experiments, never the pipeline;
- pipeline (``musicsom.pipeline``: the stages, the dataset registry and readers ``pipeline.datasets``, the
  file helpers) imports anything below it; a stage (a module with a ``__main__`` guard) never imports
  another stage: what stages share lives in modules without one;
- explore (``musicsom.explore``, the browser app of ``musicsom explore``) reads a finished run and uses
  the library and the experiments' models; only the command line imports it.

The imports come from the source (``musicsom.pipeline.import_graph``), lazy imports inside functions
included. A planted sideways import in a copy of the package must be caught.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# third-party packages a library module may import inside a function (never at module level), and why
OPTIONAL = {
    "threadpoolctl": "som: keeps BLAS on one thread inside fit when installed",
    "sklearn": "som/inversion: __sklearn_tags__, called by scikit-learn only",
    "pandas": "stats: the table helpers, which take a DataFrame",
    "torch": "_torch_backend: the optional engine of SOM.fit and Music.run_batch, imported only for backend='torch'",
}
CORE = {"numpy", "scipy", "musicsom"}

CHECKER = r'''
import sys
from musicsom.pipeline.import_graph import all_modules, direct_imports, has_main_guard, module_file

def layer(name):
    parts = name.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] == "__main__":  # `python -m musicsom`: the command line, which is the pipeline's
        return "pipeline"
    if parts[1] == "experiments":
        return "experiments"
    if parts[1] == "pipeline":
        return "pipeline"
    if parts[1] == "explore":
        return "explore"
    return "library"

def is_stage(name):
    parts = name.split(".")
    return len(parts) > 2 and parts[1] == "pipeline" and module_file(name).name != "__init__.py" and has_main_guard(name)

ALLOWED = {{"package": {{"package"}}, "library": {{"package", "library"}},
           "experiments": {{"package", "library", "experiments"}},
           "explore": {{"package", "library", "experiments", "explore"}},
           # the command line's `musicsom explore` imports the explorer (lazily, inside the command)
           "pipeline": {{"package", "library", "experiments", "pipeline", "explore"}}}}
problems = []
for m in all_modules():
    lay = layer(m)
    for dep in sorted(direct_imports(m)):
        if layer(dep) not in ALLOWED[lay]:
            problems.append(f"{{m}} ({{lay}}) imports {{dep}} ({{layer(dep)}}): a lower layer may not import a higher one")
        if is_stage(m) and is_stage(dep):
            problems.append(f"{{m}} imports the stage {{dep}}: move what they share into a module without a __main__ guard")
print("\n".join(problems))
sys.exit(1 if problems else 0)
'''.format()


def run_checker(src: Path) -> subprocess.CompletedProcess:
    """Run the layer check on the package under ``src`` (a fresh interpreter that imports that copy)."""
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", CHECKER], capture_output=True, text=True, env=env, timeout=120)


def test_no_layer_or_sideways_import():
    proc = run_checker(ROOT / "src")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "where, planted, expected",
    [
        ("pipeline/gmm/fig05.py", "from musicsom.pipeline.gmm import fig06  # noqa\n", "imports the stage musicsom.pipeline.gmm.fig06"),
        ("experiments/gmm.py", "from musicsom.pipeline import files  # noqa\n", "a lower layer may not import a higher one"),
        ("som.py", "    from musicsom.experiments import common  # noqa\n", "musicsom.som (library) imports musicsom.experiments.common"),
    ],
)
def test_a_planted_bad_import_is_caught(tmp_path, where, planted, expected):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "musicsom", src / "musicsom", ignore=shutil.ignore_patterns("__pycache__"))
    target = src / "musicsom" / where
    text = target.read_text()
    if planted.startswith("    "):  # a lazy import inside the first function counts too
        m = re.search(r"^def [^\n]+\n(    \"\"\"[\s\S]*?\"\"\"\n)?", text, re.M)
        text = text[: m.end()] + planted + text[m.end():]
    else:
        text = text.replace("from __future__ import annotations\n", "from __future__ import annotations\n\n" + planted, 1)
    target.write_text(text)
    proc = run_checker(src)
    assert proc.returncode == 1 and expected in proc.stdout, proc.stdout + proc.stderr


# a rule's block runs to the next line that starts in column 0 (the next rule, or a loop that defines rules)
RULE = re.compile(r"^(?:rule (\w+)|use rule \w+ as (\w+) with):\n(.*?)(?=^(?!\s)|\Z)", re.M | re.S)


def rule_blocks() -> dict[str, str]:
    out = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for m in RULE.finditer(smk.read_text()):
            out[m.group(1) or m.group(2)] = m.group(3)
    return out


def test_every_rule_runs_the_stage_its_code_input_names():
    """One rule, one CLI: the module in the shell command is the module whose import graph is the code input."""
    blocks = rule_blocks()
    checked = 0
    for rule, body in blocks.items():
        modules = re.findall(r"python -m musicsom\.pipeline\.([\w.]+)", body)
        code = re.findall(r'code=stage_code\("([\w.]+)"\)', body)
        if rule.startswith("kmeans_") and rule in ("kmeans_labels", "kmeans_pair"):
            assert code, f"{rule} reuses a MNIST stage but declares no code input"
            continue
        if not modules:
            continue
        assert len(set(modules)) == 1, f"{rule} runs several stages: {modules}"
        if rule in ("code_manifest", "run_config"):
            continue
        assert code == modules[:1], f"{rule} runs musicsom.pipeline.{modules[0]} but its code input is {code}"
        checked += 1
    assert checked > 40
    assert not re.search(r"\bsrc\(", "".join((ROOT / "workflow" / "rules").joinpath(f).read_text()
                                             for f in ("gmm.smk", "mnist.smk", "faces.smk", "kmeans.smk", "data.smk"))), \
        "a hand-written code list (src(...)) is back"


def test_every_stage_is_run_by_a_rule():
    from musicsom.pipeline.import_graph import all_modules, has_main_guard, module_file

    used = set()
    for body in rule_blocks().values():
        used.update(re.findall(r'stage_code\("([\w.]+)"\)', body))
        used.update(re.findall(r"python -m musicsom\.pipeline\.([\w.]+)", body))
    stages = {m.removeprefix("musicsom.pipeline.") for m in all_modules()
              if m.startswith("musicsom.pipeline.") and module_file(m).name != "__init__.py" and has_main_guard(m)
              and m != "musicsom.pipeline.cli"}
    assert stages - used == set(), f"stage modules no rule runs: {sorted(stages - used)}"


def _third_party_imports(path: Path) -> tuple[set[str], set[str]]:
    """(top-level packages imported at module level, those imported inside a function or class) of one file."""
    tree = ast.parse(path.read_text())
    top, lazy = set(), set()

    def names(node):
        if isinstance(node, ast.Import):
            return {a.name.split(".")[0] for a in node.names}
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            return {node.module.split(".")[0]}
        return set()

    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue  # annotations only
        for sub in ast.walk(node):
            found = names(sub)
            (top if sub is node or isinstance(node, (ast.Import, ast.ImportFrom, ast.If, ast.Try)) else lazy).update(found)
    return top - set(sys.stdlib_module_names), lazy - set(sys.stdlib_module_names)


def test_the_library_needs_only_numpy_and_scipy():
    """What `pip install musicsom` installs is what the library imports: numpy and scipy, and optional
    packages only inside the functions that use them (the layer of a module follows from this)."""
    library = [p for p in sorted((ROOT / "src" / "musicsom").glob("*.py"))]
    assert {p.stem for p in library} >= {"som", "inversion", "music", "metrics"}
    problems = []
    for path in library:
        top, lazy = _third_party_imports(path)
        if top - CORE:
            problems.append(f"{path.name} imports {sorted(top - CORE)} at module level")
        if lazy - CORE - set(OPTIONAL):
            problems.append(f"{path.name} imports {sorted(lazy - CORE - set(OPTIONAL))} (not in OPTIONAL)")
    assert not problems, problems
    # and the packages that need more live above the library: the datasets (pooch, PIL, pandas) in the
    # pipeline, the torch models in the experiments
    assert not (ROOT / "src" / "musicsom" / "data").exists() and not (ROOT / "src" / "musicsom" / "models").exists()
    for path in (ROOT / "src" / "musicsom" / "experiments" / "models").glob("*.py"):
        assert "musicsom.pipeline" not in path.read_text()


def test_a_planted_third_party_import_in_the_library_is_caught(tmp_path):
    target = tmp_path / "metrics.py"
    target.write_text((ROOT / "src" / "musicsom" / "metrics.py").read_text() + "\nimport pandas\n")
    top, _ = _third_party_imports(target)
    assert "pandas" in top

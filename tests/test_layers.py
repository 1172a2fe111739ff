"""The three layers of the package and the rule ↔ stage chain.

- library (``musicsom.som``, ``inversion``, ``music``, ``metrics``, ``stats``, ``encoding``,
  ``image_metrics``, ``_validation``, ``data``, ``models``) imports only the library;
- experiments (``musicsom.experiments``) import the library and experiments, never the pipeline;
- pipeline stages (``musicsom.pipeline.<experiment>.<stage>``) import anything below them, and never
  another stage: shared helpers live in modules whose name starts with ``_``.

The imports come from the source (``musicsom.pipeline._code``), lazy imports inside functions
included. A planted sideways import in a copy of the package must be caught.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

LIBRARY = ("som", "inversion", "music", "metrics", "stats", "encoding", "image_metrics", "_validation", "data", "models")

CHECKER = r'''
import sys
from musicsom.pipeline._code import all_modules, direct_imports, module_file

LIBRARY = {LIBRARY}

def layer(name):
    parts = name.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in LIBRARY:
        return "library"
    if parts[1] == "experiments":
        return "experiments"
    if parts[1] == "pipeline":
        return "pipeline"
    return "unknown:" + parts[1]

def is_stage(name):
    parts = name.split(".")
    return len(parts) > 2 and parts[1] == "pipeline" and not parts[-1].startswith("_") and module_file(name).name != "__init__.py"

ALLOWED = {{"package": {{"package"}}, "library": {{"package", "library"}},
           "experiments": {{"package", "library", "experiments"}},
           "pipeline": {{"package", "library", "experiments", "pipeline"}}}}
problems = []
for m in all_modules():
    lay = layer(m)
    if lay.startswith("unknown"):
        problems.append(f"{{m}}: not in a layer (library, experiments or pipeline)")
        continue
    for dep in sorted(direct_imports(m)):
        if layer(dep) not in ALLOWED[lay]:
            problems.append(f"{{m}} ({{lay}}) imports {{dep}} ({{layer(dep)}}): a lower layer may not import a higher one")
        if is_stage(m) and is_stage(dep):
            problems.append(f"{{m}} imports the stage {{dep}}: move what they share into a helper module (_common)")
print("\n".join(problems))
sys.exit(1 if problems else 0)
'''.format(LIBRARY=set(LIBRARY))


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
        ("experiments/gmm.py", "from musicsom.pipeline import _io  # noqa\n", "a lower layer may not import a higher one"),
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
    from musicsom.pipeline._code import all_modules, has_main_guard, module_file

    used = set()
    for body in rule_blocks().values():
        used.update(re.findall(r'stage_code\("([\w.]+)"\)', body))
        used.update(re.findall(r"python -m musicsom\.pipeline\.([\w.]+)", body))
    stages = {m.removeprefix("musicsom.pipeline.") for m in all_modules()
              if m.startswith("musicsom.pipeline.") and not m.split(".")[-1].startswith("_")
              and module_file(m).name != "__init__.py" and has_main_guard(m)}
    assert stages - used == set(), f"stage modules no rule runs: {sorted(stages - used)}"

"""The import graph of the package, read from the source (no module is imported).

The workflow uses it to derive each rule's code inputs: a stage module and everything it imports
inside ``musicsom``, directly or through other modules, plus the ``__init__`` of every package on
the way (Python runs those too). ``code_manifest`` turns that set into a text of file hashes that a
rule records (``results/code/<stage>.txt``), so an edit of any of those files reruns exactly the
rules whose stages import it, and a run folder can move without being replanned. The layer test
(``tests/test_layers.py``) walks the same graph.

Every import statement counts, including those inside functions (imported lazily) — a superset of
what a given run executes, which errs on the side of rerunning.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "musicsom"
ROOT = Path(__file__).resolve().parents[1]  # .../src/musicsom

__all__ = ["module_file", "direct_imports", "import_graph", "code_files", "code_manifest", "all_modules"]


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` (``musicsom.x.y``): ``x/y.py`` or ``x/y/__init__.py``; None if absent."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file() and len(parts) > 1:
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _is_package(name: str) -> bool:
    f = module_file(name)
    return f is not None and f.name == "__init__.py"


@lru_cache(maxsize=None)
def direct_imports(name: str) -> frozenset[str]:
    """The ``musicsom`` modules that module ``name`` imports anywhere in its source."""
    path = module_file(name)
    if path is None:
        raise ValueError(f"no module {name!r} under {ROOT}")
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if _is_package(name) else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            found.add(base)
            for alias in node.names:  # "from pkg import module" imports a submodule
                if module_file(f"{base}.{alias.name}") is not None:
                    found.add(f"{base}.{alias.name}")
    return frozenset(m for m in found if module_file(m) is not None and m != name)


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def import_graph(name: str) -> list[str]:
    """Every ``musicsom`` module that importing ``name`` can run: itself, its imports (recursively) and their packages."""
    seen: set[str] = set()
    todo = list(_with_parents(name))
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for dep in direct_imports(m):
            todo.extend(_with_parents(dep) - seen)
    return sorted(seen)


def code_files(name: str) -> list[Path]:
    """The source files of :func:`import_graph`."""
    return [module_file(m) for m in import_graph(name)]


def code_manifest(name: str) -> str:
    """One line ``<sha256>  <path inside the package>`` per file of the import graph, sorted: what a rule records."""
    lines = []
    for path in code_files(name):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(ROOT.parent).as_posix()}")
    return "\n".join(sorted(lines, key=lambda s: s.split("  ", 1)[1])) + "\n"


def all_modules() -> list[str]:
    """Every module of the package (from the files under ``src/musicsom``)."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


def has_main_guard(name: str) -> bool:
    """Whether module ``name`` ends in a top-level ``if __name__ == "__main__":`` (a command-line stage)."""
    tree = ast.parse(module_file(name).read_text())
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            left, right = node.test.left, node.test.comparators[0] if node.test.comparators else None
            if isinstance(left, ast.Name) and left.id == "__name__" and isinstance(right, ast.Constant) and right.value == "__main__":
                return True
    return False

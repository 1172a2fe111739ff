"""Shared test fixtures: the repository root, the offline data mirror, the Snakemake runner."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMOKE = yaml.safe_load((ROOT / "tests" / "smoke" / "config.yaml").read_text())
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


def data_mirror() -> Path | None:
    """The offline data mirror: $MUSICSOM_DATA_MIRROR, else ../shared/data beside the checkout."""
    env = os.environ.get("MUSICSOM_DATA_MIRROR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = data_mirror()
    if path is None:
        pytest.skip("no data mirror: set MUSICSOM_DATA_MIRROR or place the data in ../shared/data")
    return path


def snakemake_command(workdir: Path, *args: str, snakefile: Path | None = None, env: dict | None = None) -> tuple[list[str], dict]:
    """The command line and environment that run the repository's Snakefile (or ``snakefile``) in ``workdir``."""
    # Snakemake's own one-second job-rate timers, not the default profile's one-minute ones: Snakemake waits for its
    # last timers before it exits, up to a minute a run under the profile (profiles/default/profile.yaml says why)
    cmd = [str(BIN / "snakemake"), "-s", str(snakefile or ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2",
           "--max-jobs-per-timespan", "100/1s", *args]
    environ = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    mirror = data_mirror()
    if mirror is not None:
        environ.setdefault("MUSICSOM_DATA_MIRROR", str(mirror))
    environ.update(env or {})
    return cmd, environ


def snakemake(workdir: Path, *args: str, timeout: float = 1500, check: bool = True, snakefile: Path | None = None,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` (its own config.yaml); kill the whole job tree on timeout.

    ``env`` adds or overrides environment variables (e.g. PYTHONPATH to run a copy of the package).
    """
    cmd, env = snakemake_command(workdir, *args, snakefile=snakefile, env=env)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"snakemake timed out after {timeout} s:\n{out[-5000:]}")
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, "")
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{out[-8000:]}")
    return result


def job_stats(output: str) -> dict[str, int]:
    """Parse the 'Job stats' block of a Snakemake run or dry run into {rule: count}."""
    lines = output.splitlines()
    stats: dict[str, int] = {}
    try:
        start = next(i for i, l in enumerate(lines) if l.strip() == "Job stats:")
    except StopIteration:
        return stats
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit() or parts[0] == "total":
            break
        stats[parts[0]] = int(parts[1])
    return stats


def copy_smoke_config(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tests" / "smoke" / "config.yaml", dest / "config.yaml")
    return dest


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, mirror):
    """One full smoke run (tests/smoke/config.yaml) shared by every test file; returns (workdir, output).

    Tests may read its results; the only test that edits its config.yaml is the last one of
    test_workflow.py, and it puts the file back.
    """
    workdir = copy_smoke_config(tmp_path_factory.mktemp("smoke"))
    result = snakemake(workdir)
    return workdir, result.stdout


def copy_repository(dest: Path, names=("Snakefile", "workflow", "src", "envs", "profiles")) -> Path:
    """Copy the named top-level files and folders of the repository into ``dest`` (a copy to edit and run)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, dest / name)
    return dest


# pdoc looks a package's __all__ up in its __dict__, so it cannot see names exported lazily (PEP 562) and
# warns; it documents them on the pages of the modules that define them. Type hints naming pandas cannot be
# resolved without pandas. Any other warning (a module that fails to import) fails the tests that build docs.
_LAZY = re.compile(r"Found '(\w+)' in (musicsom[\w.]*)\.__all__, but it does not resolve: Error importing \2\.\1")
_PANDAS_HINT = re.compile(r"type annotation .*\b(pd|pandas)\b")


def pdoc_warnings(stderr: str, pandas_missing: bool = False) -> tuple[list[tuple[str, str]], list[str]]:
    """([(name, module) pdoc could not see in module.__all__], [every other line pdoc printed])."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    lazy = [m.groups() for m in map(_LAZY.search, lines) if m]
    other = [line for line in lines if not _LAZY.search(line) and not (pandas_missing and _PANDAS_HINT.search(line))]
    return lazy, other

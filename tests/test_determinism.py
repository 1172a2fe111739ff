"""Interruption and determinism of the smoke workflow.

One extra smoke run of the GMM, MNIST and k-means experiments (the faces, the study and the report
are left out to keep CI short; their stages share the same writers and seeding) does both jobs: it
is killed (SIGKILL to the whole process tree, as a crash or a lost machine would) while the GMM SOM
is training, unlocked and rerun to completion. Its tables must then equal, byte for byte, those of
the uninterrupted session run (``smoke_run`` of conftest.py): that shows the resume is clean and
that two runs give the same bytes. Every CSV, PNG and PDF it made is compared (figures are written
with fixed metadata by ``musicsom.pipeline.files.save_figure``); only timing and environment records
are left out (benchmarks/, logs/, and the report's record of stage times and environment).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, copy_smoke_config, job_stats, snakemake, snakemake_command

pytestmark = pytest.mark.slow

KILL_DURING = "musicsom.pipeline.train_som"  # the GMM SOM: a short training job early in the smoke DAG
KILL_LOG = "results/logs/gmm/som_seed0.log"
KILL_OUTPUT = "results/gmm/seed0/som.npz"
KILL_DIR = "results/gmm/seed0/"
TARGETS = ("gmm_all", "mnist_all", "kmeans_all")  # what the second run makes
# records of time, machine and software: legitimately differ between runs
VOLATILE = ("results/benchmarks/", "results/logs/", "results/report/environment", "results/report/stage_times")


def _descendants(root: int) -> list[int]:
    """Every live process below ``root`` (by parent pid, read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _kill_tree(proc: subprocess.Popen) -> None:
    pids = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in pids:  # jobs that left the process group, if any
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)


def _tree_digest(workdir: Path) -> dict[str, str]:
    """sha256 of every CSV, PNG and PDF under results/, except the volatile records."""
    out = {}
    for path in sorted((workdir / "results").rglob("*")):
        rel = path.relative_to(workdir).as_posix()
        if path.suffix in (".csv", ".png", ".pdf") and not rel.startswith(VOLATILE):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory, mirror):
    """A smoke run killed while the GMM SOM trains, then unlocked and resumed; returns its record."""
    workdir = copy_smoke_config(tmp_path_factory.mktemp("interrupted"))
    cmd, env = snakemake_command(workdir, *TARGETS)
    with open(workdir.parent / "interrupted_first.log", "w") as first_log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=first_log, stderr=subprocess.STDOUT, start_new_session=True)
        killed_during, t0 = None, time.monotonic()
        try:
            while time.monotonic() - t0 < 900 and proc.poll() is None:
                if (workdir / KILL_LOG).exists():
                    running = [p for p in _descendants(proc.pid) if KILL_DURING in _cmdline(p) and KILL_DIR in _cmdline(p)]
                    if running:
                        killed_during = _cmdline(running[0])
                        output_before_kill = (workdir / KILL_OUTPUT).exists()
                        break
                time.sleep(0.02)
        finally:
            _kill_tree(proc)
    first = (workdir.parent / "interrupted_first.log").read_text()
    assert killed_during, f"the run never reached {KILL_DURING}:\n{first[-3000:]}"
    output_after_kill = (workdir / KILL_OUTPUT).exists()
    unlock = snakemake(workdir, "--unlock", timeout=300)
    resumed = snakemake(workdir, *TARGETS, timeout=1500)
    return {
        "workdir": workdir,
        "killed_during": killed_during,
        "output_before_kill": output_before_kill,
        "output_after_kill": output_after_kill,
        "unlock": unlock.stdout,
        "resumed": resumed.stdout,
    }


def test_kill_during_training_leaves_no_output_and_the_rerun_completes(interrupted_run, smoke_run):
    run = interrupted_run
    assert KILL_DURING in run["killed_during"] and KILL_DIR in run["killed_during"], run["killed_during"]
    # the killed job had not finished, and its atomic writer left no partial file behind
    assert not run["output_before_kill"] and not run["output_after_kill"]
    assert not list((run["workdir"] / "results" / "gmm" / "seed0").glob(".som.npz.*")), "a temporary file was left behind"
    # the rerun redid the killed job and finished every job of the pipeline
    stats = job_stats(run["resumed"])
    assert stats.get("gmm_som") == 1, run["resumed"][-3000:]
    assert "steps (100%) done" in run["resumed"], run["resumed"][-3000:]
    assert "Nothing to be done" in snakemake(run["workdir"], *TARGETS, "-n").stdout
    reference, _ = smoke_run
    tables = sorted(p.relative_to(run["workdir"]).as_posix() for p in (run["workdir"] / "results" / "tables").glob("*.csv"))
    assert {"results/tables/table1_gmm_metrics.csv", "results/tables/table2_mnist_pairs.csv", "results/tables/table5_kmeans_vs_som.csv"} <= set(tables), tables
    for rel in tables:
        assert (run["workdir"] / rel).read_bytes() == (reference / rel).read_bytes(), f"{rel} differs after the resume"


def test_two_smoke_runs_give_byte_identical_csv_and_png(interrupted_run, smoke_run):
    reference, _ = smoke_run
    a, b = _tree_digest(reference), _tree_digest(interrupted_run["workdir"])
    assert set(b) <= set(a), f"files only the second run made: {sorted(set(b) - set(a))}"
    assert {k.split("/")[1] for k in b} >= {"gmm", "mnist", "kmeans", "figures", "tables"}, sorted(b)
    a = {k: a[k] for k in b}  # the files of the experiments the second run made
    csv_diff = [k for k in a if k.endswith(".csv") and a[k] != b[k]]
    png_diff = [k for k in a if k.endswith(".png") and a[k] != b[k]]
    assert not csv_diff, f"CSV files differ between two runs: {csv_diff}"
    assert not png_diff, f"PNG files differ between two runs: {png_diff}"
    assert sum(k.endswith(".png") for k in a) >= 5 and sum(k.endswith(".csv") for k in a) >= 5

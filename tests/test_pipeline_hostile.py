"""What a hostile user does to the pipeline, and what it must answer.

- a damaged intermediate file (truncated, or a text file in its place): one error naming the file and the fix,
  not a ``BadZipFile`` traceback or numpy's advice to enable ``allow_pickle``;
- two writers of one output: the atomic write of one never removes the other's temporary file;
- two runs started in the same instant in one folder: the workflow's own flock lets one through;
- config values that pass the schema and fail a later job: an odd-row hexagonal torus, a neighbourhood that
  grows from the default ``sigma_start``, ``mnist.dim: full`` on a small map, more PCA components than samples,
  more sweep starts than test images;
- ``snakemake --config 'seeds=[0, 1]'`` (Snakemake passes the items as strings) is accepted.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SCHEMA, SCHEMA_PATH, SMOKE, copy_smoke_config, job_stats, snakemake, snakemake_command

from musicsom.pipeline import config_check, files, run_lock



# ---------------------------------------------------------------- 1. damaged intermediate files
def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "text":
        path.write_text("not what the pipeline wrote\n")
    elif how == "empty":
        path.write_bytes(b"")


def _assert_names_file_and_fix(message: str, path: Path, kind: str) -> None:
    assert str(path) in message, message
    assert f"truncated or not {kind} written by the pipeline" in message, message
    assert f"rm {path}" in message and "snakemake --cores" in message, message
    assert "allow_pickle" not in message and "BadZipFile" not in message, message


@pytest.mark.parametrize("how", ["truncated", "text", "empty"])
def test_a_damaged_npz_names_the_file_and_the_fix(tmp_path, how):
    path = tmp_path / "som.npz"
    files.save_npz(path, prototypes=np.random.default_rng(0).standard_normal((300, 4)), grid_shape=np.array([20, 15]))
    _damage(path, how)
    with pytest.raises(files.InputError) as err:
        files.load_npz(path, required=("prototypes",))
    _assert_names_file_and_fix(str(err.value), path, "an .npz")


@pytest.mark.parametrize("how", ["truncated", "text"])
def test_a_damaged_json_or_checkpoint_names_the_file_and_the_fix(tmp_path, how):
    path = tmp_path / "summary.json"
    files.save_json(path, {"claims": [1, 2, 3], "seed": 0})
    if how == "truncated":
        path.write_text(path.read_text()[:10])
    else:
        path.write_bytes(b"\xff\xfe binary")
    with pytest.raises(files.InputError) as err:
        files.load_json(path)
    _assert_names_file_and_fix(str(err.value), path, "a JSON file")

    torch = pytest.importorskip("torch")
    ck = tmp_path / "model.pt"
    torch.save({"config": {}, "state_dict": {"w": torch.zeros(50, 50)}}, ck)
    _damage(ck, how)
    with pytest.raises(files.InputError) as err:
        files.load_model(ck, dict)
    _assert_names_file_and_fix(str(err.value), ck, "a torch checkpoint")


@pytest.mark.parametrize("how", ["binary", "empty", "cut_in_a_quote"])
def test_a_damaged_csv_names_the_file_and_the_fix(tmp_path, how):
    import pandas as pd

    path = tmp_path / "per_trajectory.csv"
    files.save_csv(path, pd.DataFrame({"seed": [0, 0], "regime": ["informed", "cluster"], "continuity": [0.9, 0.5]}))
    if how == "binary":
        path.write_bytes(b"PK\x03\x04\x00\xff\xfe\x00 not a table")
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_text('seed,regime,continuity\n0,"informed')
    with pytest.raises(files.InputError) as err:
        files.load_csv(path)
    _assert_names_file_and_fix(str(err.value), path, "a CSV file")
    with pytest.raises(files.InputError, match="does not exist; run the rule"):
        files.load_csv(tmp_path / "missing.csv")


def test_a_stage_given_a_truncated_npz_prints_one_error_line(tmp_path):
    """The stage's run_main prints the loader's message as its one `error:` line, exit status 1, no traceback."""
    data = tmp_path / "results" / "gmm" / "seed0" / "data.npz"
    files.save_npz(data, x_train=np.random.default_rng(0).standard_normal((200, 3)))
    _damage(data, "truncated")
    som = {"rows": 4, "cols": 4, "topology": "rectangular", "epochs": 2, "sigma_start": None, "sigma_end": 1.0, "init": "pca"}
    proc = subprocess.run(
        [sys.executable, "-m", "musicsom.pipeline.train_som", "--data", "results/gmm/seed0/data.npz", "--som", json.dumps(som),
         "--seed", "0", "--out", "results/gmm/seed0/som.npz"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: results/gmm/seed0/data.npz"), proc.stderr
    _assert_names_file_and_fix(last, Path("results/gmm/seed0/data.npz"), "an .npz")
    assert not (tmp_path / "results" / "gmm" / "seed0" / "som.npz").exists()


# ---------------------------------------------------------------- 2. concurrent writers of one output
WRITER = """
import sys
from musicsom.pipeline import files
with files.atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("first writer")
    print("written", flush=True)
    sys.stdin.readline()  # the other writer writes the same output meanwhile
print("renamed", flush=True)
"""


def test_an_atomic_write_keeps_the_temporary_file_of_a_concurrent_writer(tmp_path):
    """A writer that is still running keeps its temporary file while another process writes the same output."""
    out = tmp_path / "table.csv"
    first = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "written", first.stderr.read()
        files.save_json(out, {"second": "writer"})  # any atomic write of the same output
        assert json.loads(out.read_text()) == {"second": "writer"}
        assert len(list(tmp_path.glob(".table.csv.*"))) == 1, "the running writer's temporary file was removed"
        first.stdin.write("\n")
        first.stdin.flush()
        assert first.wait(timeout=60) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
    assert out.read_text() == "first writer"  # the last rename wins, as with any two writers
    assert list(tmp_path.glob(".table.csv.*")) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_an_atomic_write_removes_only_the_temporary_files_of_writers_that_are_gone(tmp_path):
    host = files._host()
    old = time.time() - files.STALE_TEMP_SECONDS - 60
    planted = {
        f".fig.png.{_dead_pid()}@{host}.abc.png": False,  # killed writer on this host: removed
        f".fig.png.{os.getppid()}@{host}.def.png": True,  # a live process on this host: kept
        ".fig.png.12345@another-node.ghi.png": True,  # another host, fresh: cannot tell, kept
        ".fig.png.12346@another-node.jkl.png": False,  # another host, untouched for a day: removed
        ".fig.png.legacy.png": True,  # an older name without its writer, fresh: kept
        ".fig.png.legacy2.png": False,  # ... and untouched for a day: removed
        ".other.png.1@x.a.png": True,  # another output's
    }
    for name in planted:
        (tmp_path / name).write_bytes(b"partial")
    for name in (".fig.png.12346@another-node.jkl.png", ".fig.png.legacy2.png"):
        os.utime(tmp_path / name, (old, old))
    files.save_json(tmp_path / "fig.png", {"a": 1})
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == sorted([n for n, keep in planted.items() if keep] + ["fig.png"])


def test_the_temporary_file_names_its_writer(tmp_path):
    with files.atomic_path(tmp_path / "out.npz") as tmp:
        assert tmp.name.startswith(f".out.npz.{os.getpid()}@{files._host()}.") and tmp.name.endswith(".npz")
        assert files._host() == "".join(c if c.isalnum() or c == "-" else "_" for c in socket.gethostname())
        tmp.write_bytes(b"x")


# ---------------------------------------------------------------- 3. two runs in one folder
def _contender(lock_path, start, hold, results):
    time.sleep(max(0.0, start - time.time()))
    try:
        run_lock.acquire(lock_path)
    except run_lock.RunLocked as exc:
        results.put(("refused", str(exc)))
        return
    results.put(("held", ""))
    hold.wait(30)


def test_the_run_lock_admits_one_of_two_processes_started_in_the_same_instant(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for i in range(24):
        lock = tmp_path / f"run{i}" / ".snakemake" / "musicsom.lock"
        results, hold = ctx.Queue(), ctx.Event()
        start = time.time() + 0.2
        procs = [ctx.Process(target=_contender, args=(lock, start, hold, results)) for _ in range(2)]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=30) for _ in procs)
        hold.set()
        for p in procs:
            p.join(30)
        assert [o[0] for o in outcomes] == ["held", "refused"], (i, outcomes)
        assert "another Snakemake run is running in this folder" in outcomes[1][1]
        assert "--unlock` does not apply" in outcomes[1][1]
    # the lock ends with its process: a third takes it
    assert run_lock.acquire(tmp_path / "run0" / ".snakemake" / "musicsom.lock") is not None
    run_lock.release(tmp_path / "run0" / ".snakemake" / "musicsom.lock")


HOLDER = """
import sys, time
from musicsom.pipeline import run_lock
run_lock.acquire()
print("held", flush=True)
sys.stdin.readline()
"""


def test_snakemake_refuses_a_run_while_another_holds_the_folder(tmp_path):
    """A run that executes jobs is refused while the lock is held, before any job; -n and --unlock are not."""
    workdir = copy_smoke_config(tmp_path / "run")
    target = "results/code/train_som.txt"  # one job run in the Snakemake process itself
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = snakemake(workdir, "--cores", "1", target, check=False, timeout=300)
        assert refused.returncode != 0, refused.stdout[-3000:]
        assert "another Snakemake run is running in this folder" in refused.stdout, refused.stdout[-3000:]
        assert f"PID {holder.pid}" in refused.stdout and "--unlock` does not apply" in refused.stdout
        assert not (workdir / target).exists()
        assert not list((workdir / ".snakemake").glob("locks/*")), "Snakemake's own lock files were left behind"
        dry = snakemake(workdir, "-n", "--cores", "1", target, check=False, timeout=300)
        assert dry.returncode == 0 and job_stats(dry.stdout) == {"code_manifest": 1}, dry.stdout[-3000:]
        assert snakemake(workdir, "--unlock", check=False, timeout=300).returncode == 0
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    done = snakemake(workdir, "--cores", "1", target, timeout=300)
    assert (workdir / target).exists(), done.stdout[-3000:]


def test_two_snakemake_runs_started_together_run_the_job_once(tmp_path):
    """One launch pair of the real Snakefile: one runs the job; the other is refused by a lock (the workflow's,
    or Snakemake's when it looked after the first had taken it), or finds the job done."""
    workdir = copy_smoke_config(tmp_path / "run")
    target = "results/code/train_som.txt"
    procs = []
    for _ in range(2):
        cmd, env = snakemake_command(workdir, target)
        procs.append(subprocess.Popen([*cmd, "--cores", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=300)[0] for p in procs]
    ran = [o for p, o in zip(procs, outs) if p.returncode == 0 and "Finished jobid" in o]
    assert len(ran) >= 1, outs
    for p, out in zip(procs, outs):
        if p.returncode != 0:
            assert "another Snakemake run is running in this folder" in out or "Directory cannot be locked" in out, out[-3000:]
        elif out not in ran:
            assert "Nothing to be done" in out, out[-3000:]
    assert (workdir / target).stat().st_size > 0


# ---------------------------------------------------------------- 4.-7. config checks before any job
def filled(*edits) -> dict:
    """The smoke config with ``(dotted key, value)`` edits, its defaults filled as check_config does."""
    from snakemake.utils import validate

    cfg = copy.deepcopy(SMOKE)
    for key, value in edits:
        *parents, leaf = key.split(".")
        node = cfg
        for k in parents:
            node = node.setdefault(k, {})
        node[leaf] = value
    assert config_check.schema_errors(cfg, SCHEMA) == []
    validate(cfg, str(SCHEMA_PATH))
    return cfg


def problems(*edits) -> str:
    return "\n".join(config_check.cross_key_errors(filled(*edits)))


@pytest.mark.parametrize("section", ["gmm", "mnist", "faces"])
def test_a_hexagonal_torus_with_odd_rows_is_refused_for_every_map(section):
    out = problems((f"{section}.som.topology", "hexagonal_toroidal"), (f"{section}.som.rows", 9), (f"{section}.som.cols", 8))
    assert f"{section}.som.topology = hexagonal_toroidal needs an even number of rows" in out, out
    assert f"{section}.som.rows = 9" in out and "to 10 or 8" in out and "topology: hexagonal" in out, out
    assert problems((f"{section}.som.topology", "hexagonal_toroidal"), (f"{section}.som.rows", 8), (f"{section}.som.cols", 8)) == ""


@pytest.mark.parametrize("section", ["gmm", "mnist", "faces"])
def test_a_neighbourhood_growing_from_the_default_start_is_refused(section):
    # smoke maps: gmm 8x6, mnist 8x8, faces 6x6; the default sigma_start is half the larger side
    side = SMOKE[section]["som"]["rows"]
    out = problems((f"{section}.som.sigma_end", side / 2 + 0.5))
    assert f"{section}.som.sigma_end = {side / 2 + 0.5} is larger than the default sigma_start = {side / 2:g}" in out, out
    assert "grow" in out and f"{section}.som.sigma_start to at least" in out, out
    assert problems((f"{section}.som.sigma_end", side / 2)) == ""
    assert problems((f"{section}.som.sigma_end", side / 2 + 0.5), (f"{section}.som.sigma_start", side / 2 + 1)) == ""


def test_mnist_full_dimension_on_a_small_map_is_refused():
    out = problems(("mnist.n_train", 0), ("mnist.dim", "full"), ("mnist.som.rows", 20), ("mnist.som.cols", 20))
    assert "mnist.som: a 20x20 map has K = 400 prototypes, fewer than D + 1 = 713" in out, out
    assert "mnist.dim: full keeps 712 components" in out, out
    assert problems(("mnist.n_train", 0), ("mnist.dim", "full"), ("mnist.som.rows", 27), ("mnist.som.cols", 27)) == ""


def test_more_pca_components_than_samples_are_refused():
    out = problems(("mnist.n_train", 100), ("mnist.dim", 120), ("mnist.som.rows", 10), ("mnist.som.cols", 10),
                   ("mnist.som.init", "pca"), ("robustness.mnist.dims", [50, 200, "full"]))
    assert "mnist.dim = 120: a PCA of 100 training images (mnist.n_train) has at most 99 components" in out, out
    assert "robustness.mnist.dims = [200]" in out, out
    out = problems(("faces.n_faces", 20), ("faces.pca_components", 19), ("faces.som.init", "pca"), ("faces.som.rows", 4), ("faces.som.cols", 5))
    assert "faces.pca_components = 19: a PCA of 18 training faces" in out and "at most 17" in out, out


def test_more_sweep_starts_than_test_images_are_refused():
    out = problems(("mnist.n_test", 100), ("mnist.table2.n_starts", 2), ("mnist.sweep.n_starts", 8))
    assert "mnist.sweep.n_starts = 8 start images per pair from a slice of 100 test images" in out, out
    assert "mnist.table2" not in out


def test_command_line_lists_and_mappings_get_the_schema_types():
    """Snakemake 9 reads `--config 'seeds=[0, 1]'` as ["0", "1"] (YAML's base loader): they become integers."""
    from snakemake.cli import parse_config

    overrides = parse_config(["seeds=[0, 1]", "gmm={som: {rows: 10, sigma_start: null, sigma_end: 0.5}}",
                              "mnist={dim: full, pairs: [[0, 1]]}", "data={mirror: '123'}"])
    assert overrides["seeds"] == ["0", "1"]  # what Snakemake gives: strings
    cfg = copy.deepcopy(SMOKE)
    from snakemake.utils import update_config

    update_config(cfg, overrides)
    config_check.type_command_line_values(cfg, overrides, SCHEMA)
    assert cfg["seeds"] == [0, 1]
    assert cfg["gmm"]["som"] == {"rows": 10, "cols": 6, "epochs": 8, "sigma_start": None, "sigma_end": 0.5}
    assert cfg["mnist"]["dim"] == "full" and cfg["mnist"]["pairs"] == [[0, 1]]
    assert cfg["data"]["mirror"] == "123"  # a string where the schema wants one stays a string
    assert config_check.schema_errors(cfg, SCHEMA) == []
    bad = {"seeds": ["0", "one"]}
    cfg = dict(copy.deepcopy(SMOKE), seeds=["0", "one"])
    config_check.type_command_line_values(cfg, bad, SCHEMA)
    assert cfg["seeds"] == [0, "one"]  # left for the schema check to name


def test_snakemake_accepts_seeds_as_a_list_on_the_command_line(tmp_path):
    workdir = copy_smoke_config(tmp_path / "run")
    out = snakemake(workdir, "-n", "--config", "seeds=[0, 1]", "gmm={som: {topology: hexagonal_toroidal, rows: 8}}",
                    timeout=600).stdout
    assert job_stats(out)["gmm_som"] == 2, out[-3000:]
    refused = snakemake(workdir, "-n", "--config", "gmm={som: {topology: hexagonal_toroidal, rows: 7}}", check=False, timeout=600)
    assert refused.returncode != 0
    assert "gmm.som.topology = hexagonal_toroidal needs an even number of rows" in refused.stdout, refused.stdout[-3000:]
    assert not (workdir / "results").exists()


def test_the_report_skips_the_benchmark_of_a_job_still_running(tmp_path):
    """Snakemake writes a job's benchmark TSV when the job ends: the report, running beside other jobs, must
    skip an empty or partial one instead of failing (seen: a 0-byte html_claims.tsv stopped report_markdown)."""
    from musicsom.pipeline.report.markdown import read_benchmark_jobs

    done = tmp_path / "gmm" / "som_seed0.tsv"
    done.parent.mkdir(parents=True)
    done.write_text("s\th:m:s\tmax_rss\tcpu_time\n1.5\t0:00:01\t120.0\t1.4\n")
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "html_claims.tsv").write_bytes(b"")
    (tmp_path / "report" / "html_table.tsv").write_text('s\th:m:s\n"1.')
    jobs = read_benchmark_jobs(tmp_path)
    assert list(jobs["job"]) == ["gmm/som_seed0"] and float(jobs["s"].iloc[0]) == 1.5

"""The workflow on a real SLURM scheduler: a one-node cluster on this machine (docs/CLUSTER.md,
"Try SLURM on a laptop").

The cluster is Debian's slurm-wlm and munge, everything under the test's temporary folder: a munge
key and munged on a socket of their own, slurmctld and slurmd started with -D from
tests/cluster/slurm/slurm.conf filled in with this machine's host name, CPUs and memory (as
``slurmd -C`` reports them) and two free ports; no cgroups, no slurmdbd. Without the packages, or
when the cluster does not come up (e.g. not allowed to start daemons), the tests skip and say why.

The GMM part of the smoke config (``gmm_all``: synthesise, standardise, SOM, the inversion and noise
figures, trajectories, figure 6, table 1, the claims) runs twice from one frozen copy of the
repository, at the same time: through the SLURM executor plugin with the project's profile
(profiles/slurm; an overlay fills in its account and partition placeholders and sets what a cluster
without accounting needs, see ``overlay_profile``), and locally with ``--cores 2``. The tests check:

- every job rule went through sbatch, one SLURM job per job (the figures group as one), each ran
  to COMPLETED with the cpus, memory and time limit its rule declares in workflow/resources.yaml,
  as SLURM itself recorded them (its job completion file, jobcomp/filetxt), and each left its
  SLURM log under results/logs/slurm; the local rules (code manifests, gmm_all) did not;
- every output under results/ equals the local run's byte for byte, but for the records of time,
  host and job (``VOLATILE``).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import BIN, ROOT, copy_repository, copy_smoke_config, job_stats, snakemake
from test_cluster import filled_config, localrules

from musicsom.pipeline import resource_table

pytestmark = pytest.mark.slow

INSTALL = "apt-get install -y -q slurm-wlm munge"
COMMANDS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "srun", "scancel")
TEMPLATE = ROOT / "tests" / "cluster" / "slurm" / "slurm.conf"
TARGET = "gmm_all"
RESOURCES = yaml.safe_load((ROOT / "workflow" / "resources.yaml").read_text())
# Records of time, host and job, which legitimately differ between two runs (the rest must not):
VOLATILE = (
    "results/logs/",  # rule logs (times, host names) and SLURM's own logs (results/logs/slurm: job ids, nodes)
    "results/benchmarks/",  # wall time, memory and I/O of each job
)
# default resources of the overlay profile, unlike the table's minimum (1000 MB, 10 min, which every
# GMM rule of the smoke config gets and which profiles/slurm also uses as its default): a job
# submitted with these would be one whose rule lost its declared resources
OVERLAY_DEFAULTS = {"mem_mb": 700, "runtime": 7}
# SLURM's Tres field of a job in the completion file: cpu=1,mem=1000M,node=1,billing=1
TRES = re.compile(r"cpu=(\d+),mem=(\d+)([MG])")
SUBMITTED = re.compile(r"^Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (.*)\)\.$", re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hardware() -> tuple[str, int, int]:
    """(host name, CPUs, memory in MB) of this machine as slurmd sees it (``slurmd -C``)."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30).stdout
    cpus = re.search(r"\bCPUs=(\d+)", out)
    mem = re.search(r"\bRealMemory=(\d+)", out)
    if not (cpus and mem):
        pytest.skip(f"slurmd -C did not describe this machine: {out!r}")
    return socket.gethostname().split(".")[0], int(cpus.group(1)), int(mem.group(1))


def _stop(proc: subprocess.Popen, name: str) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # slurmctld ignores SIGTERM while it retries reading its conf
            proc.kill()
            proc.wait(timeout=15)


class Cluster:
    """A one-node SLURM cluster under ``root``; ``env`` runs its client commands."""

    def __init__(self, root: Path):
        self.root = root
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.conf = root / "slurm.conf"
        self.bin = root / "bin"
        self.jobcomp = root / "jobcomp.txt"
        node, cpus, memory = _hardware()
        if cpus < 2:  # the figures group job asks for 2 CPUs (two of its jobs at once, profiles/default cores: 2)
            pytest.skip(f"the one-node SLURM cluster needs 2 CPUs, this machine has {cpus}")
        self.node, self.cpus, self.memory = node, cpus, memory
        for d in ("state", "spool", "log", "munge", "bin"):
            (root / d).mkdir(parents=True, exist_ok=True)
        # munged wants every folder above its socket open to all (o+x: any user's client must reach it),
        # which pytest's temporary folders (0700) are not, and a socket's path has at most 107 bytes:
        # the socket alone goes in a short folder of its own in /tmp (removed by stop())
        self.socket_dir = Path(tempfile.mkdtemp(prefix="musicsom-munge-"))
        self.socket_dir.chmod(0o711)
        self.munge_socket = self.socket_dir / "munge.socket"
        values = {
            "DIR": str(root), "NODE": node, "CPUS": str(cpus), "MEMORY": str(memory), "USER": getpass.getuser(),
            "CTLD_PORT": str(_free_port()), "SLURMD_PORT": str(_free_port()), "MUNGE_SOCKET": str(self.munge_socket),
        }
        text = TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        left = [line for line in text.splitlines() if not line.startswith("#") and re.search(r"@[A-Z_]+@", line)]
        assert not left, f"placeholders of {TEMPLATE} not filled in: {left}"
        self.conf.write_text(text)
        # Inside a job the step launcher (snakemake-executor-plugin-slurm-jobstep) drops every SLURM_*
        # variable but the job's identity before it calls srun, SLURM_CONF included: srun then finds no
        # configuration (it looks in /etc/slurm, then DNS). A real cluster has /etc/slurm/slurm.conf or
        # runs configless; this one lives in a temporary folder, so srun gets it from a wrapper.
        srun = self.bin / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        srun.chmod(0o755)
        self.env = dict(os.environ, SLURM_CONF=str(self.conf), PATH=os.pathsep.join([str(self.bin), str(BIN), os.environ.get("PATH", "")]))

    def _start(self, name: str, *cmd: str) -> None:
        log = open(self.root / "log" / f"{name}.out", "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        log.close()
        self.procs.append((name, proc))

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text()[-1500:] for p in sorted((self.root / "log").glob("*")) if p.is_file())

    def start(self, timeout: float = 60) -> str | None:
        """Start munged, slurmctld and slurmd; None once sinfo shows the node idle, else what went wrong."""
        key = self.root / "munge" / "munge.key"
        subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True, capture_output=True)
        key.chmod(0o600)
        m = self.root / "munge"
        self._start("munged", "munged", "--foreground", f"--socket={self.munge_socket}", f"--key-file={key}",
                    f"--pid-file={m / 'munged.pid'}", f"--log-file={m / 'munged.log'}", f"--seed-file={m / 'munged.seed'}")
        deadline = time.monotonic() + 10
        while not self.munge_socket.exists():
            if self.procs[-1][1].poll() is not None or time.monotonic() > deadline:
                return "munged did not start"
            time.sleep(0.1)
        self._start("slurmctld", "slurmctld", "-D", "-f", str(self.conf))
        self._start("slurmd", "slurmd", "-D", "-f", str(self.conf))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [name for name, p in self.procs if p.poll() is not None]
            if dead:
                return f"{', '.join(dead)} exited"
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env).stdout
            if out.strip() == "idle":
                return None
            time.sleep(0.5)
        return f"the node is not idle after {timeout:.0f} s"

    def stop(self) -> None:
        if any(name == "slurmctld" and p.poll() is None for name, p in self.procs):
            subprocess.run(["scancel", "--user", getpass.getuser()], env=self.env, capture_output=True, timeout=30)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # let slurmd end the cancelled jobs' processes
                out = subprocess.run(["squeue", "-h", "-t", "RUNNING,COMPLETING,PENDING", "-o", "%i"],
                                     capture_output=True, text=True, env=self.env, timeout=30)
                if out.returncode != 0 or not out.stdout.strip():
                    break
                time.sleep(0.5)
        for name, proc in reversed(self.procs):  # slurmd, slurmctld, then munged
            _stop(proc, name)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def completed_jobs(self) -> dict[str, dict[str, str]]:
        """{SLURM job id: its fields} from the job completion file (one line per finished job)."""
        jobs = {}
        for line in self.jobcomp.read_text().splitlines() if self.jobcomp.exists() else []:
            fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            jobs[fields["JobId"]] = fields
        return jobs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = [d for d in COMMANDS if shutil.which(d) is None]
    if missing:
        pytest.skip(f"no SLURM here (missing {', '.join(missing)}): {INSTALL}")
    c = Cluster(tmp_path_factory.mktemp("slurm"))
    try:
        problem = c.start()
        if problem:
            pytest.skip(f"the one-node SLURM cluster did not start ({problem}; needs root and {INSTALL}):\n{c.logs()}")
        yield c
    finally:
        c.stop()


def overlay_profile(dest: Path, repo: Path) -> Path:
    """profiles/slurm of ``repo`` with what this cluster needs: a copy in ``dest``.

    - the placeholders slurm_account and slurm_partition filled in (the partition of the test
      cluster; without slurmdbd SLURM takes any account name, and the plugin cannot check it);
    - ``slurm-status-command: squeue``: without slurmdbd sacct answers nothing ("Slurm accounting
      storage is disabled"); squeue sees a finished job for MinJobAge (an hour in the conf), longer
      than three status intervals, so the plugin does not fall back to sacct;
    - status checks from 4 s after a submission rather than 40 (the plugin then adds 10 s per check
      that finds nothing finished), so that short jobs are seen to end soon;
    - default mem_mb and runtime unlike the table's, so that a job that got its resources from the
      defaults rather than its rule would show (OVERLAY_DEFAULTS).
    """
    profile = yaml.safe_load((repo / "profiles" / "slurm" / "config.yaml").read_text())
    res = profile["default-resources"]
    assert res["slurm_account"].startswith("<") and res["slurm_partition"].startswith("<"), res  # placeholders
    res.update(slurm_account="musicsom", slurm_partition="debug", **OVERLAY_DEFAULTS)
    profile["slurm-status-command"] = "squeue"
    profile["slurm-init-seconds-before-status-checks"] = 4
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return dest


def run_files(workdir: Path) -> dict[str, bytes]:
    root = workdir / "results"
    return {
        p.relative_to(workdir).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(workdir).as_posix().startswith(VOLATILE)
    }


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """The GMM part of the smoke config through SLURM and locally, at the same time, from one copy of
    the repository (other work on the checkout during the run cannot make the two differ). The GMM
    part reads no data: no mirror needed."""
    base = tmp_path_factory.mktemp("slurm_runs")
    repo = copy_repository(base / "repo")
    env = {"PYTHONPATH": str(repo / "src"), "SLURM_CONF": cluster.env["SLURM_CONF"], "PATH": cluster.env["PATH"]}
    slurm_dir = copy_smoke_config(base / "slurm")
    local_dir = copy_smoke_config(base / "local")
    profile = overlay_profile(base / "profile", repo)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        local = pool.submit(snakemake, local_dir, TARGET, snakefile=repo / "Snakefile", env={"PYTHONPATH": str(repo / "src")}, timeout=600)
        slurm = snakemake(slurm_dir, TARGET, "--profile", str(profile), snakefile=repo / "Snakefile", env=env, timeout=600, check=False)
        local_out = local.result().stdout
    seconds = time.monotonic() - start
    assert slurm.returncode == 0, f"the SLURM run failed:\n{slurm.stdout[-8000:]}\n{cluster.logs()}"
    # the comment sbatch gave each job (rule_<rule>[_wildcards_...]), while slurmctld still holds the jobs
    queue = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%k"], capture_output=True, text=True, env=cluster.env, check=True).stdout
    comments = dict(line.split("|", 1) for line in queue.splitlines() if "|" in line)
    return {
        "slurm_dir": slurm_dir, "local_dir": local_dir, "slurm_out": slurm.stdout, "local_out": local_out,
        "completed": cluster.completed_jobs(), "comments": comments, "seconds": seconds,
    }


def _comment_rule(comment: str) -> str:
    """The rule of a job from its SLURM comment: rule_gmm_som_wildcards_0 -> gmm_som."""
    return comment.removeprefix("rule_").split("_wildcards_")[0]


def _submitted_jobs(out: str) -> tuple[list[str], int]:
    """(rules Snakemake ran as jobs of their own, not local; number of group jobs) from its output."""
    rules, groups = [], 0
    for line in out.splitlines():
        if re.match(r"^(\[.*\] )?Group job \w+", line):
            groups += 1
        elif m := re.match(r"^rule (\w+):$", line):  # a group's members are indented: not counted here
            rules.append(m.group(1))
    return rules, groups


def test_every_job_went_through_sbatch_with_the_resources_its_rule_declares(runs):
    out = runs["slurm_out"]
    assert "steps (100%) done" in out, out[-3000:]
    run_id = re.search(r"^SLURM run ID: (\S+)$", out, re.M).group(1)
    stats = job_stats(out)
    local = localrules()
    submitted = SUBMITTED.findall(out)
    completed = {jid: f for jid, f in runs["completed"].items() if f.get("Name") == run_id}
    sizes = resource_table.job_sizes(filled_config(runs["slurm_dir"] / "config.yaml"))

    # one SLURM job per job Snakemake ran but for the local rules, the group's members as one
    plain, groups = _submitted_jobs(out)
    assert groups == 1, "the figure jobs (group: figures) should go as one SLURM job"
    in_group = sum(stats.values()) - sum(n for r, n in stats.items() if r in local) - len(plain)
    assert in_group >= 2 and not set(plain) & local, (plain, stats)
    assert len(submitted) == len(plain) + groups == len(completed), (submitted, sorted(completed))
    assert {jid for _, jid, _ in submitted} == set(completed)
    # every job rule of the GMM part, and nothing else, went to SLURM
    gmm_rules = {r for r in stats if r not in local}
    assert gmm_rules == {r for r in RESOURCES["rules"] if r.startswith("gmm_")}, gmm_rules

    for _, jid, log in submitted:
        job = completed[jid]
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", job
        assert Path(job["WorkDir"]) == runs["slurm_dir"], job
        assert job["Partition"] == "debug", job
        assert Path(log).is_file() and Path(log).is_relative_to(runs["slurm_dir"] / "results" / "logs" / "slurm"), log
        cpus, mem, unit = TRES.search(job["Tres"]).groups()
        cpus, mem, minutes = int(cpus), int(mem) * (1024 if unit == "G" else 1), int(job["TimeLimit"])
        comment = runs["comments"].get(jid, "")
        assert comment.startswith("rule_"), (jid, comment)  # what sbatch --comment said: rule_<rule or group>[_wildcards_...]
        if "/group_" not in log:
            rule = _comment_rule(comment)
            want = resource_table.rule_resources(RESOURCES, rule, sizes)
            assert (cpus, mem, minutes) == (want["threads"], want["mem_mb"], want["runtime"]), (rule, job["Tres"], minutes)
            assert f"/rule_{rule}/" in log, (rule, log)
        else:  # the group job: Snakemake sums what runs at once and the time of its layers
            assert "/group_figures" in log, (comment, log)
            members = [resource_table.rule_resources(RESOURCES, r, sizes) for r in gmm_rules - set(plain)]
            assert len(members) == in_group, (gmm_rules, plain)
            assert max(w["threads"] for w in members) <= cpus <= sum(w["threads"] for w in members), job["Tres"]
            assert max(w["mem_mb"] for w in members) <= mem <= sum(w["mem_mb"] for w in members), job["Tres"]
            assert max(w["runtime"] for w in members) <= minutes <= sum(w["runtime"] for w in members), minutes
        assert (mem, minutes) != (OVERLAY_DEFAULTS["mem_mb"], OVERLAY_DEFAULTS["runtime"]), job
    rules_seen = sorted(_comment_rule(runs["comments"][jid]) for _, jid, log in submitted if "/group_" not in log)
    assert rules_seen == sorted(plain), (rules_seen, plain)
    # the local jobs ran in the Snakemake process, not through sbatch
    assert stats["code_manifest"] >= 1 and out.count("localrule code_manifest:") == stats["code_manifest"]


def test_slurm_outputs_equal_a_local_run_byte_for_byte(runs):
    assert "steps (100%) done" in runs["local_out"], runs["local_out"][-3000:]
    slurm, local = run_files(runs["slurm_dir"]), run_files(runs["local_dir"])
    assert set(slurm) == set(local), sorted(set(slurm) ^ set(local))
    assert {"results/gmm/checks.json", "results/tables/table1_gmm_metrics.csv", "results/figures/fig06_gmm_trajectories.png",
            "results/gmm/seed0/som.npz"} <= set(slurm)
    differ = [name for name in slurm if slurm[name] != local[name]]
    assert not differ, f"outputs of the SLURM run unlike the local run's: {differ}"
    # the volatile records exist in both (they are left out of the comparison, not missing)
    for d in (runs["slurm_dir"], runs["local_dir"]):
        assert (d / "results" / "benchmarks" / "gmm" / "som_seed0.tsv").is_file()
    assert any((runs["slurm_dir"] / "results" / "logs" / "slurm").rglob("*.log"))
    print(f"SLURM and local runs together: {runs['seconds']:.0f} s")

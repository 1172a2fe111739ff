"""The workflow on a cluster, tested without one (docs/CLUSTER.md).

- the resources table (workflow/resources.yaml) is well formed and scales as documented;
- a SLURM dry run of the full config lists every job with mem_mb, runtime and cpus_per_task, each the
  value the table gives for its rule (the SLURM executor plugin of the test extra);
- the cluster-generic executor runs the GMM part of the smoke config through job scripts submitted
  to a stand-in for sbatch (tests/cluster/submit.py), which records what each job asked for;
- the profile and the conda file parse, and the conda pins agree with pyproject.toml and constraints.txt;
- the torch device setting: ``auto`` falls back to the CPU, ``cuda`` without a GPU names the fix.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_smoke_config, job_stats, snakemake

from musicsom.pipeline import resource_table

RESOURCES = yaml.safe_load((ROOT / "workflow" / "resources.yaml").read_text())
JOB = re.compile(r"^\s*(local)?rule (\w+):$")
RES = re.compile(r"^\s*resources: (.*)$")
# rules that run in the Snakemake process itself (no job script, no resources needed)
LOCAL_BOOKKEEPING = {"code_manifest", "run_config"}


def localrules() -> set[str]:
    """The rules named in the localrules: blocks of the Snakefile and the rule files."""
    names = set()
    for f in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        for block in re.findall(r"^localrules:\n((?:[ \t]+.*\n)+)", f.read_text(), flags=re.MULTILINE):
            names |= {m for m in re.findall(r"^\s+(\w+),", block, flags=re.MULTILINE)}
    return names


def filled_config(path: Path) -> dict:
    from snakemake.utils import validate

    cfg = yaml.safe_load(path.read_text())
    validate(cfg, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    return cfg


def dry_run_jobs(output: str) -> list[tuple[str, bool, dict]]:
    """(rule, is local, resources) of every job block of a dry run's output."""
    jobs, current = [], None
    for line in output.splitlines():
        if m := JOB.match(line):
            current = [m.group(2), bool(m.group(1)), {}]
            jobs.append(current)
        elif current is not None and (m := RES.match(line)):
            current[2] = dict(kv.split("=", 1) for kv in m.group(1).split(", ") if "=" in kv)
    return [tuple(j) for j in jobs]


def test_resources_table_is_well_formed():
    assert resource_table.check_table(RESOURCES) == []


def test_resources_scale_with_the_config_and_the_attempt():
    table = {
        "headroom": {"mem": 1.5, "runtime": 2.0},
        "minimum": {"mem_mb": 100, "runtime": 1, "mem_step_mb": 100},
        "base": {"mem_mb": 200, "seconds": 0},
        "reference_sizes": {"n": 10.0},
        "rules": {"r": {"threads": 2, "mem_mb": 1000, "seconds": 600, "size": "n"}, "flat": {"threads": 1, "mem_mb": 300, "seconds": 30}},
    }
    assert resource_table.rule_resources(table, "r", {"n": 10.0}) == {"threads": 2, "mem_mb": 1500, "runtime": 20}
    # twice the size: the part above the base doubles (200 + 2 * 800 = 1800 MB, * 1.5)
    assert resource_table.rule_resources(table, "r", {"n": 20.0}) == {"threads": 2, "mem_mb": 2700, "runtime": 40}
    # a tiny run keeps the base, and the minimum holds
    assert resource_table.rule_resources(table, "r", {"n": 0.0}) == {"threads": 2, "mem_mb": 300, "runtime": 1}
    # a retry asks for more
    assert resource_table.rule_resources(table, "r", {"n": 10.0}, attempt=2) == {"threads": 2, "mem_mb": 3000, "runtime": 40}
    assert resource_table.rule_resources(table, "flat", {"n": 99.0}) == {"threads": 1, "mem_mb": 500, "runtime": 1}
    with pytest.raises(KeyError, match="no entry in workflow/resources.yaml"):
        resource_table.rule_resources(table, "missing")
    bad = dict(table, rules={"r": {"threads": 0, "mem_mb": 1, "seconds": 1, "size": "nope", "typo": 1}})
    problems = " ".join(resource_table.check_table(bad))
    assert "threads must be a positive number" in problems and "'nope'" in problems and "typo" in problems


def test_job_sizes_read_every_config():
    for cfg in ("config.yaml", "tests/smoke/config.yaml"):
        sizes = resource_table.job_sizes(filled_config(ROOT / cfg))
        assert set(sizes) == set(RESOURCES["reference_sizes"]) and all(v > 0 for v in sizes.values())
    # the default's full-dimensional MNIST (mnist.dim: full) counts 784 dimensions, the D = 50 variant 50
    base = filled_config(ROOT / "config.yaml")
    d50 = dict(base, mnist=dict(base["mnist"], dim=50))
    assert resource_table.job_sizes(base)["mnist_som"] == resource_table.job_sizes(d50)["mnist_som"] * 784 / 50


def test_slurm_dry_run_of_the_full_config_gives_every_job_its_resources(tmp_path):
    """`snakemake --executor slurm -n` on config.yaml: every job carries the table's mem_mb, runtime and threads."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[test]' (the SLURM executor plugin)")
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    out = snakemake(tmp_path, "-n", "--executor", "slurm", "--jobs", "50", "--profile", str(ROOT / "profiles" / "slurm")).stdout
    jobs = dry_run_jobs(out)
    stats = job_stats(out)
    assert len(jobs) == sum(stats.values()) > 200, out[-3000:]
    local_rules = localrules()
    sizes = resource_table.job_sizes(filled_config(tmp_path / "config.yaml"))
    seen = set()
    for rule, _, res in jobs:  # a dry run does not mark local jobs: localrules() says which
        if rule in LOCAL_BOOKKEEPING | {"all"}:
            assert rule in local_rules, rule
            continue
        # the table pages (report_html_<table>, one plain rule each) share one entry
        key = "report_html_table" if rule.startswith("report_html_") else rule
        assert key in RESOURCES["rules"], f"rule {rule} has no entry in workflow/resources.yaml"
        want = resource_table.rule_resources(RESOURCES, key, sizes)
        assert res.get("mem_mb") == str(want["mem_mb"]), (rule, res)
        assert res.get("runtime") == str(want["runtime"]), (rule, res)
        assert res.get("cpus_per_task") == str(want["threads"]), (rule, res)
        assert res.get("slurm_partition") and res.get("slurm_account"), (rule, res)  # the profile's placeholders
        # downloads stay on the submit host (compute nodes often have no network)
        assert (rule in local_rules) == rule.startswith("data_fetch"), rule
        seen.add(key)
    assert seen == set(RESOURCES["rules"]), f"table entries no job uses: {sorted(set(RESOURCES['rules']) - seen)}"
    assert "Group job figures" in out  # the small figure jobs go together


@pytest.mark.slow
def test_cluster_generic_runs_job_scripts_with_their_resources(tmp_path, mirror):
    """The GMM part of the smoke config through --executor cluster-generic and a stand-in for sbatch."""
    pytest.importorskip("snakemake_executor_plugin_cluster_generic", reason="pip install -e '.[test]'")
    workdir = copy_smoke_config(tmp_path / "run")
    ledger, logs = tmp_path / "ledger.tsv", tmp_path / "cluster_logs"
    submit = (
        f"{sys.executable} {ROOT / 'tests' / 'cluster' / 'submit.py'} --ledger {ledger} --log-dir {logs}"
        " --rule {rule} --jobid {jobid} --threads {threads} --mem-mb {resources.mem_mb} --runtime {resources.runtime}"
    )
    out = snakemake(
        workdir, "gmm_all", "--executor", "cluster-generic", "--cluster-generic-submit-cmd", submit,
        "--jobs", "2", "--latency-wait", "30", "--group-components", "figures=8", timeout=1500,
    ).stdout
    assert "steps (100%) done" in out, out[-3000:]
    rows = [line.split("\t") for line in ledger.read_text().splitlines()]
    submitted = {r[0] for r in rows}
    # every GMM job rule went through a job script (the figure jobs as one group job)
    expected = {r for r in RESOURCES["rules"] if r.startswith("gmm_")} - {"gmm_fig06", "gmm_table1", "gmm_claims"}
    assert expected <= submitted, submitted
    assert "GROUP" in submitted, submitted  # gmm_fig06, gmm_table1 and gmm_claims as one group job
    sizes = resource_table.job_sizes(filled_config(workdir / "config.yaml"))
    for rule, _jobid, threads, mem_mb, runtime, script, log in rows:
        assert Path(script).read_text().startswith("#!"), script
        if rule in RESOURCES["rules"]:
            want = resource_table.rule_resources(RESOURCES, rule, sizes)
            assert (int(threads), int(mem_mb), int(runtime)) == (want["threads"], want["mem_mb"], want["runtime"]), rule
        assert Path(log).exists(), log
    # each job wrote its rule log and benchmark where the rule says
    for name in ("som_seed0", "synthesise_seed0", "claims"):
        assert (workdir / "results" / "logs" / "gmm" / f"{name}.log").exists(), name
        assert (workdir / "results" / "benchmarks" / "gmm" / f"{name}.tsv").exists(), name
    assert (workdir / "results" / "tables" / "table1_gmm_metrics.csv").stat().st_size > 0


def test_slurm_profile_parses_and_names_its_placeholders():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["retries"] >= 1 and profile["latency-wait"] >= 10 and profile["jobs"] >= 1
    res = profile["default-resources"]
    assert {"mem_mb", "runtime", "slurm_account", "slurm_partition"} <= set(res)
    assert "figures=" in " ".join(profile["group-components"])


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_conda_file_parses_and_agrees_with_pyproject_and_constraints():
    import tomllib

    env = yaml.safe_load((ROOT / "envs" / "musicsom.yaml").read_text())
    assert "conda-forge" in env["channels"]
    deps = env["dependencies"]
    conda = {}
    for d in deps:
        if isinstance(d, str):
            name, _, version = d.partition("=")
            conda[name.strip().lower()] = version.strip().lstrip("=")
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    # no relative path: Snakemake copies the file into .snakemake/conda/, where '../' points elsewhere
    assert not any(p.startswith(("-e", ".")) or "../" in p for p in pip), pip
    pinned = {**conda, **_pins(pip)}
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["pipeline"]]
    names = [re.match(r"[A-Za-z0-9_.\-]+", w).group(0).lower().replace("_", "-") for w in wanted]
    missing = [n for n in names if n not in pinned]
    assert not missing, f"in pyproject.toml but not in envs/musicsom.yaml: {missing}"
    for name in names:
        assert pinned[name] == constraints[name], f"{name}: envs/musicsom.yaml pins {pinned[name]}, constraints.txt {constraints[name]}"
    assert conda["python"].startswith("3.11")


def test_device_auto_is_the_cpu_without_cuda_and_cuda_names_the_fix(monkeypatch):
    torch = pytest.importorskip("torch")
    from musicsom.experiments.models import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(RuntimeError, match="device: cpu or auto"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="cpu, cuda, auto"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_training_on_device_cpu_gives_the_same_bits_as_before():
    """device=cpu (the default) is the old code path: the same weights as training without the argument."""
    pytest.importorskip("torch")
    import numpy as np

    from musicsom.experiments.models import (
        resolve_device,
        seed_everything,
        train_classifier,
        train_vae,
    )

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 8)), rng.integers(0, 3, 300)
    px = rng.uniform(size=(200, 16))

    def weights(model):
        return b"".join(p.detach().numpy().tobytes() for p in model.parameters())

    seed_everything(0, 1)
    a, _ = train_classifier(x, y, hidden=[16], epochs=2, seed=0)
    seed_everything(0, 1)
    b, _ = train_classifier(x, y, hidden=[16], epochs=2, seed=0, device=resolve_device("cpu"))
    assert weights(a) == weights(b)
    seed_everything(0, 1)
    a, _ = train_vae(px, latent=2, hidden=8, epochs=2, batch_size=32, seed=0)
    seed_everything(0, 1)
    b, _ = train_vae(px, latent=2, hidden=8, epochs=2, batch_size=32, seed=0, device="cpu")
    assert weights(a) == weights(b)


def test_device_setting_is_in_the_schema_with_cpu_as_default():
    from musicsom.pipeline import config_check

    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    node = schema["properties"]["device"]
    assert node["default"] == "cpu" and set(node["enum"]) == {"cpu", "cuda", "auto"}
    cfg = yaml.safe_load((ROOT / "tests" / "smoke" / "config.yaml").read_text())
    assert config_check.schema_errors(cfg, schema) == []
    errors = " ".join(config_check.schema_errors(dict(cfg, device="gpu"), schema))
    assert "device" in errors and "cpu" in errors, errors

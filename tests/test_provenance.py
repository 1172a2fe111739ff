"""Code inputs that cannot go stale, a run folder that can move, and the report's effective config.

Each test works on a copy of the session's smoke run (``smoke_run`` of conftest.py): its
``.snakemake`` records copied, its results hard-linked (stages replace outputs atomically, so a
link is never written through).

- Editing a core module in a copy of the repository reruns exactly the code manifests of the stages
  whose import graph holds it (directly or through other modules); every rule running one of them is
  planned for that reason, every other planned job only because an upstream output will change.
- A finished run folder moved to another directory depth has nothing to do.
- ``--configfile`` reaches the report through the recorded effective config (``--config`` too, for the
  values Snakemake's command line can type: it reads nested values as strings), and the dry run says so
  in a short line (the config's digest, not the config).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_repository, job_stats, snakemake

pytestmark = pytest.mark.slow

# a job of a dry run: "rule name:" and its indented "key: value" lines; jobs of a group job (the figures)
# are printed indented one level deeper
JOB = re.compile(r"^[ \t]*(?:local)?rule (\w+):\n(.*?)(?=^(?![ \t]+\w+: )|\Z)", re.M | re.S)


def copy_run(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copytree(src / ".snakemake", dest / ".snakemake", symlinks=True,
                    ignore=shutil.ignore_patterns("locks", "incomplete", "log"))
    subprocess.run(["cp", "-al", str(src / "results"), str(dest / "results")], check=True)
    shutil.copy2(src / "config.yaml", dest / "config.yaml")
    return dest


def planned(out: str) -> list[dict]:
    """The jobs of a dry run: rule, wildcards, reason."""
    jobs = []
    for m in JOB.finditer(out):
        body = m.group(2)
        reason = re.search(r"^\s+reason: (.*)$", body, re.M)
        wc = re.search(r"^\s+wildcards: (.*)$", body, re.M)
        jobs.append({"rule": m.group(1), "reason": reason.group(1) if reason else "",
                     "wildcards": wc.group(1) if wc else ""})
    return jobs


def rule_stages() -> dict[str, str]:
    """rule -> the stage its code input names (stage_code(...)), from the rule files."""
    out = {}
    rule = re.compile(r"^(?:rule (\w+)|use rule \w+ as (\w+) with):\n(.*?)(?=^(?:rule |use rule |localrules)|\Z)", re.M | re.S)
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for m in rule.finditer(smk.read_text()):
            code = re.search(r'code=stage_code\("([\w.]+)"\)', m.group(3))
            if code:
                out[m.group(1) or m.group(2)] = code.group(1)
    return out


def test_editing_a_core_module_reruns_exactly_the_stages_that_import_it(smoke_run, tmp_path):
    from musicsom.pipeline.import_graph import import_graph

    workdir, _ = smoke_run
    repo = copy_repository(tmp_path / "repo")
    (repo / "src" / "musicsom" / "metrics.py").open("a").write("\n# an edit that changes the file's hash\n")
    run = copy_run(workdir, tmp_path / "run")
    out = snakemake(run, "-n", snakefile=repo / "Snakefile", env={"PYTHONPATH": str(repo / "src")}).stdout
    jobs = planned(out)

    stages = rule_stages()
    importing = {s for s in set(stages.values()) if "musicsom.metrics" in import_graph(f"musicsom.pipeline.{s}")}
    assert {"gmm.trajectories", "mnist.trajectories"} <= importing and "gmm.fig06" not in importing  # the graph is not trivial
    manifests = {j["wildcards"].removeprefix("stage=") for j in jobs if j["rule"] == "code_manifest"}
    assert manifests == importing, f"manifests rerun: {sorted(manifests)}; stages importing metrics: {sorted(importing)}"
    ran = {j["rule"] for j in jobs}
    for rule, stage in stages.items():
        if stage in importing:
            assert rule in ran, f"{rule} runs {stage}, which imports musicsom.metrics, but is not planned"
    for j in jobs:
        stage = stages.get(j["rule"])
        if j["rule"] == "code_manifest" or stage is None:
            continue
        own = f"results/code/{stage}.txt"
        assert (own in j["reason"]) == (stage in importing), f"{j['rule']}: {j['reason']}"
        if stage not in importing:
            assert j["reason"].startswith("Input files updated by another job"), f"{j['rule']}: {j['reason']}"


def test_a_finished_run_moved_to_another_depth_is_not_replanned(smoke_run, tmp_path):
    workdir, _ = smoke_run
    run = copy_run(workdir, tmp_path / "a" / "b" / "c" / "moved")
    out = snakemake(run, "-n").stdout
    assert "Nothing to be done" in out, out[-3000:]


def test_configfile_and_config_overrides_reach_the_report(smoke_run, tmp_path):
    workdir, _ = smoke_run
    run = copy_run(workdir, tmp_path / "run")
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"faces": {"monotone_min": 0.5}}))
    out = snakemake(run, "-n", "--configfile", str(other)).stdout
    rules = set(job_stats(out))
    # the claims and the faces block of the robustness study (its grid carries monotone_min), the report and
    # its HTML pages (the verdicts, the evidence they quote, the study's tables)
    expected = {"run_config", "faces_claims", "robustness_faces", "robustness_collect", "report_markdown", "report_html",
                "report_html_evidence", "report_html_claims", "report_html_table6_inversion_vs_dim", "all"}
    assert rules in (expected, expected | {"report_all"}), out[-3000:]
    # the recorded config changed: its rule names the change by the config's digest, not by 8 kB of JSON
    reasons = [j["reason"] for j in planned(out) if j["rule"] == "run_config"]
    assert len(reasons) == 1 and reasons[0].startswith("Params have changed") and len(reasons[0]) < 300, reasons
    snakemake(run, "report_all", "--configfile", str(other))
    recorded = json.loads((run / "results" / "report" / "config.json").read_text())
    assert recorded["faces"]["monotone_min"] == 0.5
    assert recorded["gmm"]["som"]["sigma_end"] == 1.0  # schema defaults are filled in
    text = (run / "results" / "REPORT.md").read_text()
    assert "share of non-increasing cluster-distance steps − 0.5" in text

"""The Snakemake workflow end to end on the tiny CI config (tests/smoke/config.yaml).

One smoke run (the session fixture ``smoke_run`` of conftest.py) feeds every test here: outputs present and non-trivial, a second
dry run with nothing to do, and the rerun scope after editing one trajectory parameter (last,
because it edits the run's config).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import BIN, ROOT, job_stats, snakemake

pytestmark = pytest.mark.slow

GMM_OUTPUTS = [
    "results/figures/fig01_noise_bound",
    "results/figures/fig02_naive_vs_consistent",
    "results/figures/fig03_radial_tangential",
    "results/figures/fig05_inversion_vs_m",
    "results/figures/fig06_gmm_trajectories",
]


# smoke_run: the session fixture of conftest.py (shared with test_determinism.py)


def test_every_figure_and_table_is_present_and_non_trivial(smoke_run):
    workdir, _ = smoke_run
    for stem in GMM_OUTPUTS:
        assert (workdir / f"{stem}.png").stat().st_size > 10_000, stem
        assert len(pd.read_csv(workdir / f"{stem}.csv")) > 1, stem
    figures = sorted((workdir / "results" / "figures").glob("*.png"))
    assert figures, "no figures were made"
    for png in figures:
        assert re.fullmatch(r"fig\d\d_[a-z0-9_]+\.png", png.name), f"{png.name} breaks the figNN_<slug> naming"
        assert png.with_suffix(".csv").exists(), f"{png.name} has no CSV of its numbers beside it"
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-", f"{png.name} has no vector PDF beside it"
        assert png.stat().st_size > 5_000, f"{png.name} is nearly empty"
    tables = sorted((workdir / "results" / "tables").glob("table*.csv"))
    assert tables, "no tables were made"
    for csv in tables:
        frame = pd.read_csv(csv)
        assert len(frame) > 0 and frame.select_dtypes("number").notna().any().any(), csv.name
        assert csv.with_suffix(".html").exists(), f"{csv.name} has no HTML page for the report beside it"
    for md in (workdir / "results" / "tables").glob("table*.md"):
        assert md.read_text().count("|") > 10, md.name


def test_gmm_numbers_meet_the_issue(smoke_run):
    import json

    workdir, _ = smoke_run
    seeds = yaml.safe_load((workdir / "config.yaml").read_text())["seeds"]
    for seed in seeds:  # claims 1 and 2 are measured on every seed's map
        inv = json.loads((workdir / f"results/gmm/seed{seed}/inversion_summary.json").read_text())
        assert inv["seed"] == seed and inv["max_median_error_full_rank"] <= 1e-10
        assert inv["min_median_error_rank_deficient"] >= 1e-2
        noise = json.loads((workdir / f"results/gmm/seed{seed}/noise_summary.json").read_text())
        assert noise["seed"] == seed and noise["share_within_bound"] == 1.0
    checks = json.loads((workdir / "results/gmm/checks.json").read_text())
    verdicts = {c["verdict"] for c in checks["checks"]}
    assert verdicts <= {"held", "failed", "inconclusive"}
    # claim 2: the bound holds in every case (the consistency check), and the error's exponent of 1/sigma_min is
    # near the bound's 1 (at the smoke's 10 test points its interval may still straddle the ±0.1 margin)
    claim2 = {c["name"]: c for c in checks["checks"] if c["claim"] == 2}
    assert claim2["every case within the bound (consistency)"]["verdict"] == "held"
    slope = claim2["error scales as 1 / sigma_min"]
    assert slope["verdict"] in {"held", "inconclusive"} and abs(slope["value"]) < 0.2, slope
    assert {c["claim"] for c in checks["checks"]} == {1, 2, 3} and all("seed" in c for c in checks["checks"])
    for claim in (1, 2, 3):  # every seed's map carries its own checks of each claim
        assert {c["seed"] for c in checks["checks"] if c["claim"] == claim} == set(seeds), claim


def test_second_dry_run_has_nothing_to_do(smoke_run):
    workdir, _ = smoke_run
    out = snakemake(workdir, "-n").stdout
    assert "Nothing to be done" in out, out[-3000:]


def test_editing_a_trajectory_parameter_reruns_only_what_depends_on_it(smoke_run):
    workdir, _ = smoke_run
    cfg_path = workdir / "config.yaml"
    original = cfg_path.read_text()
    cfg = yaml.safe_load(original)
    cfg["gmm"]["trajectories"]["n_steps"] = 31
    cfg_path.write_text(yaml.safe_dump(cfg))
    try:
        rules = set(job_stats(snakemake(workdir, "-n").stdout))
    finally:
        cfg_path.write_text(original)  # the smoke run is shared by the whole session
    assert {"gmm_trajectories", "gmm_fig06", "gmm_table1", "gmm_claims"} <= rules
    unexpected = {r for r in rules if r.startswith(("gmm_", "mnist_", "faces_", "data_", "kmeans_", "code_"))} - {
        "gmm_trajectories", "gmm_fig06", "gmm_table1", "gmm_claims", "gmm_all",
    }
    assert not unexpected, f"a trajectory parameter should not rerun {sorted(unexpected)}"


def test_lint_passes():
    proc = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_snakefmt_check_passes():
    files = [str(ROOT / "Snakefile"), *map(str, sorted((ROOT / "workflow" / "rules").glob("*.smk")))]
    proc = subprocess.run([str(BIN / "snakefmt"), "--check", *files], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_full_config_builds_its_dag(tmp_path):
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    out = snakemake(tmp_path, "-n", "--quiet", "rules").stdout
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    seeds, jobs = cfg["seeds"], job_stats(out)
    assert len(seeds) >= 5 and jobs.get("gmm_trajectories") == len(seeds), out[-2000:]
    # the study: every block on the first robustness.seeds seeds (the faces: of the face seeds), the D axis on its own
    n_study = min(cfg["robustness"]["seeds"], len(seeds))
    assert jobs.get("robustness_mnist") == jobs.get("robustness_gmm") == n_study
    assert jobs.get("robustness_faces") == min(cfg["robustness"]["seeds"], cfg["faces"]["n_seeds"])
    dims = [d for d in cfg["robustness"]["mnist"]["dims"] if str(d) != str(cfg["mnist"]["dim"])]
    n_dim_seeds = min(cfg["robustness"]["dim_seeds"], len(seeds))
    assert jobs.get("robustness_mnist_som") == jobs.get("robustness_mnist_dim") == len(dims) * n_dim_seeds


def test_every_stage_has_a_cli_help(monkeypatch):
    """Every stage module (one with a main() run under __main__) answers --help.

    Run as ``python -m`` would run it (runpy, ``__main__``), in this one process: a subprocess per
    stage spent most of its time importing the same libraries again.
    """
    import contextlib
    import io
    import runpy
    import warnings

    from musicsom.pipeline.cli import stages as cli_stages

    stages = sorted(cli_stages())
    assert "train_som" in stages and "report.markdown" in stages and "gmm.fig05" in stages
    for name in stages:
        out = io.StringIO()
        monkeypatch.setattr(sys, "argv", [f"musicsom.pipeline.{name}", "--help"])
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_, warnings.catch_warnings():
            # a stage module an earlier test imported is run again as __main__, which is what we want
            warnings.filterwarnings("ignore", "'musicsom.pipeline.", RuntimeWarning)
            runpy.run_module(f"musicsom.pipeline.{name}", run_name="__main__", alter_sys=True)
        assert exit_.value.code in (0, None) and "usage" in out.getvalue(), name


EXPECTED_CLAIMS = list(range(1, 10))


def test_report_has_every_claim_and_cites_its_numbers(smoke_run):
    workdir, _ = smoke_run
    text = (workdir / "results" / "REPORT.md").read_text()
    evidence = pd.read_csv(workdir / "results" / "report" / "evidence.csv")
    for n in EXPECTED_CLAIMS:
        assert re.search(rf"^\| {n} \| .+ \| \*\*(supports|contradicts|mixed|negligible|undetermined|not judged)\*\* \|",
                         text, re.M), f"claim {n} missing"
        assert f"## Claim {n}:" in text
    cited = {f"{v:.4g}" for v in evidence["value"]}
    measured = [line for line in text.splitlines() if line.startswith("- ") and re.search(r"\(seed \d+\): ", line)]
    assert measured, "the report quotes no measured values"
    for line in measured:
        values = re.split(r"\(seed \d+\): ", line, maxsplit=1)[-1]  # the check's name may carry its threshold
        for number in re.findall(r"= (-?[0-9.]+(?:e[-+]?\d+)?)", values):
            assert number in cited, f"{number} in {line!r} is not in evidence.csv"
    assert set(evidence["source"]) and all((workdir / s).exists() for s in set(evidence["source"]))

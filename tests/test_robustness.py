"""The robustness study: its grids, and (on the smoke run) the tidy table's columns and that every grid
point's verdicts follow from its numbers with the report's own rules."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import across_seeds, combine, decide
from musicsom.music import MusicParams
from musicsom.pipeline.check_records import TIDY

MUSIC = MusicParams(alpha=0.5, lam=0.01, kappa=0.1, eta=0.2, per_row_mean=True, preserve_ring=None)
PAPER = {"mnist_dim": "full", "mnist_alpha": 0.999, "faces_alpha": 0.9998}


def test_gmm_grid_crosses_in_full_and_flags_the_default():
    grid = {"energy": {"plain": [0.5, 0.9], "per_row_mean": [0.5]}, "preserve": [None, 1], "eta": [0.05, 0.2],
            "cluster": ["cluster_random", "cluster"]}
    pts = rb.gmm_grid(grid, dataclasses.replace(MUSIC, alpha=0.9, per_row_mean=False))
    assert len(pts) == 3 * 2 * 2 + 1  # the cross, and the all-targets cluster mode at the default
    default = [p for p in pts if p.is_default]
    assert len(default) == 1 and default[0].values == {"energy": "plain", "alpha": 0.9, "preserve": "all", "eta": 0.2,
                                                       "cluster": "cluster_random"}
    assert default[0].music_params(MUSIC).preserve_ring is None  # "all": every other prototype
    ring = next(p for p in pts if p.values["preserve"] == 1)
    assert ring.music_params(MUSIC).preserve_ring == 1 and ring.name.count("preserve=1") == 1
    assert len({p.name for p in pts}) == len(pts)


def test_mnist_grids_put_the_paper_setup_at_full_dimension_only():
    grid = {"energy": {"plain": [0.999], "per_row_mean": [0.5, 0.9]}, "preserve": [None, 1, 2], "eta": [0.05],
            "dims": [400, "full"], "sweep_eta": [0.05]}
    pts = rb.mnist_grid(grid, MUSIC, PAPER)
    assert sum(p.is_default for p in pts) == 1 and not any(p.is_paper for p in pts)
    assert {p.values["preserve"] for p in pts} == {"all", 1, 2}
    dims = rb.dim_grid(grid, MUSIC, PAPER, 50)
    assert dims[0].is_default and dims[0].values["dim"] == 50
    paper = [p for p in dims if p.is_paper]
    assert len(paper) == 1 and paper[0].values == {"dim": "full", "energy": "plain", "alpha": 0.999, "preserve": "all", "eta": 0.2}
    assert paper[0].music_params(MUSIC) == dataclasses.replace(MUSIC, per_row_mean=False, alpha=0.999)
    assert rb.setting_of(paper[0].name, dims) == paper[0]
    sweeps = rb.sweep_grid(grid, MUSIC, PAPER)  # claim 7: each trust radius in both energy forms
    assert sweeps[0].is_default and {(p.values["energy"], p.values["eta"]) for p in sweeps[1:]} == {
        ("per_row_mean", 0.05), ("plain", 0.05)}
    kmeans = rb.kmeans_grid(grid, MUSIC, PAPER)  # claim 9: k-means has no lattice, so no preservation axis
    assert kmeans[0].is_default and all("preserve" not in p.values for p in kmeans)
    assert all(p.music_params(MUSIC).preserve_ring is None for p in kmeans)


def test_faces_grid_slices_through_the_default():
    grid = {"energy": {"plain": [0.9998], "per_row_mean": [0.9, 0.99]}, "preserve": [None, 1], "free_eta": [0.5, 2.0],
            "free_steps": [100, 400]}
    pts = rb.faces_grid(grid, dataclasses.replace(MUSIC, alpha=0.9, eta=0.5), PAPER, {"n_steps": 100})
    default = [p for p in pts if p.is_default]
    assert len(default) == 1 and default[0].values["free_steps"] == 100
    assert any(p.is_paper for p in pts)
    # every point differs from the default along one slice only (energy/alpha, preservation, or free evolution)
    d = default[0].values
    for p in pts:
        changed = {k for k, v in p.values.items() if v != d[k]}
        assert changed <= {"energy", "alpha"} or changed <= {"preserve"} or changed <= {"free_eta", "free_steps"}


def test_summarise_counts_where_a_claim_holds():
    tidy = pd.DataFrame([
        {"claim": 3, "setting": "a", "check": "x", "seed": 0, "verdict": "held"},
        {"claim": 3, "setting": "a", "check": "x", "seed": 1, "verdict": "held"},
        {"claim": 3, "setting": "b", "check": "x", "seed": 0, "verdict": "held"},
        {"claim": 3, "setting": "b", "check": "x", "seed": 1, "verdict": "failed"},
    ])
    verdicts = rb.claim_verdicts(tidy)
    assert {r["setting"]: r["verdict"] for r in verdicts} == {"a": "held", "b": "inconclusive"}
    meta = {"a": {"axes": {"alpha": 0.5}, "is_default": True, "is_paper": False},
            "b": {"axes": {"alpha": 0.9}, "is_default": False, "is_paper": True}}
    s = rb.summarise(verdicts, meta)[3]
    assert s["share_held"] == 0.5 and s["region"] == {"alpha": [0.5]} and s["default"] == "held" and s["paper"] == "inconclusive"


@pytest.mark.slow
def test_the_smoke_study_table_has_its_columns_and_its_verdicts_follow_from_its_numbers(smoke_run):
    workdir, _ = smoke_run
    table = pd.read_csv(workdir / "results" / "robustness" / "checks.csv", keep_default_na=True)
    assert set(TIDY) <= set(table.columns) and {"experiment", "is_default", "is_paper", "energy", "alpha"} <= set(table.columns)
    assert set(table["claim"]) >= {1, 3, 4, 5, 6, 7, 8, 9}
    for r in table.itertuples():
        expected = "failed" if isinstance(r.reason, str) and r.reason else decide(r.op, r.threshold, r.low, r.high)
        assert r.verdict == expected, r
        assert r.held == (r.verdict == "held")
    claims = pd.read_csv(workdir / "results" / "robustness" / "claims.csv")
    for (claim, setting), g in table.groupby(["claim", "setting"]):
        per_check = [across_seeds(h["verdict"]) for _, h in g.groupby("check")]
        assert claims[(claims["claim"] == claim) & (claims["setting"] == setting)]["verdict"].iloc[0] == combine(per_check)
    summary = json.loads((workdir / "results" / "robustness" / "summary.json").read_text())
    for claim in ("3", "4", "5", "6", "7", "8", "9"):
        assert summary[claim]["n_settings"] >= 2 and summary[claim]["default"] is not None
    # the grid's default point is the default run: claim 3's default verdict matches the report's
    report = (workdir / "results" / "REPORT.md").read_text()
    assert f"| 3 | GMM: informed vs cluster regimes | **{summary['3']['default']}** |" in report

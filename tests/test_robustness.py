"""The sensitivity study: its one-axis-at-a-time grids, the outcome of every check at every point (pooled as the
report pools), the sensitivity table (an axis that flips a check says where; one that does not says nothing), the
collect stage end to end on synthetic block files, and (on the smoke run) its outputs."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import Bootstrap, combine_outcomes, pool
from musicsom.music import MusicParams

MUSIC = MusicParams(alpha=0.999, lam=0.01, kappa=0.1, eta=0.2, per_row_mean=False, preserve_ring=None)
BOOT = Bootstrap(resamples=200, seed=0)


def moved(setting: rb.Setting, default: rb.Setting) -> set:
    return {k for k, v in setting.values.items() if not rb.same_value(v, default.values[k])}


def test_every_point_moves_one_axis_and_the_default_is_shared():
    study = {"energy": {"plain": [0.9, 0.999], "per_row_mean": [0.5]}, "preserve": [None, 1, 2], "eta": [0.05, 0.2, 1.0]}
    pts = rb.mnist_grid(study, MUSIC)
    default = pts[0]
    assert default.is_default and default.name == "default"
    assert default.values == {"energy": ("plain", 0.999), "preserve": "all", "eta": 0.2}
    # the default's own values (plain 0.999, all, 0.2) are the default point, not points of their own
    assert [p.name for p in pts[1:]] == ["energy=plain α=0.9", "energy=row-mean α=0.5", "preserve=1-ring", "preserve=2-ring",
                                         "eta=0.05", "eta=1"]
    for p in pts[1:]:
        assert moved(p, default) == {p.axis}, p.name
    ring = next(p for p in pts if p.name == "preserve=1-ring")
    assert ring.music_params(MUSIC) == dataclasses.replace(MUSIC, preserve_ring=1)
    row = next(p for p in pts if p.axis == "energy" and p.value[0] == "per_row_mean")
    assert row.music_params(MUSIC) == dataclasses.replace(MUSIC, per_row_mean=True, alpha=0.5)
    assert rb.Setting.from_dict(json.loads(json.dumps(row.as_dict()))) == row


def test_claim_1_moves_only_d_and_each_experiment_only_its_own_axes():
    dims = rb.dim_grid([50, 100, "var99.9", "full"], "full")
    assert [p.name for p in dims] == ["default", "dim=50", "dim=100", "dim=var 99.9 %"]
    assert all(set(p.values) == {"dim"} for p in dims)  # no energy or alpha crossed with D
    sweeps = rb.sweep_grid({"eta": [0.05, 0.2], "kappa": [0.01, 1.0]}, MUSIC)
    assert [(p.axis, p.value) for p in sweeps[1:]] == [("eta", 0.05), ("kappa", 0.01), ("kappa", 1.0)]
    assert sweeps[3].music_params(MUSIC).kappa == 1.0 and sweeps[3].music_params(MUSIC).eta == 0.2
    kmeans = rb.kmeans_grid({"energy": {"plain": [0.9]}, "eta": [1.0]}, MUSIC)
    assert all("preserve" not in p.values for p in kmeans)  # k-means has no lattice for rings
    gmm = rb.gmm_grid({"energy": {"plain": [0.9]}, "preserve": [None], "eta": [0.2], "cluster": ["cluster_random", "cluster"]},
                      dataclasses.replace(MUSIC, alpha=0.9))
    assert [p.name for p in gmm] == ["default", "cluster=all targets"]  # plain 0.9 is the mixture's default
    faces = rb.faces_grid({"energy": {}, "preserve": [None], "free_eta": [0.5, 2.0], "free_steps": [100, 400]},
                          dataclasses.replace(MUSIC, eta=0.5), {"n_steps": 100})
    assert [(p.axis, p.value) for p in faces[1:]] == [("free_eta", 2.0), ("free_steps", 400)]
    with pytest.raises(ValueError, match="no default value"):
        rb.sensitivity_grid({"eta": 0.2}, {"alpha": [0.5]})


def test_d_readings_sort_by_their_number_of_components():
    values = ["full", "var99.9", 400, "var99", 50]
    assert rb.sort_values("dim", values, {"full": 712, "var99.9": 486, "400": 400, "var99": 331, "50": 50}) == [
        50, "var99", 400, "var99.9", "full"]
    assert rb.sort_values("preserve", [2, "all", 1]) == ["all", 1, 2]


def planted(claim: int, name: str, setting: str, seed: int, mean: float, n: int = 30, **kw):
    """One seed's check whose units are centred on ``mean`` (> 0: the paper's side), tight enough to decide."""
    rng = np.random.default_rng([seed, abs(hash((name, setting))) % 2**31])
    return BOOT.units(claim, seed, name, "planted", mean + 0.05 * rng.standard_normal(n), setting=setting, sesoi=0.1, **kw)


def study_checks():
    """Claim 4 over an η axis that flips check A at η = 1 and a preservation axis that changes nothing; check B
    is negligible everywhere; a context check flips at η = 0.05 and must never count."""
    settings = {"default": rb.Setting("default", None, (("preserve", "all"), ("eta", 0.2)))}
    base = settings["default"].base
    for axis, v in (("eta", 0.05), ("eta", 1.0), ("preserve", 1), ("preserve", 2)):
        s = rb.Setting(axis, v, base)
        settings[s.name] = s
    checks = []
    for name, s in settings.items():
        for seed in (0, 1, 2):
            checks.append(planted(4, "A", name, seed, -1.0 if name == "eta=1" else 1.0))
            checks.append(planted(4, "B", name, seed, 0.0))
            checks.append(planted(4, "C", name, seed, -1.0 if name == "eta=0.05" else 1.0, context=True))
    return settings, checks


def test_an_axis_that_flips_a_check_says_where_and_one_that_does_not_says_nothing():
    settings, checks = study_checks()
    rows = rb.point_outcomes(checks, settings, {"resamples": 200, "seed": 0})
    got = {(r["check"], r["setting"]): r["outcome"].outcome for r in rows}
    assert got[("A", "default")] == "supports" and got[("A", "eta=1")] == "contradicts"
    assert {got[("B", s)] for s in settings} == {"negligible"}
    assert all(r["n_seeds"] == 3 for r in rows)
    # the pooled outcome is the report's own: pool() over the point's seeds
    a1 = [c for c in checks if c.name == "A" and c.setting == "eta=1"]
    assert next(r for r in rows if r["check"] == "A" and r["setting"] == "eta=1")["outcome"] == pool(a1, 200, 0)
    claims = rb.claim_outcomes(rows)
    by = {r["setting"]: r for r in claims}
    assert by["default"]["outcome"] == combine_outcomes(["supports", "negligible"]) == "mixed"
    assert by["eta=1"]["outcome"] == "contradicts" and by["eta=1"]["n_deciding"] == 2  # the context check never counts
    assert by["eta=0.05"]["outcome"] == "mixed"
    table = rb.sensitivity(rows, claims)
    row = {(r["check"], r["axis"]): r for r in table}
    assert row[("A", "eta")]["changes"] and row[("A", "eta")]["where"] == [1.0]
    assert [v for v, _ in row[("A", "eta")]["points"]] == [0.05, 1.0]
    assert not row[("A", "preserve")]["changes"] and row[("A", "preserve")]["where"] == []
    assert not row[("B", "eta")]["changes"] and not row[("B", "preserve")]["changes"]
    assert row[("C", "eta")]["changes"] and row[("C", "eta")]["context"]
    assert row[(rb.CLAIM_ROW, "eta")]["where"] == [1.0] and not row[(rb.CLAIM_ROW, "preserve")]["changes"]
    s = rb.summarise(table)["4"]
    assert s["default"] == "mixed" and s["changing_axes"] == ["eta"]  # the context check's flip at 0.05 is not a change
    assert s["axes"]["eta"]["where"] == ["1"] and list(s["axes"]["eta"]["checks"]) == ["A"]
    assert s["changes"] == ["trust radius η: 'A' supports at the default, contradicts at 1"]


def test_a_check_the_default_did_not_measure_changes_nothing():
    settings, checks = study_checks()
    checks = [c for c in checks if not (c.name == "A" and c.setting == "default")]
    table = rb.sensitivity(rb.point_outcomes(checks, settings, {"resamples": 200, "seed": 0}))
    row = next(r for r in table if r["check"] == "A" and r["axis"] == "eta")
    assert row["default"] is None and not row["changes"] and row["where"] == []


def test_a_check_of_an_unknown_point_is_refused():
    settings, checks = study_checks()
    checks[0].setting = "eta=7"
    with pytest.raises(ValueError, match="not a point of the study"):
        rb.point_outcomes(checks, settings)


def test_collect_writes_the_table_page_summary_and_legible_figures(tmp_path):
    """The collect stage end to end on synthetic block files: the default point is the default run's checks."""
    from musicsom.experiments.claims import check_to_dict
    from musicsom.pipeline import files
    from musicsom.pipeline.robustness import collect
    from musicsom.pipeline.robustness.blocks import sample, save_block

    settings, checks = study_checks()
    default_checks = [c for c in checks if c.setting == "default"]
    # the default run (the headline) has two more seeds than the study
    default_checks += [planted(4, n, "default", s, m) for s in (3, 4) for n, m in (("A", 1.0), ("B", 0.0))]
    files.save_json(tmp_path / "default.json", {"experiment": "mnist", "seeds": [0, 1, 2, 3, 4],
                                                "checks": [check_to_dict(c) for c in default_checks]})
    blocks = []
    for seed in (0, 1, 2):
        pts = [(s, [c for c in checks if c.setting == name and c.seed == seed]) for name, s in settings.items() if name != "default"]
        path = tmp_path / f"block{seed}.json"
        save_block(path, "mnist", seed, pts, [sample("start images per digit pair", (4,), 1, 3)])
        blocks.append(str(path))
    out = tmp_path / "out"
    collect.main(["--blocks", *blocks, "--default-checks", str(tmp_path / "default.json"), "--seeds", "0", "1", "2", "3", "4",
                  "--dim", "full", "--verdicts", json.dumps({"resamples": 200, "seed": 0, "level": 0.95}),
                  "--table", str(out / "checks.csv"), "--points", str(out / "points.csv"), "--claims", str(out / "claims.csv"),
                  "--sensitivity", str(out / "sensitivity.csv"), "--summary", str(out / "summary.json"),
                  "--figures", str(out / "figures"), "--inversion-table", str(out / "table6.csv")])
    sens = pd.read_csv(out / "sensitivity.csv", dtype=str, keep_default_na=False)
    a = sens[(sens["check"] == "A") & (sens["axis"] == "eta")].iloc[0]
    assert a["changes"] == "yes" and a["where"] == "1" and a["default_outcome"] == "supports"
    assert (sens[sens["axis"] == "preserve"]["changes"] == "no").all()
    points = pd.read_csv(out / "points.csv", keep_default_na=False)
    default_a = points[(points["check"] == "A") & (points["setting"] == "default")].iloc[0]
    assert default_a["n_seeds"] == 5  # the headline's seeds
    moved_a = points[(points["check"] == "A") & (points["setting"] == "mnist: eta=1")].iloc[0]
    assert moved_a["n_seeds"] == 3 and "3 of 5 seeds" in moved_a["below_headline"] and "1 of 3" in moved_a["below_headline"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["4"]["changing_axes"] == ["eta"] and summary["design"]["study_seeds"] == [0, 1, 2]
    page = (out / "sensitivity.md").read_text()
    assert "### trust radius η" in page and "**yes**: 1" in page and "../figures/fig23_robustness_claim4.png" in page
    png = out / "figures" / "fig23_robustness_claim4.png"
    assert png.exists() and png.with_suffix(".pdf").exists()
    from PIL import Image

    width_in = Image.open(png).size[0] / files.FIGURE_DPI
    assert width_in <= 7.2  # a page's width (bbox_inches="tight" may trim, never widen much)
    fig_data = pd.read_csv(png.with_suffix(".csv"), dtype={"value": str})
    cell = fig_data[(fig_data["check"] == "A") & (fig_data["value"] == "1")]
    assert cell["outcome"].tolist() == ["contradicts"]
    assert fig_data[(fig_data["check"] == "A") & (fig_data["default"])]["outcome"].unique().tolist() == ["supports"]


@pytest.mark.slow
def test_the_smoke_study_has_its_outputs_and_its_outcomes_follow_from_its_checks(smoke_run):
    workdir, _ = smoke_run
    res = workdir / "results" / "robustness"
    points = pd.read_csv(res / "points.csv", keep_default_na=False)
    assert set(points["claim"]) >= {1, 3, 4, 5, 6, 7, 8, 9}
    assert (points["setting"] == "default").any() and (points["setting"] != "default").any()
    claims = pd.read_csv(res / "claims.csv", keep_default_na=False)
    for (claim, setting), g in points.groupby(["claim", "setting"]):
        deciding = g.loc[~g["context"].astype(bool), "outcome"].tolist()
        got = claims[(claims["claim"] == claim) & (claims["setting"] == setting)]["outcome"].iloc[0]
        assert got == combine_outcomes(deciding), (claim, setting)
    sens = pd.read_csv(res / "sensitivity.csv", keep_default_na=False)
    assert set(sens["changes"]) <= {"yes", "no", "no default"}
    summary = json.loads((res / "summary.json").read_text())
    for claim in ("1", "3", "4", "5", "6", "7", "8", "9"):
        assert summary[claim]["default"] is not None, claim
    # the default point is the default run: claim 3's outcome there is the report's
    verdicts = pd.read_csv(workdir / "results" / "report" / "verdicts.csv", keep_default_na=False)
    c3 = verdicts[(verdicts["claim"] == 3) & (verdicts["check"] == "") & (verdicts["seed"] == "all")]["verdict"].iloc[0]
    assert summary["3"]["default"] == c3

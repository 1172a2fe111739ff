"""record_reproduction: copies finished runs' outcomes into docs/ and the README, never a face; holds a run against
the record (a claim outcome that moves, or a check that flips between supports and contradicts, fails)."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from musicsom.pipeline import files
from musicsom.pipeline.report.markdown import UNIT_COLUMNS, VERDICT_COLUMNS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import record_reproduction  # noqa: E402  (a repository tool, not part of the package)

SENTENCE_1 = "Claim 1 is supported at this run's setup (1 deciding check: 1 supports): median error: supports, +12.5 [+11, +14]."
SENTENCE_8 = ("Claim 8 is contradicted at this run's setup (1 deciding check: 1 contradicts): "
              "monotone share \\| steps: contradicts.")

REPORT = f"""# Reproduction report: test

Intro with a [link](report/evidence.csv) and one to [a claim](#claim-1-exact-inversion).

## Outcomes

| # | claim | outcome | deciding checks | sentence |
|---|---|---|---|---|
| 1 | Exact inversion from D + 1 prototypes | **supports** | 1 deciding check: 1 supports | {SENTENCE_1} |
| 8 | Faces | **contradicts** | 1 deciding check: 1 contradicts | {SENTENCE_8} |

## Claim 1: Exact inversion

*Outcome:* **supports**; sensitivity in [Fig 29](figures/fig29_inversion_vs_dim.png).
"""

README = """# project

intro

## Results

<!-- results:begin -->
old text
<!-- results:end -->

## Layout
"""


def row(claim, check, seed, verdict, estimate=None, low=None, high=None, **more):
    return {"claim": claim, "check": check, "seed": seed, "verdict": verdict, "estimate": estimate, "low": low,
            "high": high, **more}


# pooled rows (seed "all") carry the outcomes; per-seed rows are detail. Estimates are signed: > 0 the paper's side.
ROWS = [
    row(1, "", "all", "supports"),
    row(1, "median error", "all", "supports", 12.5, 11.0, 14.0, context=False, kind="directional", sesoi=1.0, mde=0.5,
        seeds_agreeing=2, n_seeds=2, n_units=20, statistic="-log10 error margin"),
    row(1, "median error", "0", "supports", 12.4, 11.2, 13.9, n_units=10, statistic="median error", value=1e-13, op="<=",
        threshold=1e-10),
    row(1, "median error", "1", "supports", 12.6, 11.4, 14.1, n_units=10, statistic="median error", value=1e-13, op="<=",
        threshold=1e-10),
    row(8, "", "all", "contradicts"),
    row(8, "monotone share", "all", "contradicts", -0.2, -0.3, -0.1, context=False, kind="directional", sesoi=0.05,
        mde=0.04, seeds_agreeing=2, n_seeds=2, n_units=40, statistic="share - 0.5"),
    row(8, "monotone share", "0", "contradicts", -0.25, -0.35, -0.15, n_units=20, statistic="share", value=0.25, op=">=",
        threshold=0.5),
    row(8, "monotone share", "1", "undetermined", -0.05, -0.2, 0.1, n_units=20, statistic="share", value=0.45, op=">=",
        threshold=0.5),
    row(8, "reconstruction", "all", "supports", 0.3, 0.2, 0.4, context=True, kind="directional", sesoi=0.1,
        statistic="context: decoder works"),
]

UNITS = [
    {"claim": 1, "check": "median error", "setting": "", "seed": s, "group": "pair 0-1", "value": 12.0 + 0.1 * i + s}
    for s in (0, 1) for i in range(3)
]


def changed(rows, claim, check, seed, **fields):
    """``rows`` with the row (claim, check, seed) updated by ``fields``."""
    return [{**r, **fields} if (r["claim"], r["check"], r["seed"]) == (claim, check, seed) else r for r in rows]


def make_run(tmp_path, name="run", rows=ROWS, report=REPORT, config='{"seeds": [0, 1], "mnist": {"dim": "full"}}'):
    run, repo = tmp_path / name, tmp_path / "repo"
    (run / "results" / "figures").mkdir(parents=True)
    (run / "results" / "report").mkdir(parents=True)
    (run / "results" / "REPORT.md").write_text(report)
    pd.DataFrame(rows, columns=VERDICT_COLUMNS).to_csv(run / "results" / "report" / "verdicts.csv", index=False)
    pd.DataFrame(UNITS, columns=UNIT_COLUMNS).to_csv(run / "results" / "report" / "units.csv", index=False)
    (run / "results" / "report" / "config.json").write_text(config + "\n")
    (run / "results" / "figures" / "fig05_inversion_vs_m.png").write_bytes(b"png-gmm")
    (run / "results" / "figures" / "fig12_faces_informed_strips.png").write_bytes(b"png-face")
    repo.mkdir(exist_ok=True)
    if not (repo / "README.md").exists():
        (repo / "README.md").write_text(README)
    return run, repo


def record(*args):
    record_reproduction.main([*map(str, args), "--commit", "abc1234def5678"])


def test_writes_record_units_gallery_and_readme_section(tmp_path):
    run, repo = make_run(tmp_path)
    record("--run", run, "--repo", repo)

    text = (repo / "docs" / "REPRODUCTION.md").read_text()
    assert text.startswith("# Reproduction record: the paper's stated setup (`config.yaml`)")
    assert "full run of commit `abc1234def5678`" in text
    assert "(results/report/evidence.csv)" in text  # links re-rooted at the run's results/
    assert "(#claim-1-exact-inversion)" in text  # anchors stay anchors
    assert "(results/figures/fig29_inversion_vs_dim.png)" in text  # not copied: still the run's file
    assert "## Reproduction report" in text

    record_dir = repo / "docs" / "reproduction"
    assert (record_dir / "verdicts.csv").read_bytes() == (run / "results" / "report" / "verdicts.csv").read_bytes()
    packed = (record_dir / "units.csv.gz").read_bytes()
    assert gzip.decompress(packed) == (run / "results" / "report" / "units.csv").read_bytes()
    assert packed[4:8] == b"\0\0\0\0"  # gzip header mtime 0
    assert not (record_dir / "sensitivity.csv").exists()  # the run had no sensitivity study
    assert sorted(p.name for p in record_dir.iterdir()) == ["units.csv.gz", "verdicts.csv"]

    figures = sorted(p.name for p in (repo / "docs" / "figures").iterdir())
    assert figures == ["fig05_inversion_vs_m.png"]  # the face figure is never copied

    readme = (repo / "README.md").read_text()
    assert "old text" not in readme
    assert "| # | claim | outcome (the paper's setup) | sentence |\n|---|---|---|---|\n" in readme
    assert f"| 1 | Exact inversion from D + 1 prototypes | **supports** | {SENTENCE_1} |\n" in readme
    assert f"| 8 | Faces | **contradicts** | {SENTENCE_8} |\n" in readme  # an escaped pipe stays inside its cell
    assert "D = 50" not in readme  # no variant run, no variant column
    assert "commit `abc1234def`" in readme
    assert "(docs/figures/fig05_inversion_vs_m.png)" in readme
    assert "fig12" not in readme
    assert readme.startswith("# project\n") and readme.endswith("## Layout\n")

    # a second recording of the same run (the units file touched since) writes the same bytes, and replaces the
    # README section instead of nesting a new one inside
    os.utime(run / "results" / "report" / "units.csv", (1e9, 1e9))
    record("--run", run, "--repo", repo)
    assert (record_dir / "units.csv.gz").read_bytes() == packed
    assert (repo / "README.md").read_text() == readme


def test_sensitivity_study_and_its_figures_are_copied(tmp_path):
    run, repo = make_run(tmp_path)
    (run / "results" / "robustness").mkdir()
    (run / "results" / "robustness" / "sensitivity.csv").write_text("claim,check,axis,setting,outcome\n1,x,eta,0.5,supports\n")
    for name in ("fig22_robustness_claim3.png", "fig27_robustness_claim8.png", "fig29_inversion_vs_dim.png",
                 "fig29_inversion_vs_dim.pdf", "fig21_kmeans_vs_som.png"):
        (run / "results" / "figures" / name).write_bytes(name.encode())
    record("--run", run, "--repo", repo)

    assert (repo / "docs" / "reproduction" / "sensitivity.csv").read_text().startswith("claim,check,axis")
    figures = sorted(p.name for p in (repo / "docs" / "figures").iterdir())
    assert figures == ["fig05_inversion_vs_m.png", "fig21_kmeans_vs_som.png", "fig22_robustness_claim3.png",
                       "fig27_robustness_claim8.png", "fig29_inversion_vs_dim.png"]  # PNG only, no face
    # the record links the copied figure (relative to docs/), the other links stay in the run's folder
    text = (repo / "docs" / "REPRODUCTION.md").read_text()
    assert "[Fig 29](figures/fig29_inversion_vs_dim.png)" in text
    assert "(results/report/evidence.csv)" in text
    # the sensitivity figures are in docs/figures/, not in the README's gallery
    assert "fig22" not in (repo / "README.md").read_text()


def test_variant_run_is_recorded_and_its_column_shows_only_differences(tmp_path):
    run, repo = make_run(tmp_path)
    variant_rows = changed(ROWS, 1, "", "all", verdict="mixed")
    variant_report = REPORT.replace("| 1 | Exact inversion from D + 1 prototypes | **supports**",
                                    "| 1 | Exact inversion from D + 1 prototypes | **mixed**")
    variant, _ = make_run(tmp_path, "d50", variant_rows, variant_report,
                          config='{"seeds": [0, 1], "mnist": {"dim": 50, "music": {"per_row_mean": true, "alpha": 0.5}}}')
    record("--run", run, "--variant-run", variant, "--repo", repo)

    readme = (repo / "README.md").read_text()
    assert "| # | claim | outcome (the paper's setup) | sentence | D = 50 variant |\n|---|---|---|---|---|\n" in readme
    assert f"| 1 | Exact inversion from D + 1 prototypes | **supports** | {SENTENCE_1} | **mixed** |\n" in readme
    assert f"| 8 | Faces | **contradicts** | {SENTENCE_8} | same |\n" in readme
    assert "[docs/REPRODUCTION_D50.md](docs/REPRODUCTION_D50.md)" in readme

    d50 = (repo / "docs" / "REPRODUCTION_D50.md").read_text()
    assert d50.startswith("# Reproduction record: the D = 50 per-row-mean variant (`config_d50.yaml`)")
    assert "(MNIST whitening D = 50, per-row-mean energy, alpha = 0.5)" in d50
    assert "**mixed**" in d50
    record_dir = repo / "docs" / "reproduction"
    assert pd.read_csv(record_dir / "verdicts_d50.csv").query("claim == 1 and check != check")["verdict"].tolist() == ["mixed"]
    assert gzip.decompress((record_dir / "units_d50.csv.gz").read_bytes()).startswith(b"claim,check,setting,seed,group,value")
    # the paper-setup run of the old layout is gone: nothing of it is written any more
    assert sorted(p.name for p in record_dir.iterdir()) == ["units.csv.gz", "units_d50.csv.gz", "verdicts.csv",
                                                            "verdicts_d50.csv"]
    assert sorted(p.name for p in (repo / "docs").glob("*.md")) == ["REPRODUCTION.md", "REPRODUCTION_D50.md"]


@pytest.mark.parametrize("breakage", ["no_markers", "old_report", "no_report", "no_units", "old_verdicts",
                                      "report_and_verdicts_disagree", "variant_same_config"])
def test_refusal_writes_nothing(tmp_path, breakage):
    run, repo = make_run(tmp_path)
    extra = []
    report_dir = run / "results" / "report"
    if breakage == "no_markers":
        (repo / "README.md").write_text("# project\n")
    elif breakage == "old_report":
        (run / "results" / "REPORT.md").write_text(REPORT.replace("## Outcomes", "## Verdicts"))
    elif breakage == "no_report":
        (run / "results" / "REPORT.md").unlink()
    elif breakage == "no_units":
        (report_dir / "units.csv").unlink()
    elif breakage == "old_verdicts":
        (report_dir / "verdicts.csv").write_text("claim,check,seed,verdict,statistic,value,low,high,op,threshold\n"
                                                  "1,,all,held,,,,,,\n8,,all,failed,,,,,,\n")
    elif breakage == "report_and_verdicts_disagree":
        pd.DataFrame(changed(ROWS, 8, "", "all", verdict="mixed"), columns=VERDICT_COLUMNS).to_csv(
            report_dir / "verdicts.csv", index=False)
    else:
        variant, _ = make_run(tmp_path, "d50")  # the same config.json as the default run
        extra = ["--variant-run", variant]
    before = (repo / "README.md").read_text()
    with pytest.raises(files.InputError) as err:
        record("--run", run, *extra, "--repo", repo)
    assert {"old_report": "no '## Outcomes' section", "old_verdicts": "lacks the column(s) estimate",
            "report_and_verdicts_disagree": "REPORT.md says claim 8 is 'contradicts', verdicts.csv says 'mixed'",
            "variant_same_config": "ran the same configuration"}.get(breakage, "") in str(err.value)
    assert not (repo / "docs").exists()
    assert (repo / "README.md").read_text() == before


def compare(tmp_path, name, rows):
    run, _ = make_run(tmp_path, name, rows)
    against = tmp_path / "repo" / "docs" / "reproduction" / "verdicts.csv"
    record_reproduction.main(["--compare", str(run), "--against", str(against)])


def test_compare_passes_identical_and_moved_within_interval(tmp_path, capsys):
    run, repo = make_run(tmp_path)
    record("--run", run, "--repo", repo)
    capsys.readouterr()

    compare(tmp_path, "same", ROWS)
    out = capsys.readouterr().out
    assert "0 numbers moved" in out and "every claim outcome agrees with the record" in out

    # round-off moves two estimates: one stays within the other side's interval, one leaves it; outcomes stay
    moved = changed(changed(ROWS, 1, "median error", "all", estimate=12.6, low=11.1, high=14.1),
                    8, "monotone share", "1", estimate=0.5, low=0.3, high=0.7)
    compare(tmp_path, "moved", moved)
    out = capsys.readouterr().out
    assert "2 numbers moved (1 within the other side's interval" in out
    lines = out.splitlines()
    assert any("median error" in line and "moved within the interval" in line for line in lines)
    assert any("monotone share" in line and "outside the interval" in line for line in lines)
    assert "every claim outcome agrees with the record" in out


def test_compare_fails_on_a_flip_across_zero_and_on_a_claim_outcome(tmp_path, capsys):
    run, repo = make_run(tmp_path)
    record("--run", run, "--repo", repo)
    capsys.readouterr()

    # a pooled check supports in the record and contradicts here: fails even though the claim row stays
    flipped = changed(ROWS, 1, "median error", "all", verdict="contradicts", estimate=-12.5, low=-14.0, high=-11.0)
    with pytest.raises(SystemExit) as exc:
        compare(tmp_path, "flipped", flipped)
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "claim 1, check 'median error': supports in the record, contradicts in this run (flip across zero)" in out
    assert "1 outcomes disagree" in out

    # a claim outcome that moves fails; a context check's flip fails too (a consistency check of the code)
    claim = changed(changed(ROWS, 8, "", "all", verdict="mixed"), 8, "reconstruction", "all", verdict="contradicts")
    with pytest.raises(SystemExit):
        compare(tmp_path, "claim", claim)
    out = capsys.readouterr().out
    assert "claim 8: contradicts in the record, mixed in this run (claim outcome)" in out
    assert "claim 8, check 'reconstruction': supports in the record, contradicts in this run (flip across zero)" in out

    # a check missing from the run fails
    with pytest.raises(SystemExit):
        compare(tmp_path, "missing", [r for r in ROWS if r["check"] != "reconstruction"])
    assert "claim 8, check 'reconstruction': only in the record (missing)" in capsys.readouterr().out


def test_compare_lists_a_move_to_undetermined_without_failing(tmp_path, capsys):
    run, repo = make_run(tmp_path)
    record("--run", run, "--repo", repo)
    capsys.readouterr()

    # supports -> undetermined on a pooled check, and a per-seed outcome that moves: listed, and the comparison passes
    near = changed(changed(ROWS, 1, "median error", "all", verdict="undetermined", low=-0.5),
                   8, "monotone share", "1", verdict="contradicts")
    compare(tmp_path, "near", near)
    out = capsys.readouterr().out
    assert ("1 of the record's 3 pooled check outcomes moved between a decided outcome and undetermined or negligible"
            in out)
    assert "claim 1, check 'median error': supports in the record, undetermined in this run (decided on one side only)" in out
    assert "1 per-seed outcomes differ" in out
    assert "claim 8, check 'monotone share', seed 1: undetermined in the record, contradicts in this run (per seed)" in out
    assert "every claim outcome agrees with the record" in out


def test_compare_refuses_a_record_of_the_old_format(tmp_path):
    run, _ = make_run(tmp_path)
    old = tmp_path / "old_verdicts.csv"
    old.write_text("claim,check,seed,verdict,statistic,value,low,high,op,threshold\n1,,all,held,,,,,,\n")
    with pytest.raises(files.InputError, match="re-record it"):
        record_reproduction.main(["--compare", str(run), "--against", str(old)])


def test_the_run_tables_are_committed_and_linked(tmp_path):
    run, repo = make_run(tmp_path)
    tables = run / "results" / "tables"
    tables.mkdir()
    (tables / "paper_table1_gmm.md").write_text("# Paper Table 1\n")
    (tables / "paper_table1_gmm.csv").write_text("metric,ours\nrate,0.015\n")
    big = "unit,value\n" + "".join(f"{i},{i / 7:.12f}\n" for i in range(4000))  # over the 50 kB limit
    (tables / "table2_mnist_trajectories.csv").write_text(big)
    (tables / "table2_mnist_trajectories.html").write_text("<table></table>")  # a rendering: not copied
    report = (run / "results" / "REPORT.md").read_text() + "\nSee [Table 1](tables/paper_table1_gmm.md).\n"
    (run / "results" / "REPORT.md").write_text(report)
    record("--run", run, "--repo", repo)

    dest = repo / "docs" / "reproduction" / "tables"
    assert sorted(p.name for p in dest.iterdir()) == ["paper_table1_gmm.csv", "paper_table1_gmm.md",
                                                       "table2_mnist_trajectories.csv.gz"]
    assert gzip.decompress((dest / "table2_mnist_trajectories.csv.gz").read_bytes()).decode() == big
    text = (repo / "docs" / "REPRODUCTION.md").read_text()
    assert "(reproduction/tables/paper_table1_gmm.md)" in text  # the link follows the copy
    assert "[reproduction/tables/](reproduction/tables/)" in text

"""record_reproduction: copies a finished run's verdicts into docs/ and the README, never a face."""

from __future__ import annotations

import pytest

import sys
from pathlib import Path

from musicsom.pipeline import files

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import record_reproduction  # noqa: E402  (a repository tool, not part of the package)

REPORT = """# Reproduction report: test

Intro with a [link](report/evidence.csv).

## Verdicts

| # | claim | verdict | seeds held |
|---|---|---|---|
| 1 | Exact inversion from D + 1 prototypes | **held** | 3/3 seeds |
| 8 | Faces | **failed** | 0/3 seeds |

## Claim 1: Exact inversion

*Verdict:* **held**
"""

README = """# project

intro

## Results

<!-- results:begin -->
old text
<!-- results:end -->

## Layout
"""


VERDICTS = """claim,check,seed,verdict,statistic,value,low,high,op,threshold
1,,all,held,,,,,,
1,median error,all,held,,,,,,
1,median error,0,held,median error,1e-13,5e-14,2e-13,<=,1e-10
8,,all,failed,,,,,,
8,monotone share,all,failed,,,,,,
8,monotone share,0,failed,share,0.4,0.3,0.5,>=,0.9
8,monotone share,1,inconclusive,share,0.85,0.7,0.95,>=,0.9
"""


def make_run(tmp_path, name="run", verdicts=VERDICTS):
    run, repo = tmp_path / name, tmp_path / "repo"
    (run / "results" / "figures").mkdir(parents=True)
    (run / "results" / "report").mkdir(parents=True)
    (run / "results" / "REPORT.md").write_text(REPORT)
    (run / "results" / "report" / "verdicts.csv").write_text(verdicts)
    (run / "results" / "report" / "config.json").write_text('{"seeds": [0, 1, 2]}\n')
    (run / "results" / "figures" / "fig05_inversion_vs_m.png").write_bytes(b"png-gmm")
    (run / "results" / "figures" / "fig12_faces_informed_strips.png").write_bytes(b"png-face")
    repo.mkdir(exist_ok=True)
    (repo / "README.md").write_text(README)
    return run, repo


def test_writes_record_gallery_and_readme_section(tmp_path):
    run, repo = make_run(tmp_path)
    record_reproduction.main(["--run", str(run), "--repo", str(repo), "--commit", "abc1234def5678"])

    record = (repo / "docs" / "REPRODUCTION.md").read_text()
    assert "full run of commit `abc1234def5678`" in record
    assert "(results/report/evidence.csv)" in record  # links re-rooted at the run's results/
    assert "## Reproduction report" in record

    figures = sorted(p.name for p in (repo / "docs" / "figures").iterdir())
    assert figures == ["fig05_inversion_vs_m.png"]  # the face figure is never copied

    readme = (repo / "README.md").read_text()
    assert "old text" not in readme
    assert "| 8 | Faces | **failed** | 0/3 seeds |" in readme
    assert "commit `abc1234def`" in readme
    assert "(docs/figures/fig05_inversion_vs_m.png)" in readme
    assert "fig12" not in readme
    assert readme.startswith("# project\n") and readme.endswith("## Layout\n")

    # a second recording replaces the section instead of nesting a new one inside
    record_reproduction.main(["--run", str(run), "--repo", str(repo), "--commit", "abc1234def5678"])
    assert (repo / "README.md").read_text() == readme


@pytest.mark.parametrize("breakage", ["no_markers", "no_verdicts", "no_report"])
def test_refusal_writes_nothing(tmp_path, breakage):
    run, repo = make_run(tmp_path)
    if breakage == "no_markers":
        (repo / "README.md").write_text("# project\n")
    elif breakage == "no_verdicts":
        (run / "results" / "REPORT.md").write_text("# Reproduction report\n\n## Claim 1\n")
    else:
        (run / "results" / "REPORT.md").unlink()
    before = (repo / "README.md").read_text()
    with pytest.raises(files.InputError):
        record_reproduction.main(["--run", str(run), "--repo", str(repo)])
    assert not (repo / "docs").exists()
    assert (repo / "README.md").read_text() == before


def test_paper_run_adds_its_column_and_record(tmp_path):
    run, repo = make_run(tmp_path)
    paper, _ = make_run(tmp_path, "paper", VERDICTS.replace("1,,all,held", "1,,all,failed"))
    record_reproduction.main(["--run", str(run), "--paper-run", str(paper), "--repo", str(repo), "--commit", "abc1234def5678"])
    readme = (repo / "README.md").read_text()
    assert "| 1 | Exact inversion from D + 1 prototypes | **held** | 3/3 seeds | **failed** |" in readme
    assert "| 8 | Faces | **failed** | 0/3 seeds | **failed** |" in readme
    assert "verdict of the paper-setup run" in readme
    assert "paper's stated setup" in (repo / "docs" / "REPRODUCTION_PAPER_SETUP.md").read_text()
    assert (repo / "docs" / "reproduction" / "verdicts_paper_setup.csv").read_text().startswith("claim,check,seed,verdict")


def test_compare_accepts_moved_numbers_and_refuses_moved_verdicts(tmp_path, capsys):
    run, repo = make_run(tmp_path)
    record_reproduction.main(["--run", str(run), "--repo", str(repo), "--commit", "abc"])
    against = str(repo / "docs" / "reproduction" / "verdicts.csv")

    # round-off moves a number, and an inconclusive check on one seed stays inconclusive: agreement
    moved, _ = make_run(tmp_path, "moved", VERDICTS.replace("0.85,0.7,0.95", "0.86,0.71,0.96"))
    record_reproduction.main(["--compare", str(moved), "--against", against])
    out = capsys.readouterr().out
    assert "1 numbers moved" in out and "agrees with the record" in out

    # a claim verdict that moves is a disagreement; the check behind it, failed -> inconclusive, is listed apart
    flipped, _ = make_run(tmp_path, "flipped", VERDICTS.replace("8,monotone share,0,failed", "8,monotone share,0,inconclusive")
                          .replace("8,,all,failed", "8,,all,inconclusive"))
    with pytest.raises(SystemExit) as exc:
        record_reproduction.main(["--compare", str(flipped), "--against", against])
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "1 of the record's 5 check verdicts are decided on one side and inconclusive on the other" in out
    assert "claim 8, check 'monotone share', seed 0: failed in the record, inconclusive in this run (one side inconclusive)" in out
    assert "1 verdicts disagree" in out
    assert "claim 8: failed in the record, inconclusive in this run (claim verdict)" in out

    # held against failed on one check fails the comparison even when the claim verdict stays
    opposite, _ = make_run(tmp_path, "opposite", VERDICTS.replace("1,median error,0,held", "1,median error,0,failed"))
    with pytest.raises(SystemExit) as exc:
        record_reproduction.main(["--compare", str(opposite), "--against", against])
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "claim 1, check 'median error', seed 0: held in the record, failed in this run (opposite verdicts)" in out

    # inconclusive -> held on one seed, claim unchanged: listed, and the comparison passes
    sure, _ = make_run(tmp_path, "sure", VERDICTS.replace("8,monotone share,1,inconclusive", "8,monotone share,1,held"))
    record_reproduction.main(["--compare", str(sure), "--against", against])
    out = capsys.readouterr().out
    assert "claim 8, check 'monotone share', seed 1: inconclusive in the record, held in this run (one side inconclusive)" in out
    assert "every claim verdict agrees with the record" in out

    # a check missing from the run is a disagreement
    missing, _ = make_run(tmp_path, "missing", VERDICTS.replace("8,monotone share,1,inconclusive,share,0.85,0.7,0.95,>=,0.9\n", ""))
    with pytest.raises(SystemExit):
        record_reproduction.main(["--compare", str(missing), "--against", against])
    assert "seed 1: only in the recorded run (missing)" in capsys.readouterr().out

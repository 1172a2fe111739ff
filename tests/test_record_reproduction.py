"""record_reproduction: copies a finished run's verdicts into docs/ and the README, never a face."""

from __future__ import annotations

import pytest

import sys
from pathlib import Path

from musicsom.pipeline import _io

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


def make_run(tmp_path):
    run, repo = tmp_path / "run", tmp_path / "repo"
    (run / "results" / "figures").mkdir(parents=True)
    (run / "results" / "REPORT.md").write_text(REPORT)
    (run / "config.yaml").write_text("seeds: [0, 1, 2]\n")
    (run / "results" / "figures" / "fig05_inversion_vs_m.png").write_bytes(b"png-gmm")
    (run / "results" / "figures" / "fig12_faces_informed_strips.png").write_bytes(b"png-face")
    repo.mkdir()
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
    with pytest.raises(_io.InputError):
        record_reproduction.main(["--run", str(run), "--repo", str(repo)])
    assert not (repo / "docs").exists()
    assert (repo / "README.md").read_text() == before

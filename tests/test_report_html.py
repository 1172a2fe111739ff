"""The smoke run's report.html, opened in a real browser (headless Chromium).

``snakemake --report report.html`` on the smoke run of conftest.py (``smoke_run``). The report's viewer
is a React page whose results are embedded as data URIs (``var results``, ``var categories``): the
tests read them from the file, check that the verdict page comes first and that every figure and table
of the run is registered as something the viewer shows inline (HTML or PNG), then render the verdict
page and Table 1 in Chromium (``--dump-dom``) and check their content against REPORT.md and the
table's CSV, and switch the report's own view to the verdict page (the call its result buttons make)
and keep a screenshot under the test's temporary folder.

The stage itself (``musicsom.pipeline.report.html``) is tested first on small files of its own.
Without Chromium the browser tests skip with the command that installs it (Debian's package, which
``.ci/run`` installs when it is missing).
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import snakemake

from musicsom.pipeline import files
from musicsom.pipeline.report import html as page_html

INSTALL = "apt-get install -y chromium"
INLINE = {"text/html", "image/png", "image/svg+xml", "image/jpeg", "application/pdf"}


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    path = chromium_binary()
    if path is None:
        pytest.skip(f"headless Chromium is not installed; install it with `{INSTALL}` (.ci/run does when it can)")
    return path


def run_browser(browser: str, profile: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Headless Chromium with a throwaway profile (no sandbox: CI runs as root); the page's scripts get 15 s."""
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-3000:]}"
    return proc


def dump_dom(browser: str, page: Path, profile: Path) -> str:
    return run_browser(browser, profile, "--dump-dom", page.as_uri()).stdout


@pytest.fixture(scope="module")
def report(smoke_run):
    """(workdir, report.html path, results, categories) of the smoke run's report."""
    workdir, _ = smoke_run
    path = workdir / "report.html"
    snakemake(workdir, "--report", str(path), timeout=600)
    text = path.read_text()

    def embedded(name: str):
        m = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', text, re.DOTALL)
        assert m, f"report.html has no `var {name}`"
        return json.loads(m.group(1))

    return workdir, path, embedded("results"), embedded("categories")


def decoded(entry: dict) -> bytes:
    head, _, data = entry["data_uri"].partition(",")
    assert head.endswith(";base64"), head[:80]
    return base64.b64decode(data)


def first_result(categories: dict) -> tuple[str, str]:
    """The category the viewer lists first (it sorts names) and its first item, as the viewer shows them."""
    cat = min(categories, key=str.casefold)
    subcats = categories[cat]
    sub = min(subcats, key=lambda s: (s is None, str(s).casefold()))
    return cat, subcats[sub][0]


def test_a_page_embeds_what_it_links(tmp_path):
    """Figures and Markdown tables linked from the page are inside it; CSVs are downloads carrying their bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (tmp_path / "figures").mkdir()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    files.save_figure(fig, tmp_path / "figures" / "fig01_line.png")
    files.save_table(tmp_path / "tables" / "t.csv", pd.DataFrame({"a": [1.5, 2.25], "b": ["x|y", "<z>"]}), title="Table T")
    (tmp_path / "evidence.csv").write_text("claim,value\n1,0.5\n")
    md = tmp_path / "REPORT.md"
    md.write_text("# Report\n\n## Verdicts\n\n| # | verdict |\n|---|---|\n| 1 | **held** |\n\n"
                  "See [Fig 1](figures/fig01_line.png), [Table T](tables/t.md) and [the evidence](evidence.csv).\n")
    text = page_html.render(md, None, None)
    assert text == page_html.render(md, None, None), "same inputs, different bytes"
    assert '<strong class="v-held">held</strong>' in text
    assert 'href="#embedded-figures-fig01-line-png"' in text and 'id="embedded-figures-fig01-line-png"' in text
    assert "data:image/png;base64," in text and 'href="figures/' not in text
    assert re.search(r"<h3[^>]*>Table T</h3>", text) and 'download="t.csv"' in text and 'download="evidence.csv"' in text
    md.write_text("[gone](figures/missing.png)\n")
    with pytest.raises(files.InputError, match="missing.png"):
        page_html.render(md, None, None)


def test_a_csv_page_shows_every_cell_escaped(tmp_path):
    csv = tmp_path / "claims.csv"
    pd.DataFrame({"setting": ["a|b", "<c>"], "value": [0.123456, float("nan")]}).to_csv(csv, index=False)
    text = page_html.render(None, csv, "Claims & points")
    assert "<title>Claims &amp; points</title>" in text and "2 rows × 2 columns" in text
    assert "a|b" in text and "&lt;c&gt;" in text and "<c>" not in text
    assert '<td class="num">0.1235</td>' in text and 'download="claims.csv"' in text


@pytest.mark.slow
def test_the_verdicts_come_first_and_everything_is_viewable_inline(report):
    workdir, _, results, categories = report
    cat, path = first_result(categories)
    assert cat.endswith("Verdicts") and path.endswith("results/REPORT.html"), (cat, path)
    expected = ("Gaussian mixture", "MNIST", "Faces (LFW)", "k-means control", "Robustness study")
    for name in expected:
        assert any(c.endswith(name) for c in categories), f"no category {name}: {sorted(categories)}"
    for p, entry in results.items():
        assert entry["mime_type"] in INLINE, f"{p} ({entry['mime_type']}) would be a download button, not a page"
        assert entry["caption"].strip(), f"{p} has no caption"
    registered = {Path(p).as_posix().split("results/", 1)[-1] for p in results}
    figures = sorted((workdir / "results" / "figures").glob("*.png"))
    assert figures
    missing = [f.name for f in figures if f"figures/{f.name}" not in registered]
    assert not missing, f"figures left out of the report: {missing}"
    tables = sorted((workdir / "results" / "tables").glob("*.csv"))
    missing = [t.name for t in tables if f"tables/{t.stem}.html" not in registered]
    assert not missing, f"tables without their page in the report: {missing}"
    # captions are written from the smoke config, not the paper's
    fig07 = next(e for p, e in results.items() if p.endswith("fig07_mnist_som.png"))
    assert "8×8" in fig07["caption"] and "D = 20" in fig07["caption"] and "30×30" not in fig07["caption"]


@pytest.mark.slow
def test_the_verdict_page_renders_with_every_claim(report, browser, tmp_path):
    workdir, _, results, categories = report
    _, path = first_result(categories)
    page = tmp_path / "verdicts.html"
    page.write_bytes(decoded(results[path]))
    dom = dump_dom(browser, page, tmp_path / "profile")
    md = (workdir / "results" / "REPORT.md").read_text()
    verdicts = md.split("## Outcomes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \| \*\*(\w[\w ]*)\*\* \|", verdicts, re.MULTILINE)
    assert len(rows) >= 9, rows
    assert 'id="outcomes"' in dom and "<table>" in dom
    table = dom.split('id="outcomes"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table, re.DOTALL)
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", "", c) for c in cells))
    for number, title, verdict in rows:
        assert title.split(" (")[0][:40] in text, f"claim {number} ({title}) is not in the rendered verdict table"
    assert len(re.findall(r"<tr>", table)) == len(rows) + 1
    for _, _, verdict in rows:
        assert verdict in text
    # the figures the text links are inside the page (a self-contained page: no file beside it)
    assert "data:image/png;base64," in dom and 'href="figures/' not in dom


@pytest.mark.slow
def test_a_table_renders_with_its_numbers(report, browser, tmp_path):
    workdir, _, results, _ = report
    path = next(p for p in results if p.endswith("tables/table1_gmm_metrics.html"))
    page = tmp_path / "table1.html"
    page.write_bytes(decoded(results[path]))
    dom = dump_dom(browser, page, tmp_path / "profile")
    frame = pd.read_csv(workdir / "results" / "tables" / "table1_gmm_metrics.csv")
    # the table's Markdown view first, then every number of its CSV
    assert "Table 1" in dom.split("<table>", 1)[0] and "Every number of the table" in dom
    header = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", dom)]
    for col in frame.columns:
        assert col in header, f"column {col} is not in the rendered table: {header}"
    body = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    numbers = frame.select_dtypes("number").iloc[0].dropna()
    assert len(numbers)
    for v in numbers:
        assert f"{v:.4g}" in body, f"{v:.4g} (Table 1's first row) is not on the page"
    assert 'download="table1_gmm_metrics.csv"' in dom


@pytest.mark.slow
def test_the_report_switches_to_the_verdict_page_in_the_browser(report, browser, tmp_path):
    """The viewer's own view switching: the call a result's button makes, after the page has mounted."""
    _, html_path, results, categories = report
    _, path = first_result(categories)
    page = tmp_path / "report_verdicts.html"
    script = ("<script>window.addEventListener('load', function () { setTimeout(function () {"
              f" app.setView({{content: 'html', contentPath: results[{json.dumps(path)}].data_uri,"
              f" resultPath: {json.dumps(path)}}}); }}, 500); }});</script>")
    # before the page's own closing tag (the bundled libraries hold the string "</body>" too)
    head, tag, tail = html_path.read_text().rpartition("</body>")
    page.write_text(head + script + tag + tail)
    dom = dump_dom(browser, page, tmp_path / "profile")
    assert "<iframe" in dom, "the report did not show a page"
    src = re.search(r'<iframe[^>]*src="([^"]+)"', dom).group(1)
    assert src.startswith("data:text/html") and base64.b64decode(src.split(",", 1)[1]) == decoded(results[path])
    shot = tmp_path / "report_verdicts.png"
    run_browser(browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000, "the screenshot is missing or blank"

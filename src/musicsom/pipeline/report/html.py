"""Stage: render a Markdown page or a CSV table as one self-contained, styled HTML page for the report.

    python -m musicsom.pipeline.report.html --markdown results/REPORT.md --out results/REPORT.html
    python -m musicsom.pipeline.report.html --csv results/tables/table1_gmm_metrics.csv \
        --markdown results/tables/table1_gmm_metrics.md --out results/tables/table1_gmm_metrics.html
    python -m musicsom.pipeline.report.html --csv results/robustness/claims.csv --title "..." --out results/robustness/claims.html

Snakemake's report viewer shows images, HTML and PDF inline, and Markdown or CSV only as a download
button; this stage makes the verdicts (``REPORT.md``) and every table readable inside ``report.html``.
The page needs nothing beside it: the style is inline, every figure the Markdown links (``.png``) is
embedded as a data URI at the end of the page (the link jumps there), every linked Markdown table is
rendered into the page the same way, and every linked CSV, like the table's own CSV, becomes a download
link carrying its bytes. A link to a local file that does not exist is an error (the report would point
nowhere). Same inputs, same bytes: no timestamps.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from pathlib import Path

from musicsom.pipeline import files

log = logging.getLogger("musicsom.pipeline.report.html")

EXTENSIONS = ["tables", "toc", "sane_lists"]
# a CSV larger than this is linked by name instead of carried in the page
MAX_EMBEDDED_CSV = 4_000_000
# a table page shows at most this many rows of a CSV (a page of a few hundred kilobytes)
MAX_TABLE_ROWS = 2000

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 15px;
       line-height: 1.5; color: #1f2328; max-width: 72rem; margin: 1.5rem auto; padding: 0 1.2rem; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; }
a { color: #0969da; }
code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 4px; font-size: 90%; }
.table-wrap { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: .3rem .55rem; text-align: left; vertical-align: top; }
th { background: #f0f3f6; position: sticky; top: 0; }
tr:nth-child(even) td { background: #f8fafc; }
.csv td { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
strong.v-held { color: #116329; } strong.v-failed { color: #b3261e; } strong.v-partly { color: #9a6700; }
strong.v-inconclusive { color: #57606a; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { font-size: 13px; color: #57606a; }
.download { display: inline-block; margin: .4rem 0 1rem; padding: .25rem .7rem; border: 1px solid #d0d7de;
            border-radius: 6px; background: #f6f8fa; text-decoration: none; }
.embedded { border-top: 3px double #d0d7de; margin-top: 2.5rem; }
"""

VERDICT = re.compile(r"<strong>(held|failed|partly|inconclusive)</strong>")
LINK = re.compile(r'<a href="([^"#:]+)"')
NUMBER = re.compile(r"<td>(\s*[-+−]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*%?)</td>")


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def to_html(text: str) -> str:
    """Markdown (GitHub tables included) to an HTML fragment; tables scroll sideways, numbers align right."""
    import markdown

    body = markdown.markdown(text, extensions=EXTENSIONS, output_format="html")
    body = body.replace("<table>", '<div class="table-wrap"><table>').replace("</table>", "</table></div>")
    body = VERDICT.sub(lambda m: f'<strong class="v-{m.group(1)}">{m.group(1)}</strong>', body)
    return NUMBER.sub(lambda m: f'<td class="num">{m.group(1)}</td>', body)


def anchor(path: Path) -> str:
    return "embedded-" + re.sub(r"[^a-z0-9]+", "-", path.as_posix().lower()).strip("-")


def csv_link(path: Path, label: str | None = None) -> str:
    name = html.escape(path.name)
    return (f'<a class="download" download="{name}" href="{data_uri(path, "text/csv")}">'
            f"{html.escape(label or 'Download ' + path.name)}</a>")


def embed_links(body: str, base: Path) -> tuple[str, list[str]]:
    """Rewrite the links to local files of ``body`` (relative to ``base``): figures and Markdown tables are
    embedded at the end of the page (the link jumps to them), CSV files become downloads carrying their bytes.

    Returns the rewritten body and the embedded sections, in the order of their first link.
    """
    sections: dict[str, str] = {}

    def rewrite(m: re.Match) -> str:
        href = html.unescape(m.group(1))
        target = (base / href).resolve()
        if not target.exists():
            raise files.InputError(f"the page links {href}, which does not exist (looked for {target})")
        rel = Path(href)
        if target.suffix == ".png":
            key = anchor(rel)
            sections.setdefault(key, f'<figure id="{key}"><img alt="{html.escape(rel.name)}" '
                                     f'src="{data_uri(target, "image/png")}"><figcaption>{html.escape(href)}'
                                     "</figcaption></figure>")
            return f'<a href="#{key}"'
        if target.suffix == ".md":
            key = anchor(rel)
            if key not in sections:
                # its headings below the page's own (its title is a heading of the embedded section)
                inner = re.sub(r"<(/?)h([1-4])\b", lambda h: f"<{h.group(1)}h{int(h.group(2)) + 2}", to_html(target.read_text()))
                csv = target.with_suffix(".csv")
                if csv.exists() and csv.stat().st_size <= MAX_EMBEDDED_CSV:
                    inner += csv_link(csv)
                sections[key] = f'<section id="{key}"><p><code>{html.escape(href)}</code></p>{inner}</section>'
            return f'<a href="#{key}"'
        if target.suffix == ".csv" and target.stat().st_size <= MAX_EMBEDDED_CSV:
            return f'<a download="{html.escape(target.name)}" href="{data_uri(target, "text/csv")}"'
        return m.group(0)

    body = LINK.sub(rewrite, body)
    return body, list(sections.values())


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def csv_table(path: Path) -> str:
    """A CSV as a Markdown table (cells escaped), after a line giving its size; a CSV over ``MAX_TABLE_ROWS``
    rows shows its first rows and says so (the download link carries all of it)."""
    frame = files.load_csv(path, keep_default_na=False, na_values=[""])
    cells = frame.astype(object).where(frame.notna(), "")
    cells = cells.map(lambda v: html.escape(v).replace("|", "\\|") if isinstance(v, str) else v)
    size = f"{len(frame)} rows × {len(frame.columns)} columns, from `{path.name}`"
    if len(frame) > MAX_TABLE_ROWS:
        size += f"; the first {MAX_TABLE_ROWS} rows shown, every row in the download below"
        cells = cells.head(MAX_TABLE_ROWS)
    return f"{size}.\n\n" + files.markdown_table(cells)


def csv_markdown(path: Path, title: str | None) -> str:
    """A CSV without a Markdown rendering of its own, as Markdown: its title, its size, the whole table."""
    return f"# {title or path.stem}\n\n" + csv_table(path)


def first_heading(text: str) -> str | None:
    m = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else None


def render(markdown_path: Path | None, csv_path: Path | None, title: str | None) -> str:
    """The HTML page of a Markdown file (its links embedded), of a CSV table, or of both (the CSV's Markdown
    rendering, written beside it by the table's stage, with the CSV as a download)."""
    if markdown_path is None and csv_path is None:
        raise files.InputError("give --markdown, --csv or both")
    if markdown_path is not None:
        if not markdown_path.exists():
            raise files.InputError(f"{markdown_path} does not exist; run the rule that produces it first")
        text = markdown_path.read_text()
        base = markdown_path.parent
    else:
        text = csv_markdown(csv_path, title)  # files.load_csv: a missing CSV says to run its rule
        base = csv_path.parent
    if title and markdown_path is not None and first_heading(text) is None:
        text = f"# {title}\n\n" + text
    body, sections = embed_links(to_html(text), base)
    if markdown_path is None:
        body = f'<div class="csv">{body}</div>'

    if csv_path is not None:
        if markdown_path is not None:  # the Markdown shows a selection or a reshaping: every number follows
            body += '\n<div class="csv">' + to_html("## Every number of the table\n\n" + csv_table(csv_path)) + "</div>"
        body += "\n" + csv_link(csv_path, f"Download the numbers ({csv_path.name})")
    if sections:
        body += '\n<div class="embedded"><h2 id="embedded">Figures and tables linked above</h2>\n' + "\n".join(sections) + "</div>"
    return page(title or first_heading(text) or (csv_path or markdown_path).stem, body)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--markdown", type=Path, default=None, help="the Markdown page (REPORT.md, or a table's .md)")
    p.add_argument("--csv", type=Path, default=None, help="the table's CSV (offered as a download; rendered when no --markdown)")
    p.add_argument("--title", default=None, help="the page title (default: the Markdown's first heading)")
    p.add_argument("--out", type=Path, required=True, help="the HTML page to write")
    a = p.parse_args(argv)
    text = render(a.markdown, a.csv, a.title)
    with files.atomic_path(a.out, suffix=".html") as tmp:
        tmp.write_text(text)
    log.info("wrote %s (%d bytes)", a.out, len(text))


if __name__ == "__main__":
    files.run_main(main)

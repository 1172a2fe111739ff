"""Copy finished full runs' reports into the repository, or hold a new run against the recorded one.

    python tools/record_reproduction.py --run <run folder of config.yaml> [--variant-run <run folder of config_d50.yaml>] --repo .
    python tools/record_reproduction.py --compare <run folder> [--against docs/reproduction/verdicts.csv]

Recording writes, for the run of ``config.yaml`` (the paper's stated setup):

- ``docs/REPRODUCTION.md``: the run's REPORT.md under a header naming the commit, the date and the resolved
  config it came from (links point back into the run folder's ``results/``, or to the copies in
  ``docs/figures/``);
- ``docs/reproduction/verdicts.csv``: every outcome of the run (each claim and each check pooled over the
  seeds, seed ``all``; each check per seed as detail), signed estimates and intervals (> 0: the paper's side);
- ``docs/reproduction/units.csv.gz``: the signed per-unit values behind every outcome, gzip with mtime 0
  (re-recording the same run writes the same bytes);
- ``docs/reproduction/tables/``: the run's tables (Tables 1 and 2 in the paper's layout, Tables 1-6 of the
  report), Markdown and CSV (a CSV over 50 kB gzipped), linked from the record;
- ``docs/reproduction/sensitivity.csv`` and the per-claim sensitivity figures (Figs 22-29, PNG) in
  ``docs/figures/``, where the run has a sensitivity study (``results/robustness/sensitivity.csv``);

the same record, verdicts and units for ``--variant-run`` (the run of ``config_d50.yaml``, MNIST whitened to
D = 50 with the per-row-mean energy: ``docs/REPRODUCTION_D50.md``, ``docs/reproduction/verdicts_d50.csv``,
``docs/reproduction/units_d50.csv.gz``); copies the main GMM and MNIST figures to ``docs/figures/``; and
rewrites the README's "Results" section (between its ``results:begin`` and ``results:end`` markers): one
row per claim with its outcome at the paper's setup, the report's sentence, and the variant's outcome where
it differs, then the gallery. Face images are never copied: they show real, named people (the sensitivity
figures are plots of outcomes, not faces).

``--compare`` is the cross-machine check: it reads the run's ``results/report/verdicts.csv`` and the
recorded one, exits 1 when a claim's outcome differs, when a check's pooled outcome is supports on one side
and contradicts on the other (its interval crossed zero: the effect changed sign), or when a row is missing
on one side; it lists apart, without failing, the pooled checks that moved between a decided outcome and
undetermined or negligible (an interval that ends near zero or near the SESOI, which round-off can carry
across: docs/METHOD.md#7-claims) and the per-seed outcomes that differ (detail), and it lists every number
that moved, saying whether each estimate stayed within the other side's interval. Not a pipeline rule: it
records and compares runs, it does not make one.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from musicsom.experiments.outcomes import OUTCOMES
from musicsom.pipeline import files

# file name -> what the README gallery says it shows
GALLERY = {
    "fig01_noise_bound.png": "Fig. 1: reconstruction error under activation noise vs the ||e||/sigma_min bound (GMM)",
    "fig02_naive_vs_consistent.png": "Fig. 2: a naive activation edit vs a consistent MUSIC move (GMM)",
    "fig05_inversion_vs_m.png": "Fig. 5: inversion error against the number of prototypes used (GMM)",
    "fig06_gmm_trajectories.png": "Fig. 6: informed convergence and cluster exploration on the GMM SOM",
    "fig07_mnist_som.png": "Fig. 7: the 30x30 toroidal MNIST SOM, decoded prototypes and U-matrix",
    "fig08_mnist_strips.png": "Fig. 8: 0 -> 1 by MUSIC and by linear interpolation, decoded",
    "fig10_mnist_confidence.png": "Fig. 10: class probabilities along 0 -> 1 for both methods",
    "fig16_vae_comparison.png": "MUSIC, linear and VAE interpolation on the same start and target",
    "fig21_kmeans_vs_som.png": "Beyond the paper: MUSIC on k-means prototypes vs on the SOM (MNIST Table 2 pairs)",
}
# the sensitivity study's per-claim figures (plots of outcomes across the settings, no face in them), PNG only
SENSITIVITY_FIGURES = ("fig2[2-8]_*.png", "fig29*.png", "fig30*.png")
# the face stage's figures (faces.smk): never copied, whatever a pattern above would match
FACE_FIGURE_PREFIXES = ("fig11_", "fig12_", "fig13_", "fig14_", "fig15_")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PIPELINE_CODE = ("src", "workflow", "Snakefile", "profiles", "pyproject.toml")

CLAIM_OUTCOMES = (*OUTCOMES, "mixed", "not judged")
DECIDED = {"supports", "contradicts"}  # the two outcomes that must not trade places between machines
# the columns the comparison and the README need (results/report/verdicts.csv of the outcome-based report)
NEEDED_COLUMNS = ("claim", "check", "seed", "verdict", "estimate", "low", "high")
# what a run folder must hold, and the rule that writes it
RUN_FILES = {
    "REPORT.md": ("results/REPORT.md", "report_markdown"),
    "verdicts": ("results/report/verdicts.csv", "report_markdown"),
    "units": ("results/report/units.csv", "report_markdown"),
    "config": ("results/report/config.json", "run_config"),
}


# ---------------------------------------------------------------------------------------------- reading a run


def split_row(line: str) -> list[str]:
    """The cells of one Markdown table row (a ``\\|`` inside a cell is text, as in Markdown)."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]


def outcomes_table(report: str) -> list[dict[str, str]]:
    """The rows of the '## Outcomes' table of a REPORT.md, each as {header: cell} (``#``, ``claim``, ``outcome``,
    ``sentence``, ...), in the report's order."""
    m = re.search(r"^## Outcomes[ \t]*\n(.*?)(?=^## |\Z)", report, flags=re.S | re.M)
    if not m:
        old = " (it has '## Verdicts': it was written before the outcome-based report)" if "\n## Verdicts" in report else ""
        raise files.InputError(f"REPORT.md has no '## Outcomes' section{old}: rerun its report_markdown rule "
                               "(snakemake --cores 2 results/REPORT.md in the run folder)")
    lines = [line for line in m.group(1).strip().splitlines() if line.lstrip().startswith("|")]
    if len(lines) < 2:
        raise files.InputError("REPORT.md's '## Outcomes' section holds no table: rerun its report_markdown rule")
    header = split_row(lines[0])
    for needed in ("#", "claim", "outcome", "sentence"):
        if needed not in header:
            raise files.InputError(f"REPORT.md's Outcomes table has no '{needed}' column (its columns: {header}): "
                                   "rerun its report_markdown rule")
    rows = []
    for line in lines[2:]:
        cells = split_row(line)
        if len(cells) != len(header):
            raise files.InputError(f"REPORT.md's Outcomes table has a row of {len(cells)} cells under {len(header)} "
                                   f"columns: {line[:80]}...: rerun its report_markdown rule")
        rows.append(dict(zip(header, cells)))
    return rows


def bare_outcome(cell: str) -> str:
    """'**supports**' or '▲ supports' -> 'supports'."""
    text = cell.replace("*", "").strip()
    for outcome in sorted(CLAIM_OUTCOMES, key=len, reverse=True):
        if text.endswith(outcome):
            return outcome
    return text


def read_verdicts(path: Path, fix: str) -> pd.DataFrame:
    """A verdicts.csv of the outcome-based report, with ``check`` '' on claim rows and ``seed`` a string.

    A CSV of the older verdict format (held / failed / inconclusive, no signed estimates) is refused with
    ``fix``: the two cannot be held against each other (an outcome is not a threshold verdict)."""
    frame = files.load_csv(path, dtype={"seed": str, "check": str})
    missing = [c for c in NEEDED_COLUMNS if c not in frame.columns]
    old = frame["verdict"].isin(["held", "failed", "inconclusive", "partly"]).any() if "verdict" in frame else False
    if missing or old:
        what = f"lacks the column(s) {', '.join(missing)}" if missing else "holds held / failed / inconclusive verdicts"
        raise files.InputError(f"{path} {what}: it is in the verdict format of before the outcome-based report; {fix}")
    frame = frame.assign(check=frame["check"].fillna(""), seed=frame["seed"].fillna("").astype(str))
    for column in ("estimate", "low", "high"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    pooled = frame[frame["seed"] == "all"]
    unknown = sorted(set(pooled["verdict"].dropna()) - set(CLAIM_OUTCOMES))
    if unknown:
        raise files.InputError(f"{path} holds outcomes {unknown}, not among {list(CLAIM_OUTCOMES)}; {fix}")
    return frame


def claim_outcomes(verdicts: pd.DataFrame) -> dict[int, str]:
    """{claim number: outcome} from the pooled claim rows (check '', seed 'all')."""
    rows = verdicts[(verdicts["check"] == "") & (verdicts["seed"] == "all")]
    return {int(r.claim): str(r.verdict) for r in rows.itertuples()}


def check_run(run: Path) -> tuple[list[dict[str, str]], pd.DataFrame]:
    """Refuse a run folder that lacks a file of the outcome-based report, or whose REPORT.md and verdicts.csv
    disagree; return its Outcomes table and its verdicts."""
    for what, (rel, rule) in RUN_FILES.items():
        if not (run / rel).exists():
            fix = ("pass the folder Snakemake ran in" if what == "config"
                   else f"finish the run, or rerun its {rule} rule (snakemake --cores 2 {rel} in {run})")
            raise files.InputError(f"{run / rel} does not exist: {fix}")
    table = outcomes_table((run / RUN_FILES["REPORT.md"][0]).read_text())
    verdicts = read_verdicts(run / RUN_FILES["verdicts"][0],
                             f"rerun the run's report_markdown rule (snakemake --cores 2 results/REPORT.md in {run})")
    recorded = claim_outcomes(verdicts)
    in_table = {int(row["#"]) for row in table if row["#"].isdigit()}
    if set(recorded) - in_table:
        raise files.InputError(
            f"{run}/results: verdicts.csv judges claims {sorted(set(recorded) - in_table)} that REPORT.md's Outcomes table "
            "lacks: the two are from different runs of the report rule; rerun it (snakemake --cores 2 --force results/REPORT.md)")
    for row in table:
        number = int(row["#"]) if row["#"].isdigit() else None
        if number is None or number not in recorded or bare_outcome(row["outcome"]) != recorded[number]:
            raise files.InputError(
                f"{run}/results: REPORT.md says claim {row['#']} is {bare_outcome(row['outcome'])!r}, verdicts.csv says "
                f"{recorded.get(number, 'nothing')!r}: the two are from different runs of the report rule; rerun it "
                "(snakemake --cores 2 --force results/REPORT.md)")
    return table, verdicts


# ---------------------------------------------------------------------------------------------- recording


def results_rows(table: list[dict[str, str]], outcomes: dict[int, str], variant: dict[int, str] | None,
                 variant_name: str) -> str:
    """The README's table: one row per claim with its outcome at the paper's setup (this run) and the report's
    sentence, and, with ``variant``, a column with the variant run's outcome where it differs ("same" where not,
    "—" where the variant did not judge the claim)."""
    head = ["#", "claim", "outcome (the paper's setup)", "sentence"] + ([variant_name] if variant is not None else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table:
        number = int(row["#"])
        cells = [row["#"], row["claim"], f"**{outcomes[number]}**", row["sentence"]]
        if variant is not None:
            v = variant.get(number)
            cells.append("—" if v is None else "same" if v == outcomes[number] else f"**{v}**")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def readme_results(table: str, stamp: str, figures: list[str], variant: bool) -> str:
    gallery = "\n\n".join(f"![{GALLERY[name]}](docs/figures/{name})  \n*{GALLERY[name]}*" for name in figures)
    about_variant = ("The last column is the outcome of a full run of `config_d50.yaml` (MNIST whitened to D = 50, the\n"
                     "per-row-mean energy; [docs/REPRODUCTION_D50.md](docs/REPRODUCTION_D50.md)) where it differs from the\n"
                     "paper's setup (\"same\" where it does not).\n") if variant else ""
    command = ("python tools/record_reproduction.py --run <run folder> "
               + ("--variant-run <run folder of config_d50.yaml> " if variant else "") + "--repo .")
    return (
        f"{BEGIN}\n"
        f"Outcomes of one full run of `config.yaml`, the paper's stated setup ({stamp}). Each claim is supported,\n"
        "contradicted, mixed, negligible or undetermined by effects signed towards the paper, with hierarchical bootstrap\n"
        "intervals held against a smallest effect of interest; the numbers behind each outcome, the rules and the\n"
        "deviations from the paper are in [docs/REPRODUCTION.md](docs/REPRODUCTION.md), every outcome in\n"
        "[docs/reproduction/verdicts.csv](docs/reproduction/verdicts.csv) and the per-unit values behind them in\n"
        f"`docs/reproduction/units.csv.gz`. {about_variant}Regenerated by\n`{command}` after full runs.\n\n"
        f"{table}\n\n"
        "Gallery (GMM and MNIST only: no face image is kept in the repository):\n\n"
        f"{gallery}\n"
        f"{END}"
    )


def git(repo: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def setup_of(config: dict) -> str:
    """The settings that tell the paper's setup from the D = 50 variant, as the run resolved them ('' if absent)."""
    parts = []
    for section, name in (("mnist", "MNIST"), ("faces", "faces")):
        s = config.get(section) or {}
        music = s.get("music") or {}
        if "per_row_mean" in music:
            dim = f"whitening D = {s['dim']}, " if "dim" in s else ""
            energy = "per-row-mean" if music["per_row_mean"] else "plain"
            alpha = f", alpha = {music['alpha']}" if "alpha" in music else ""
            parts.append(f"{name} {dim}{energy} energy{alpha}")
    return "; ".join(parts)


def record_one(run: Path, out: Path, commit: str, dirty: str, now, what: str, copied: tuple[str, ...] = (),
               tables: tuple[str, ...] = ()) -> None:
    """Copy one run's REPORT.md under a header to ``out``; links to the figures in ``copied`` point to their copies
    in docs/figures/, to the tables in ``tables`` to docs/reproduction/tables/, every other link into the run's
    results/."""
    # the configuration the run resolved (config.yaml, a --configfile on top, the schema's defaults), as its
    # run_config rule wrote it: a variant's folder holds no config.yaml of its own
    config_file = run / RUN_FILES["config"][0]
    body = (run / RUN_FILES["REPORT.md"][0]).read_text()

    def relink(m: re.Match) -> str:
        target = m.group(1)
        if target.startswith("figures/") and target[len("figures/"):] in copied:
            return f"]({target})"  # docs/figures/<name>, relative to docs/
        if target.startswith("tables/") and target[len("tables/"):] in tables:
            return f"](reproduction/{target})"  # docs/reproduction/tables/<name>
        return f"](results/{target})"

    # links in REPORT.md are relative to results/
    body = re.sub(r"\]\((?!https?:|#)([^)]+)\)", relink, body)
    body = body.replace("# Reproduction report", "## Reproduction report", 1)
    setup = setup_of(files.load_json(config_file))
    header = (
        f"# Reproduction record: {what}\n\n"
        f"Copied by `python tools/record_reproduction.py` on "
        f"{now:%Y-%m-%d %H:%M} UTC from a full run of commit `{commit}`"
        f"{' (with uncommitted changes)' if dirty not in ('', 'unknown') else ''}, "
        f"resolved config (`results/report/config.json`) sha256 `{hashlib.sha256(config_file.read_bytes()).hexdigest()[:16]}`"
        f"{f' ({setup})' if setup else ''}. "
        + ("Its tables (Tables 1 and 2 in the paper's layout, and ours) are in [reproduction/tables/](reproduction/tables/). "
           if tables else "")
        + "Links below (`results/...`) refer to that run's folder; regenerate everything with the README's first command.\n\n"
    )
    with files.atomic_path(out, suffix=".md") as tmp:
        tmp.write_text(header + body)


def write_gzip(source: Path, out: Path) -> None:
    """``source`` (a CSV, or a .csv.gz) gzipped to ``out`` with mtime 0 and a fixed level and name: the same
    content gives the same bytes, so a re-recorded run leaves the file unchanged."""
    data = source.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    with files.atomic_path(out, suffix=".gz") as tmp, open(tmp, "wb") as raw:
        with gzip.GzipFile(filename=out.name.removesuffix(".gz"), mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(data)


TABLE_GZIP_BYTES = 50_000  # a table CSV larger than this is committed gzipped


def copy_tables(run: Path, dest: Path) -> list[str]:
    """Copy the run's tables (results/tables/*.md and *.csv: Tables 1 and 2 in the paper's layout, ours 1-6) to
    ``dest``, a CSV over ``TABLE_GZIP_BYTES`` gzipped; return the names of the Markdown tables copied (what the
    report links to). Numbers only: no table holds a face image."""
    source = run / "results" / "tables"
    if not source.is_dir():
        return []
    dest.mkdir(parents=True, exist_ok=True)
    linked = []
    for src in sorted(source.iterdir()):
        if src.suffix == ".md":
            shutil.copyfile(src, dest / src.name)
            linked.append(src.name)
        elif src.suffix == ".csv":
            if src.stat().st_size > TABLE_GZIP_BYTES:
                write_gzip(src, dest / f"{src.name}.gz")
            else:
                shutil.copyfile(src, dest / src.name)
    return linked


def copy_figures(run: Path, gallery: Path, names: list[str]) -> list[str]:
    """Copy the run's figures named ``names`` (face figures never) to ``gallery``; return the names copied."""
    copied = []
    for name in names:
        src = run / "results" / "figures" / name
        if name.startswith(FACE_FIGURE_PREFIXES) or not src.exists():
            continue
        gallery.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, gallery / name)
        copied.append(name)
    return copied


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--run", help="the folder Snakemake ran config.yaml (the paper's setup) in (holds results/)")
    mode.add_argument("--compare", metavar="RUN", help="a run folder to hold against the recorded outcomes")
    p.add_argument("--variant-run", default=None,
                   help="the folder config_d50.yaml ran in (the D = 50 per-row-mean variant, recorded beside the default)")
    p.add_argument("--against", default=None, help="the recorded outcomes (default: docs/reproduction/verdicts.csv of --repo)")
    p.add_argument("--repo", default=".", help="the repository checkout to write docs/ and README.md into")
    p.add_argument(
        "--commit",
        default=None,
        help="the commit the run was made from, when HEAD has moved on since (default: HEAD of --repo)",
    )
    a = p.parse_args(argv)
    repo = Path(a.repo).resolve()
    if a.compare:
        against = Path(a.against) if a.against else repo / "docs" / "reproduction" / "verdicts.csv"
        code = run_compare(Path(a.compare).resolve(), against)
        if code:
            raise SystemExit(code)
        return
    if a.against:
        p.error("--against goes with --compare")
    run = Path(a.run).resolve()
    variant_run = Path(a.variant_run).resolve() if a.variant_run else None
    readme = repo / "README.md"
    # every check before the first write, so a refusal leaves docs/ and README.md as they were
    table, verdicts = check_run(run)
    variant = None
    if variant_run is not None:
        if variant_run == run:
            raise files.InputError("--variant-run names the same folder as --run: pass the folder config_d50.yaml ran in")
        _, variant_verdicts = check_run(variant_run)
        if (run / RUN_FILES["config"][0]).read_bytes() == (variant_run / RUN_FILES["config"][0]).read_bytes():
            raise files.InputError(f"{variant_run} ran the same configuration as {run}: pass the folder config_d50.yaml "
                                   "ran in (snakemake --cores 2 --directory runs/d50 --configfile config_d50.yaml)")
        variant = claim_outcomes(variant_verdicts)
    if not readme.exists():
        raise files.InputError(f"{readme} does not exist: --repo must name the repository checkout")
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise files.InputError(f"{readme} lacks the {BEGIN} ... {END} markers of its Results section: add them back")

    if a.commit:
        commit, dirty = a.commit, ""
    else:
        commit = git(repo, "rev-parse", "HEAD")
        # only the pipeline's code counts: docs/ and README.md are what this command rewrites
        dirty = git(repo, "status", "--porcelain", "--untracked-files=no", "--", *PIPELINE_CODE)
    now = datetime.now(timezone.utc)
    docs, record = repo / "docs", repo / "docs" / "reproduction"
    record.mkdir(parents=True, exist_ok=True)
    written = []

    figures = docs / "figures"
    gallery = copy_figures(run, figures, list(GALLERY))
    sensitivity = run / "results" / "robustness" / "sensitivity.csv"
    study_figures = []
    if sensitivity.exists():
        shutil.copyfile(sensitivity, record / "sensitivity.csv")
        written.append("docs/reproduction/sensitivity.csv")
        names = sorted({f.name for pattern in SENSITIVITY_FIGURES for f in (run / "results" / "figures").glob(pattern)})
        study_figures = copy_figures(run, figures, names)

    tables = copy_tables(run, record / "tables")
    if tables:
        written.append("docs/reproduction/tables/")
    record_one(run, docs / "REPRODUCTION.md", commit, dirty, now, "the paper's stated setup (`config.yaml`)",
               tuple(gallery + study_figures), tuple(tables))
    shutil.copyfile(run / RUN_FILES["verdicts"][0], record / "verdicts.csv")
    write_gzip(run / RUN_FILES["units"][0], record / "units.csv.gz")
    written += ["docs/REPRODUCTION.md", "docs/reproduction/verdicts.csv", "docs/reproduction/units.csv.gz"]
    if variant_run is not None:
        record_one(variant_run, docs / "REPRODUCTION_D50.md", commit, dirty, now,
                   "the D = 50 per-row-mean variant (`config_d50.yaml`)")
        shutil.copyfile(variant_run / RUN_FILES["verdicts"][0], record / "verdicts_d50.csv")
        write_gzip(variant_run / RUN_FILES["units"][0], record / "units_d50.csv.gz")
        written += ["docs/REPRODUCTION_D50.md", "docs/reproduction/verdicts_d50.csv", "docs/reproduction/units_d50.csv.gz"]

    rows = results_rows(table, claim_outcomes(verdicts), variant, "D = 50 variant")
    stamp = f"commit `{commit[:10]}`, {now:%Y-%m-%d}"
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    with files.atomic_path(readme, suffix=".md") as tmp:
        tmp.write_text(text[:start] + readme_results(rows, stamp, gallery, variant is not None)
                       + text[stop:])
    print(f"wrote {', '.join(written)}, {len(gallery)} gallery and {len(study_figures)} sensitivity figures in "
          "docs/figures/ and the README's Results section")
    # files of an earlier recording that this one did not rewrite: they describe another run
    stale = [rel for rel in ("docs/REPRODUCTION_D50.md", "docs/reproduction/verdicts_d50.csv",
                             "docs/reproduction/units_d50.csv.gz", "docs/reproduction/sensitivity.csv",
                             "docs/REPRODUCTION_PAPER_SETUP.md", "docs/reproduction/verdicts_paper_setup.csv")
             if (repo / rel).exists() and rel not in written]
    if stale:
        print("left as they were, from an earlier recording (delete them, or record the run they belong to): "
              + ", ".join(stale))


# ---------------------------------------------------------------------------------------------- comparing


NEAR_BOUNDARY = "decided on one side only"  # a pooled check's move that is listed and does not fail


def where_of(claim, check: str, seed: str) -> str:
    return f"claim {claim}" + (f", check '{check}'" if check else "") + (f", seed {seed}" if seed != "all" else "")


def compare(run_verdicts: pd.DataFrame, recorded: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """The outcomes that differ, as (kind, line), and the numbers that moved, of a run against the recorded run.

    Kinds: "claim outcome" (a claim's outcome differs), "flip across zero" (a pooled check supports on one side
    and contradicts on the other), "missing" (a row on one side only): these fail the comparison;
    ``NEAR_BOUNDARY`` (any other change of a pooled check's outcome: between a decided outcome and undetermined
    or negligible, or between those two) and "per seed" (a per-seed outcome that differs: detail) do not.
    Each line ends with its kind in brackets.

    The numbers: every row whose signed estimate differs (or is measured on one side only), with a column
    ``where`` that says whether each side's estimate lies within the other side's interval.
    """
    key = ["claim", "check", "seed"]
    m = run_verdicts.merge(recorded, on=key, how="outer", suffixes=("_run", "_recorded"), indicator="side")
    m = m.sort_values(key, key=lambda col: col.astype(str), kind="stable")
    found = []
    for r in m.itertuples():
        where = where_of(r.claim, r.check, r.seed)
        if r.side != "both":
            found.append(("missing", f"{where}: only in the {'run' if r.side == 'left_only' else 'record'} (missing)"))
            continue
        vr, vc = str(r.verdict_run), str(r.verdict_recorded)
        if vr == vc:
            continue
        if not r.check:
            kind = "claim outcome"
        elif r.seed != "all":
            kind = "per seed"
        elif {vr, vc} == DECIDED:
            kind = "flip across zero"
        else:
            # an interval that ends near zero or near the SESOI on one side (docs/METHOD.md#7-claims)
            kind = NEAR_BOUNDARY
        found.append((kind, f"{where}: {vc} in the record, {vr} in this run ({kind})"))

    both = m[m["side"] == "both"].copy()
    er, ec = both["estimate_run"], both["estimate_recorded"]
    one_side = er.isna() != ec.isna()
    scale = pd.concat([er.abs(), ec.abs()], axis=1).max(axis=1).where(lambda x: x > 0, 1.0)
    both["relative"] = (er - ec).abs() / scale
    both = both[one_side | (both["relative"] > 1e-12)].copy()

    def within(est, low, high):
        return (est >= low) & (est <= high)

    inside = (within(both["estimate_run"], both["low_recorded"], both["high_recorded"])
              & within(both["estimate_recorded"], both["low_run"], both["high_run"]))
    has_interval = both[["low_run", "high_run", "low_recorded", "high_recorded"]].notna().all(axis=1)
    both["where"] = "outside the interval"
    both.loc[inside, "where"] = "moved within the interval"
    both.loc[~has_interval, "where"] = "no interval"
    both.loc[both["estimate_run"].isna() != both["estimate_recorded"].isna(), "where"] = "measured on one side only"
    order = both["where"].map({"measured on one side only": 0, "outside the interval": 1, "no interval": 2,
                               "moved within the interval": 3})
    both = both.assign(order=order).sort_values(["order", "relative"], ascending=[True, False])
    columns = key + ["verdict_recorded", "verdict_run", "estimate_recorded", "low_recorded", "high_recorded",
                     "estimate_run", "low_run", "high_run", "relative", "where"]
    return found, both[columns].rename(columns={"verdict_recorded": "outcome_recorded", "verdict_run": "outcome_run"})


def run_compare(run: Path, against: Path) -> int:
    path = run / RUN_FILES["verdicts"][0]
    if not path.exists():
        raise files.InputError(f"{path} does not exist: finish the run (its report_markdown rule writes it)")
    if not against.exists():
        raise files.InputError(f"{against} does not exist: pass --against the recorded docs/reproduction/verdicts.csv")
    recorded = read_verdicts(against, "re-record it from the run it came from (python tools/record_reproduction.py "
                                      "--run <run folder> --repo .), or pass --against a newer record")
    this = read_verdicts(path, f"rerun the run's report_markdown rule (snakemake --cores 2 --force results/REPORT.md in {run})")
    found, moved = compare(this, recorded)
    with pd.option_context("display.max_rows", 200, "display.width", 250, "display.max_colwidth", 50,
                           "display.float_format", "{:.4g}".format):
        outside = int((moved["where"] != "moved within the interval").sum())
        print(f"{len(moved)} numbers moved ({len(moved) - outside} within the other side's interval; the others "
              "first, then by relative change):")
        print(moved.head(200).to_string(index=False) if len(moved) else "  none")
    pooled_checks = int(((recorded["check"] != "") & (recorded["seed"] == "all")).sum())
    failing = [line for kind, line in found if kind not in (NEAR_BOUNDARY, "per seed")]
    near = [line for kind, line in found if kind == NEAR_BOUNDARY]
    per_seed = [line for kind, line in found if kind == "per seed"]
    if per_seed:
        print(f"\n{len(per_seed)} per-seed outcomes differ (detail: the pooled outcome decides; these do not fail "
              "the comparison):")
        print("\n".join(f"  {line}" for line in per_seed))
    if near:
        print(f"\n{len(near)} of the record's {pooled_checks} pooled check outcomes moved between a decided outcome and "
              "undetermined or negligible (an interval that ends near zero or the SESOI; these do not fail the comparison):")
        print("\n".join(f"  {line}" for line in near))
    if failing:
        print(f"\n{len(failing)} outcomes disagree (claim outcomes, supports against contradicts, or missing):")
        print("\n".join(f"  {line}" for line in failing))
        return 1
    print("\nevery claim outcome agrees with the record, and no pooled check supports on one side and contradicts on the other")
    return 0


if __name__ == "__main__":
    files.run_main(main)

"""Copy finished full runs' reports into the repository, or hold a new run against the recorded one.

    python tools/record_reproduction.py --run <default run folder> [--paper-run <paper-setup run folder>] --repo .
    python tools/record_reproduction.py --compare <run folder> [--against docs/reproduction/verdicts.csv]

Recording writes ``docs/REPRODUCTION.md`` (the default run's REPORT.md under a header naming the
commit, the date and the config it came from; links point back into the run folder's ``results/``),
``docs/reproduction/verdicts.csv`` (every verdict of that run: each claim and check, over the seeds
and per seed, with its number and interval), the same two for ``--paper-run`` (the run of
``config_paper_setup.yaml``: ``docs/REPRODUCTION_PAPER_SETUP.md`` and
``docs/reproduction/verdicts_paper_setup.csv``), copies the main GMM and MNIST figures to
``docs/figures/`` and rewrites the README's "Results" section (between its ``results:begin`` and
``results:end`` markers) with the verdict table, a column for the paper setup, and that gallery.
Face figures are never copied: they show real, named people.

``--compare`` is the cross-machine check: it reads the run's ``results/report/verdicts.csv`` and the
recorded one, exits 1 when any claim verdict differs (the verdict table) or when a check is held on one
side and failed on the other, and lists every number that moved (round-off moves the numbers of
trained models, bootstrap intervals and p-values; a verdict must not move). A check that is held or
failed on one side and inconclusive on the other is listed apart and does not fail the comparison: its
interval ends near the threshold, which is what inconclusive means, and round-off can carry such an
interval across (docs/METHOD.md#7-claims). Not a pipeline rule: it records and compares runs, it does
not make one.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

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
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PIPELINE_CODE = ("src", "workflow", "Snakefile", "profiles", "pyproject.toml")


def verdict_table(report: str) -> str:
    """The '## Verdicts' table of a REPORT.md, as it stands there."""
    m = re.search(r"^## Verdicts\n(.*?)(?=^## )", report, flags=re.S | re.M)
    if not m:
        raise files.InputError("REPORT.md has no '## Verdicts' section: was it written by the report rule?")
    return "\n".join(line for line in m.group(1).strip().splitlines() if line.startswith("|"))


def with_paper_column(table: str, paper: dict[int, str] | None) -> str:
    """The verdict table with a last column of the paper-setup run's claim verdicts (``paper`` by claim number)."""
    if paper is None:
        return table
    lines = table.splitlines()
    out = [lines[0] + " verdict of the paper-setup run |", lines[1] + "---|"]
    for line in lines[2:]:
        number = line.split("|")[1].strip()
        v = paper.get(int(number)) if number.isdigit() else None
        out.append(line + (f" **{v}** |" if v else " — |"))
    return "\n".join(out)


def claim_verdicts(verdicts: pd.DataFrame) -> dict[int, str]:
    rows = verdicts[(verdicts["check"].fillna("") == "") & (verdicts["seed"].astype(str) == "all")]
    return {int(r.claim): str(r.verdict) for r in rows.itertuples()}


def readme_results(table: str, stamp: str, figures: list[str], paper: bool = False) -> str:
    gallery = "\n\n".join(f"![{GALLERY[name]}](docs/figures/{name})  \n*{GALLERY[name]}*" for name in figures)
    both = (" and one of `config_paper_setup.yaml` (the paper's stated setup: full-dimensional whitening,\n"
            "the plain energy; [docs/REPRODUCTION_PAPER_SETUP.md](docs/REPRODUCTION_PAPER_SETUP.md))") if paper else ""
    return (
        f"{BEGIN}\n"
        f"Verdicts of one full run of `config.yaml`{both} ({stamp}); the numbers behind each verdict, the rules\n"
        "that turn them into verdicts and the deviations from the paper are in\n"
        "[docs/REPRODUCTION.md](docs/REPRODUCTION.md). Regenerated by\n"
        "`python tools/record_reproduction.py --run <run folder> --paper-run <paper-setup run folder> --repo .`"
        " after full runs.\n\n"
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


def record_one(run: Path, out: Path, commit: str, dirty: str, now, what: str) -> str:
    """Copy one run's REPORT.md under a header to ``out``; return the report's text."""
    # the configuration the run resolved (config.yaml, a --configfile on top, the schema's defaults), as its
    # run_config rule wrote it: a paper-setup folder holds no config.yaml of its own
    report, config_file = run / "results" / "REPORT.md", run / "results" / "report" / "config.json"
    body = report.read_text()
    # links in REPORT.md are relative to results/; in docs/ they name the run's files
    body = re.sub(r"\]\((?!https?:)([^)]+)\)", lambda m: f"](results/{m.group(1)})", body)
    body = body.replace("# Reproduction report", "## Reproduction report", 1)
    header = (
        "# Reproduction record" + (f": {what}" if what else "") + "\n\n"
        f"Copied by `python tools/record_reproduction.py` on "
        f"{now:%Y-%m-%d %H:%M} UTC from a full run of commit `{commit}`"
        f"{' (with uncommitted changes)' if dirty not in ('', 'unknown') else ''}, "
        f"resolved config (`results/report/config.json`) sha256 `{hashlib.sha256(config_file.read_bytes()).hexdigest()[:16]}`. "
        "Links below (`results/...`) refer to that run's folder; regenerate everything with the README's first command.\n\n"
    )
    with files.atomic_path(out, suffix=".md") as tmp:
        tmp.write_text(header + body)
    return body


def check_run(run: Path) -> None:
    for needed, fix in ((run / "results" / "REPORT.md", "finish a full run first"),
                        (run / "results" / "report" / "verdicts.csv", "finish a full run first"),
                        (run / "results" / "report" / "config.json", "pass the folder Snakemake ran in")):
        if not needed.exists():
            raise files.InputError(f"{needed} does not exist: {fix} (snakemake --cores 2 in {run})")
    verdict_table((run / "results" / "REPORT.md").read_text())  # refuses a REPORT.md without its verdicts


NEAR_THRESHOLD = "one side inconclusive"  # the one kind of difference that does not fail the comparison


def compare(run_verdicts: pd.DataFrame, recorded: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """The verdicts that differ, as (kind, line), and the numbers that moved, of a run against the recorded run.

    A claim's verdict must be the same; a check's verdict (over the seeds or on one seed) differs wherever
    either side says held or failed and the other does not say the same. The kind is "claim verdict",
    "opposite verdicts" (held against failed), ``NEAR_THRESHOLD`` or "missing"; each line ends with it.
    Both inconclusive is agreement.
    """
    key = ["claim", "check", "seed"]
    a = run_verdicts.assign(check=run_verdicts["check"].fillna(""), seed=run_verdicts["seed"].astype(str))
    b = recorded.assign(check=recorded["check"].fillna(""), seed=recorded["seed"].astype(str))
    m = a.merge(b, on=key, how="outer", suffixes=("_run", "_recorded"), indicator="side")
    bad = []
    for r in m.itertuples():
        where = f"claim {r.claim}" + (f", check '{r.check}'" if r.check else "") + (f", seed {r.seed}" if r.seed != "all" else "")
        if r.side != "both":
            bad.append(("missing", f"{where}: only in the {'run' if r.side == 'left_only' else 'recorded run'} (missing)"))
            continue
        vr, vc = r.verdict_run, r.verdict_recorded
        decided = {"held", "failed"}
        if (not r.check and vr != vc) or (r.check and vr != vc and (vr in decided or vc in decided)):
            # held against failed is the serious kind; a decided check against an inconclusive one is an
            # interval that ends near its threshold on one side (docs/METHOD.md#7-claims)
            kind = "claim verdict" if not r.check else "opposite verdicts" if {vr, vc} == decided else NEAR_THRESHOLD
            bad.append((kind, f"{where}: {vc} in the record, {vr} in this run ({kind})"))
    both = m[(m["side"] == "both") & m["value_run"].notna() & m["value_recorded"].notna()].copy()
    both["moved"] = (both["value_run"] - both["value_recorded"]).abs()
    scale = both[["value_run", "value_recorded"]].abs().max(axis=1).where(lambda x: x > 0, 1.0)
    both["relative"] = both["moved"] / scale
    moved = both[both["relative"] > 1e-12].sort_values("relative", ascending=False)
    return bad, moved[key + ["statistic_run", "value_recorded", "value_run", "relative", "verdict_recorded", "verdict_run"]]


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--run", help="the folder Snakemake ran config.yaml in (holds results/)")
    mode.add_argument("--compare", metavar="RUN", help="a run folder to hold against the recorded verdicts")
    p.add_argument("--paper-run", default=None, help="the folder config_paper_setup.yaml ran in (recorded beside the default)")
    p.add_argument("--against", default=None, help="the recorded verdicts (default: docs/reproduction/verdicts.csv of --repo)")
    p.add_argument("--repo", default=".", help="the repository checkout to write docs/ and README.md into")
    p.add_argument(
        "--commit",
        default=None,
        help="the commit the run was made from, when HEAD has moved on since (default: HEAD of --repo)",
    )
    a = p.parse_args(argv)
    repo = Path(a.repo).resolve()
    if a.compare:
        code = run_compare(Path(a.compare).resolve(), Path(a.against) if a.against else repo / "docs" / "reproduction" / "verdicts.csv")
        if code:
            raise SystemExit(code)
        return
    run = Path(a.run).resolve()
    paper_run = Path(a.paper_run).resolve() if a.paper_run else None
    readme = repo / "README.md"
    # every check before the first write, so a refusal leaves docs/ and README.md as they were
    for r in filter(None, (run, paper_run)):
        check_run(r)
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
    (repo / "docs" / "reproduction").mkdir(parents=True, exist_ok=True)
    body = record_one(run, repo / "docs" / "REPRODUCTION.md", commit, dirty, now, "")
    shutil.copyfile(run / "results" / "report" / "verdicts.csv", repo / "docs" / "reproduction" / "verdicts.csv")
    paper = None
    if paper_run is not None:
        record_one(paper_run, repo / "docs" / "REPRODUCTION_PAPER_SETUP.md", commit, dirty, now,
                   "the paper's stated setup (config_paper_setup.yaml)")
        shutil.copyfile(paper_run / "results" / "report" / "verdicts.csv",
                        repo / "docs" / "reproduction" / "verdicts_paper_setup.csv")
        paper = claim_verdicts(pd.read_csv(paper_run / "results" / "report" / "verdicts.csv", dtype={"seed": str}))
    table = with_paper_column(verdict_table(body), paper)
    gallery = repo / "docs" / "figures"
    gallery.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in GALLERY:
        src = run / "results" / "figures" / name
        if src.exists():
            shutil.copyfile(src, gallery / name)
            copied.append(name)
    stamp = f"commit `{commit[:10]}`, {now:%Y-%m-%d}"
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    with files.atomic_path(readme, suffix=".md") as tmp:
        tmp.write_text(text[:start] + readme_results(table, stamp, copied, paper is not None) + text[stop:])
    print(f"wrote docs/REPRODUCTION.md{' and docs/REPRODUCTION_PAPER_SETUP.md' if paper else ''}, the verdict CSVs, "
          f"{len(copied)} gallery figures and the README's Results section")


def run_compare(run: Path, against: Path) -> int:
    path = run / "results" / "report" / "verdicts.csv"
    for needed in (path, against):
        if not needed.exists():
            raise files.InputError(f"{needed} does not exist: finish the run (its report_markdown rule writes it), "
                                 "or pass --against the recorded docs/reproduction/verdicts.csv")
    recorded = pd.read_csv(against, dtype={"seed": str})
    bad, moved = compare(pd.read_csv(path, dtype={"seed": str}), recorded)
    with pd.option_context("display.max_rows", 200, "display.width", 200, "display.max_colwidth", 60):
        print(f"{len(moved)} numbers moved (largest relative change first):")
        print(moved.head(200).to_string(index=False) if len(moved) else "  none")
    n_checks = int(recorded["check"].notna().sum())
    failing = [line for kind, line in bad if kind != NEAR_THRESHOLD]
    near = [line for kind, line in bad if kind == NEAR_THRESHOLD]
    if near:
        print(f"\n{len(near)} of the record's {n_checks} check verdicts are decided on one side and inconclusive on the other "
              "(an interval that ends near its threshold; these do not fail the comparison):")
        print("\n".join(f"  {b}" for b in near))
    if failing:
        print(f"\n{len(failing)} verdicts disagree (claim verdicts, held against failed, or missing):")
        print("\n".join(f"  {b}" for b in failing))
        return 1
    print("\nevery claim verdict agrees with the record, and no check is held on one side and failed on the other")
    return 0


if __name__ == "__main__":
    files.run_main(main)

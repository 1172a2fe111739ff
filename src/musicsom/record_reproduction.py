"""Copy a finished full run's report into the repository: docs/REPRODUCTION.md plus the figure gallery.

    python -m musicsom.record_reproduction --run <run folder holding results/> --repo .

Writes ``docs/REPRODUCTION.md`` (the run's REPORT.md under a header naming the commit, the date and
the config it came from; links point back into the run folder's ``results/``) and copies the
main GMM and MNIST figures to ``docs/figures/`` for the README gallery. Face figures are never
copied: they show real, named people. Not a pipeline rule: it records a run, it does not make one.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from . import _io

GALLERY = [
    "fig01_noise_bound.png",
    "fig02_naive_vs_consistent.png",
    "fig05_inversion_vs_m.png",
    "fig06_gmm_trajectories.png",
    "fig07_mnist_som.png",
    "fig08_mnist_strips.png",
    "fig10_mnist_confidence.png",
    "fig16_vae_comparison.png",
]


def git(repo: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--run", required=True, help="the folder Snakemake ran in (holds config.yaml and results/)")
    p.add_argument("--repo", default=".", help="the repository checkout to write docs/ into")
    a = p.parse_args(argv)
    run, repo = Path(a.run).resolve(), Path(a.repo).resolve()
    report = run / "results" / "REPORT.md"
    if not report.exists():
        raise _io.InputError(f"{report} does not exist: finish a full run first (snakemake --cores 2 in {run})")
    config = (run / "config.yaml").read_bytes()
    commit = git(repo, "rev-parse", "HEAD")
    dirty = git(repo, "status", "--porcelain", "--untracked-files=no")
    body = report.read_text()
    # links in REPORT.md are relative to results/; in docs/ they name the run's files
    body = re.sub(r"\]\((?!https?:)([^)]+)\)", lambda m: f"](results/{m.group(1)})", body)
    body = body.replace("# Reproduction report", "## Reproduction report", 1)
    header = (
        "# Reproduction record\n\n"
        f"Copied by `python -m musicsom.record_reproduction --run {a.run}` on "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from a full run of commit `{commit}`"
        f"{' (with uncommitted changes)' if dirty not in ('', 'unknown') else ''}, "
        f"config.yaml sha256 `{hashlib.sha256(config).hexdigest()[:16]}`. "
        "Links below (`results/...`) refer to that run's folder; regenerate everything with the README's first command.\n\n"
    )
    out = repo / "docs" / "REPRODUCTION.md"
    with _io.atomic_path(out, suffix=".md") as tmp:
        tmp.write_text(header + body)
    gallery = repo / "docs" / "figures"
    gallery.mkdir(parents=True, exist_ok=True)
    for name in GALLERY:
        src = run / "results" / "figures" / name
        if src.exists():
            shutil.copyfile(src, gallery / name)
    print(f"wrote {out} and {len(list(gallery.glob('*.png')))} gallery figures")


if __name__ == "__main__":
    _io.run_main(main)

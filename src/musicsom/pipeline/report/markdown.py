"""Stage: write results/REPORT.md, claim by claim, from the checks the claims stages recorded.

    python -m musicsom.pipeline.report.markdown --config results/report/config.json \
        --checks results/gmm/checks.json results/mnist/seed0/checks.json ... results/kmeans/checks.json \
        --benchmarks results/benchmarks --evidence results/report/evidence.csv --out results/REPORT.md

``--config`` is the run's effective configuration (validated, schema defaults filled, ``--config``
overrides applied), recorded by the workflow. No number in the report is typed by hand: each measured
value comes from a checks file, which names the result file it was read from, and is also written with
that source to the evidence CSV that the report cites. The rules are in ``docs/METHOD.md#7-claims``.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from musicsom.experiments import claims as R
from musicsom.pipeline import _io
from musicsom.pipeline._claims import load_checks

PACKAGES = ["numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "statsmodels", "torch", "snakemake", "pooch"]


def fmt(v: float) -> str:
    return f"{v:.4g}"


def read_benchmark_jobs(bench_dir: Path) -> pd.DataFrame:
    """One row per Snakemake benchmark TSV under ``bench_dir``: stage (its first folder), job, s, max_rss, cpu_time."""
    rows = []
    for tsv in sorted(Path(bench_dir).rglob("*.tsv")):
        frame = pd.read_csv(tsv, sep="\t")
        if frame.empty:
            continue
        rec = frame.iloc[-1].to_dict()  # one line per repeat; Snakemake writes one unless asked for more
        rel = tsv.relative_to(bench_dir)
        rec["stage"] = rel.parts[0] if len(rel.parts) > 1 else "(top)"
        rec["job"] = str(rel.with_suffix(""))
        rows.append(rec)
    jobs = pd.DataFrame(rows, columns=None if rows else ["stage", "job", "s", "max_rss", "cpu_time"])
    for col in ("s", "max_rss", "cpu_time"):
        jobs[col] = pd.to_numeric(jobs.get(col), errors="coerce")
    return jobs


def stage_times(bench_dir: Path) -> pd.DataFrame:
    """Wall time and peak memory per stage from Snakemake's benchmark TSVs."""
    jobs = read_benchmark_jobs(bench_dir)
    if jobs.empty:
        return pd.DataFrame(columns=["stage", "jobs", "seconds", "peak_rss_mb"])
    return (
        jobs.groupby("stage")
        .agg(jobs=("job", "count"), seconds=("s", "sum"), peak_rss_mb=("max_rss", "max"))
        .reset_index()
        .sort_values("seconds", ascending=False)
    )


def deviations(config: dict) -> list[str]:
    g = config["gmm"]
    lines = [
        "The paper's text lost its numbers; settings it no longer states use this project's defaults (docs/METHOD.md#6-experiments), which live in "
        "`config.yaml` and are documented in `workflow/schemas/config.schema.yaml`.",
        f"GMM: {g['components']} components, means on a regular polygon of radius {g['radius']} in the first two of "
        f"{g['dim']} coordinates (spread {g['spread']}, noise {g['noise']} elsewhere), {g['n_train']} train / "
        f"{g['n_test']} test points, standardised `{g['standardise']}`; SOM {g['som']['rows']}×{g['som']['cols']} "
        f"{g['som']['topology']}, {g['som']['epochs']} batch epochs.",
        f"MUSIC on the GMM: alpha = {g['trajectories']['alpha']}, lambda = {g['trajectories']['lam']}, kappa = "
        f"{g['trajectories']['kappa']}, eta = {g['trajectories']['eta']}, plain energy terms (not averaged per row), "
        "all other prototypes preserved; the paper's own values are unknown.",
        "Our batch SOM (Gaussian neighbourhood, geometric width decay, PCA or random initialisation) stands in for "
        "the paper's SOM training, whose details are not stated.",
        f"Seeds: the claim-carrying experiments (GMM Table 1, MNIST 0 -> 1 and Table 2, the face summary, the k-means "
        f"control) run once per seed {config['seeds']}; the GMM inversion and noise figures (claims 1, 2) use the first "
        "seed's map only.",
    ]
    m, mm = config["mnist"], config["mnist"]["music"]
    lines += [
        f"MNIST: {'all 60,000' if not m['n_train'] else m['n_train']} training images, PCA whitening to D = {m['dim']} "
        f"fit on them and decoded back to pixels through the same PCA; SOM {m['som']['rows']}×{m['som']['cols']} "
        f"{m['som']['topology']}, {m['som']['epochs']} batch epochs, {m['som']['init']} initialisation; classifier an "
        f"MLP {m['classifier']['hidden']} in the whitened space (the paper's classifier is not described).",
        f"MNIST MUSIC: alpha = {mm['alpha']}, lambda = {mm['lam']}, kappa = {mm['kappa']}, eta = {mm['eta']}, energy "
        f"terms {'averaged per row' if mm['per_row_mean'] else 'plain'}; the target is the prototype of the target class "
        f"nearest the source among those whose label purity is >= {mm['target_min_purity']}; linear interpolation runs "
        "in the same whitened space to the same prototype with the same number of frames.",
        f"MNIST VAE: ours, {m['vae']['latent_dim']}-d latent, {m['vae']['hidden']} hidden units, {m['vae']['epochs']} "
        "epochs on pixels; it interpolates between the encodings of the start image and of the decoded target "
        f"prototype. Table 2 uses {m['table2']['n_starts']} seeded start images per pair of docs/METHOD.md#6-experiments; the manifold "
        f"distance (mean distance to the {m['knn_k']} nearest training images) is computed on every "
        f"{m['table2']['knn_stride']}th frame of Table 2 paths to bound the cost.",
    ]
    f, fa, fm = config["faces"], config["faces"]["autoencoder"], config["faces"]["music"]
    lfw = config["data"]["lfw"]
    faces_used = "all 13,233 images" if not f["n_faces"] else f"a seeded subset of {f['n_faces']} of the 13,233 images"
    lines += [
        "Faces: the paper's pretrained face autoencoder is not available here (no pretrained weights can be "
        f"fetched), so a convolutional autoencoder (channels {fa['channels']}, {fa['code_dim']}-d code, {fa['epochs']} "
        f"epochs) is trained by the pipeline on {100 - round(100 * fa['holdout'])} % of the people, split by person; "
        "its reconstructions are blurrier than a large pretrained model's would be.",
        f"Faces data: LFW deep-funneled ({faces_used}), "
        f"centre crop {lfw['crop']} px resized to {lfw['size']}×{lfw['size']} RGB, not the paper's (unstated) face "
        f"preprocessing; PCA whitening of the codes to {f['pca_components']} components; SOM {f['som']['rows']}×"
        f"{f['som']['cols']} {f['som']['topology']}.",
        "Faces clusters: the paper picked its clusters by eye; here they are the connected lattice regions around the "
        "prototype with the highest share of apparent-female hits (AFIF4 gender lists) and of apparent darker-skinned "
        f"hits (DFI `Black` attribute), grown while the share stays >= {f['clusters']['threshold']} up to "
        f"{f['clusters']['max_size']} prototypes, plus {f['clusters']['n_random']} seeded random prototypes. These "
        "labels are third-party annotations of apparent attributes, not facts about the people.",
        f"Faces MUSIC: alpha = {fm['alpha']}, lambda = {fm['lam']}, kappa = {fm['kappa']}, eta = {fm['eta']} for every "
        f"face run; free evolution preserves the {f['free']['n_preserve']} nearest prototypes; identity drift is the "
        "distance between dlib's 128-d face descriptors (threshold 0.6), and face-likeness is dlib's HOG detector "
        f"finding a face in the decoded frame resized to {f['identity']['size']} px; {f['starts']['n_starts']} start "
        "faces of held-out people per seed.",
        f"k-means control (beyond the paper): scikit-learn KMeans with the MNIST SOM's K, n_init = "
        f"{config['kmeans']['n_init']}, max_iter = {config['kmeans']['max_iter']}, on the same encoding, pairs, starts "
        "and MUSIC settings as Table 2.",
    ]
    return lines


def render(claims: list[R.ClaimResult], config: dict, times: pd.DataFrame, evidence_rel: str, extra_deviations: list[str]) -> str:
    out = [
        "# Reproduction report: Inverting Self-Organizing Maps (Londei et al., 2026)",
        "",
        f"Written by the `report` rule from the result files of this run (seeds {config['seeds']}). Every measured "
        f"number below is read from a result file and listed, with that file, in [{evidence_rel}]({evidence_rel}). "
        "A claim carried by several seeds counts as held only if it holds for every seed.",
        "",
        "## Verdicts",
        "",
        "| # | claim | verdict | seeds held |",
        "|---|---|---|---|",
    ]
    for c in claims:
        out.append(f"| {c.number} | {c.title} | **{c.verdict}** | {c.seed_rate} |")
    for c in claims:
        out += ["", f"## Claim {c.number}: {c.title}", "", f"*Paper:* {c.paper}", "", f"*Rule:* {c.rule}", ""]
        if c.missing:
            out += [f"**Not judged:** {c.missing}"]
            continue
        out += [f"*Verdict:* **{c.verdict}** ({c.seed_rate})", "", "*Measured* (from [" + evidence_rel + "](" + evidence_rel + ")):", ""]
        for seed, checks in c.checks_by_seed.items():
            tag = "" if seed is None else f" (seed {seed})"
            for ch in checks:
                values = "; ".join(f"{e.quantity} = {fmt(e.value)}" for e in ch.evidence)
                out.append(f"- {'✔' if ch.passed else '✘'} {ch.name}{tag}: {values}")
        failed = R.failed_checks(c)
        expl = (
            "Every check passed on every seed." if not failed else "Failed checks: " + ", ".join(failed) + "."
        )
        out += ["", f"*Explanation:* {expl}"]
    out += ["", "## Deviations from the paper", ""] + [f"- {d}" for d in deviations(config) + extra_deviations]
    out += ["", "## Environment", ""]
    out += [f"- Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} cores"]
    versions = []
    for p in PACKAGES:
        try:
            versions.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{p} (not installed)")
    out += ["- " + ", ".join(versions), ""]
    if len(times):
        out += ["Wall time and peak memory per stage (sums of job wall times; peak = largest job), from Snakemake's benchmark files:", ""]
        out.append(_io.markdown_table(times.rename(columns={"seconds": "wall time (s)", "peak_rss_mb": "peak RSS (MB)"}), "{:.1f}").rstrip())
        out += ["", f"Total job wall time: {times['seconds'].sum() / 60:.1f} min."]
    return "\n".join(out) + "\n"


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="the run's effective config (JSON), as recorded by the workflow")
    p.add_argument("--checks", nargs="+", required=True, help="checks files of the claims stages")
    p.add_argument("--benchmarks", required=True, help="results/benchmarks (read as it is when the report runs)")
    p.add_argument("--evidence", required=True, help="CSV of every number the report quotes, with its source")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    config = _io.load_json(a.config)
    checks = [c for path in a.checks for c in load_checks(path)]
    claims = R.collect(checks)
    rows = [
        {"claim": c.number, "seed": seed, "quantity": e.quantity, "value": e.value, "source": e.source}
        for c in claims
        for seed, e in c.evidence()
    ]
    _io.save_csv(a.evidence, pd.DataFrame(rows, columns=["claim", "seed", "quantity", "value", "source"]))
    evidence_rel = os.path.relpath(a.evidence, os.path.dirname(os.path.abspath(a.out)) or ".")
    text = render(claims, config, stage_times(Path(a.benchmarks)), evidence_rel, [])
    with _io.atomic_path(a.out, suffix=".md") as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    _io.run_main(main)

"""Stage: write results/REPORT.md, claim by claim, from the checks the claims stages recorded.

    python -m musicsom.pipeline.report.markdown --config results/report/config.json \
        --checks results/gmm/checks.json results/mnist/seed0/checks.json ... results/kmeans/checks.json \
        --robustness results/robustness/summary.json --benchmarks results/benchmarks --evidence results/report/evidence.csv \
        --verdicts results/report/verdicts.csv --out results/REPORT.md

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
from musicsom.pipeline import files
from musicsom.pipeline.check_records import load_checks

PACKAGES = ["numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "torch", "snakemake", "pooch"]


def cpu_model() -> str:
    """The CPU model as /proc/cpuinfo names it (else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_libraries() -> list[str]:
    """The BLAS libraries numpy loaded, each as "name version (kernel, N threads)"; empty without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture') or 'kernel unknown'}, {i.get('num_threads')} threads)"
            for i in threadpool_info() if i.get("user_api") == "blas"]


def cpu_and_blas() -> str:
    """The CPU model and numpy's BLAS, read when the report is written (a migrated VM may have run earlier jobs elsewhere)."""
    return f"CPU {cpu_model()}; BLAS {', '.join(blas_libraries()) or 'not reported (threadpoolctl missing)'}"


def fmt(v: float) -> str:
    return f"{v:.4g}"


def read_benchmark_jobs(bench_dir: Path) -> pd.DataFrame:
    """One row per Snakemake benchmark TSV under ``bench_dir``: stage (its first folder), job, s, max_rss, cpu_time."""
    rows = []
    for tsv in sorted(Path(bench_dir).rglob("*.tsv")):
        try:
            frame = pd.read_csv(tsv, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            # Snakemake writes a job's benchmark when the job ends: the file of a job still running beside the
            # report (or one killed) is empty or partial, and its time is not known yet
            continue
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
    g, gx, gm = config["gmm"], config["gmm"]["mixture"], config["gmm"]["music"]
    lines = [
        "The paper's text lost its numbers; settings it no longer states use this project's defaults (docs/METHOD.md#6-experiments), which live in "
        "`config.yaml` and are documented in `workflow/schemas/config.schema.yaml`.",
        f"GMM: {gx['components']} components, means on a regular polygon of radius {gx['radius']} in the first two of "
        f"{gx['dim']} coordinates (spread {gx['spread']}, noise {gx['noise']} elsewhere), {gx['n_train']} train / "
        f"{gx['n_test']} test points, standardised `{g['standardise']}`; SOM {g['som']['rows']}×{g['som']['cols']} "
        f"{g['som']['topology']}, {g['som']['epochs']} batch epochs.",
        f"MUSIC on the GMM: alpha = {gm['alpha']}, lambda = {gm['lam']}, kappa = {gm['kappa']}, eta = {gm['eta']}, "
        f"{'energy terms averaged per row' if gm['per_row_mean'] else 'plain energy terms (not averaged per row)'}, "
        f"{'all other prototypes' if gm['preserve_ring'] is None else 'the ' + str(gm['preserve_ring']) + '-ring of the BMU'} "
        "preserved; the paper's own values are unknown.",
        "Our batch SOM (Gaussian neighbourhood, geometric width decay, PCA or random initialisation) stands in for "
        "the paper's SOM training, whose details are not stated.",
        f"Seeds: the claim-carrying experiments (GMM Table 1, MNIST 0 -> 1, Table 2 and the sweeps, the k-means control) "
        f"run once per seed {config['seeds']}, the faces on the first {config['faces']['n_seeds']} of them; the GMM inversion "
        "and noise figures (claims 1, 2) use the first seed's map only.",
    ]
    m, mm = config["mnist"], config["mnist"]["music"]
    lines += [
        f"MNIST: {'all 60,000' if not m['n_train'] else m['n_train']} training images, PCA whitening to D = {m['dim']} "
        f"fit on them and decoded back to pixels through the same PCA; SOM {m['som']['rows']}×{m['som']['cols']} "
        f"{m['som']['topology']}, {m['som']['epochs']} batch epochs, {m['som']['init']} initialisation; classifier an "
        f"MLP {m['classifier']['hidden']} in the whitened space (the paper's classifier is not described); classifier and "
        "VAE train once per seed (the seed decides their initialisation and batches).",
        f"MNIST MUSIC: alpha = {mm['alpha']}, lambda = {mm['lam']}, kappa = {mm['kappa']}, eta = {mm['eta']}, energy "
        f"terms {'averaged per row' if mm['per_row_mean'] else 'plain'}; the target is the prototype of the target class "
        f"nearest the source among those whose label purity is >= {m['target_min_purity']}; linear interpolation runs "
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
        f"fetched), so each face seed builds its own {fa['code_dim']}-d face code on "
        f"{100 - round(100 * fa['holdout'])} % of the people, split by person: the projection on the leading principal "
        f"axes of the pixels, decoded by the PCA reconstruction plus a convolutional correction ({fa['depth']} layers of "
        f"{fa['width']} channels, {fa['epochs']} epochs); its reconstructions are blurrier than a large pretrained "
        "model's would be, the more so through the SOM's whitened latent.",
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


MARK = {"held": "✔", "failed": "✘", "inconclusive": "?", "partly": "◐", "not judged": "–"}

ROUND_OFF_NOTE = (
    "Numbers expected to move between machines: everything downstream of a trained torch model (the MNIST classifier "
    "and VAE, the face code's correction) and of BLAS-heavy training (SOM prototypes, k-means centres), because float "
    "summation order differs between CPU types and BLAS kernels (AVX2 or AVX-512 code paths, thread splits). The "
    "models and maps differ only in their last digits, but a trajectory amplifies that: a path that passes near a "
    "class tie or a prototype boundary can take the other branch, so statistics of paths (third-class steps, "
    "crossing steps, confidence ranges over a sweep, identity drift, detection rates) can move by several per cent, "
    "and a mean of a few integer counts by tens of per cent, between CPU types. Inversion errors stay round-off "
    "everywhere (their size, not their digits, decides). A verdict is held or failed only when its interval clears "
    "the threshold on every seed, so a change in round-off can move a check between inconclusive and held (or "
    "failed) where an interval ends near the threshold, but should not turn held into failed. Every verdict of this "
    "run is in `report/verdicts.csv`; `python tools/record_reproduction.py --compare <run folder>` holds it against "
    "the repository's recorded run, fails when a claim verdict differs or a check is held on one side and failed on "
    "the other, lists apart the checks that are decided on one side and inconclusive on the other, and lists the "
    "numbers that moved."
)


def _num(v) -> str:
    return "—" if v is None or v != v else fmt(v)


def claim_table(c: R.ClaimResult) -> list[str]:
    seeds = list(c.checks_by_seed)
    out = ["| check | statistic and threshold | " + " | ".join(f"seed {s}" for s in seeds) + " | over seeds |",
           "|---|---|" + "---|" * len(seeds) + "---|"]
    for name in c.check_names():
        first = next(ch for checks in c.checks_by_seed.values() for ch in checks if ch.name == name)
        cells = []
        for s in seeds:
            ch = next((x for x in c.checks_by_seed[s] if x.name == name), None)
            if ch is None:
                cells.append("")
            elif ch.reason:
                cells.append(f"✘ not measurable: {ch.reason}")
            else:
                cells.append(f"{MARK[ch.verdict]} {_num(ch.value)} [{_num(ch.low)}, {_num(ch.high)}]")
        out.append(f"| {name} | {first.rule()} | " + " | ".join(cells) + f" | **{c.check_verdict(name)}** |")
    return out


def robustness_lines(number: int, rob: dict | None) -> list[str]:
    if rob is None:
        return []
    s = rob.get(str(number))
    if s is None:
        return ["", "*Across the settings the paper does not state:* not in the robustness study."]
    n, h = s["n_settings"], s["counts"]["held"]
    region = "; ".join(f"{k} ∈ {{{', '.join(map(str, v))}}}" for k, v in s["region"].items()) if h else "nowhere in the grid"
    fig = FIGURE_OF_CLAIM.get(number)
    link = "figures/fig29_inversion_vs_dim.png" if number == 1 else f"figures/fig{fig:02d}_robustness_claim{number}.png"
    lines = ["", f"*Across the settings the paper does not state* ([Fig {fig}]({link})): held at {h} of {n} grid points "
             f"({100 * s['share_held']:.0f} %; partly {s['counts']['partly']}, failed {s['counts']['failed']}, inconclusive "
             f"{s['counts']['inconclusive']}). Where it holds: " + (region or "the grid has one point") + "."]
    if s.get("default") is not None:
        lines[-1] += f" At the grid's default point: **{s['default']}**."
    if s.get("paper") is not None:
        inside = "inside" if s["paper"] == "held" else "outside"
        lines[-1] += f" At the paper's stated setup ({'; '.join(s['paper_settings'])}): **{s['paper']}** ({inside} the region where the claim holds)."
    else:
        lines[-1] += " The paper's stated setup is not a point of this grid (the paper-setup run judges it)."
    return lines


FIGURE_OF_CLAIM = {1: 29, 3: 22, 4: 23, 5: 24, 6: 25, 7: 26, 8: 27, 9: 28}


def render(claims: list[R.ClaimResult], config: dict, times: pd.DataFrame, evidence_rel: str, extra_deviations: list[str],
           rob: dict | None = None) -> str:
    v = config["verdicts"]
    out = [
        "# Reproduction report: Inverting Self-Organizing Maps (Londei et al., 2026)",
        "",
        f"Written by the `report_markdown` rule from the checks of this run (seeds {config['seeds']}; faces: the first "
        f"{config['faces']['n_seeds']}). Every check is one deciding number with a {100 * float(v['level']):.0f} % bootstrap "
        f"interval over the units of a seed ({v['resamples']} resamples of its start points, trajectories or start faces) "
        "and a threshold: it is **held** when the interval clears the threshold on the passing side on every seed, "
        "**failed** when it lies on the failing side on every seed, and **inconclusive** otherwise. A claim is held when "
        "all its checks are, failed when none is held and some failed, partly when some held and some failed, and "
        "inconclusive when none failed but some are undecided (docs/METHOD.md#7-claims). Every number quoted is also "
        f"listed, with the file it came from, in [{evidence_rel}]({evidence_rel}).",
        "",
        "## Verdicts",
        "",
        "| # | claim | verdict at the default | seeds where held | held across the study's grid | at the paper's setup |",
        "|---|---|---|---|---|---|",
    ]
    for c in claims:
        s = (rob or {}).get(str(c.number))
        grid = f"{s['counts']['held']}/{s['n_settings']} points" if s else "—"
        paper = f"**{s['paper']}**" if s and s.get("paper") else "—"
        out.append(f"| {c.number} | {c.title} | **{c.verdict}** | {c.seed_rate} | {grid} | {paper} |")
    for c in claims:
        out += ["", f"## Claim {c.number}: {c.title}", "", f"*Paper:* {c.paper}", "", f"*Rule:* {c.rule}", ""]
        if c.missing:
            out += [f"**Not judged:** {c.missing}"]
            continue
        out += [f"*Verdict at the default:* **{c.verdict}** ({c.seed_rate} held; each cell: estimate [interval])", ""]
        out += claim_table(c)
        out += ["", "*Measured* (from [" + evidence_rel + "](" + evidence_rel + ")):", ""]
        for seed, checks in c.checks_by_seed.items():
            for ch in checks:
                values = "; ".join(f"{e.quantity} = {fmt(e.value)}" for e in ch.evidence)
                if values:
                    out.append(f"- {MARK[ch.verdict]} {ch.name} (seed {seed}): {values}")
        out += robustness_lines(c.number, rob)
        notes = []
        failed = [n for n in c.check_names() if c.check_verdict(n) == "failed"]
        undecided = [n for n in c.check_names() if c.check_verdict(n) == "inconclusive"]
        if failed:
            notes.append("failed on every seed: " + ", ".join(failed))
        for n in undecided:
            why = [f"seed {ch.seed}: {ch.what_would_decide()}" for checks in c.checks_by_seed.values() for ch in checks
                   if ch.name == n and ch.verdict == "inconclusive"]
            seeds_v = {ch.seed: ch.verdict for checks in c.checks_by_seed.values() for ch in checks if ch.name == n}
            if len(set(seeds_v.values())) > 1:
                why.insert(0, "the seeds disagree (" + ", ".join(f"seed {k} {w}" for k, w in seeds_v.items()) + ")")
            notes.append(f"{n} is inconclusive: " + "; ".join(why))
        out += ["", "*Explanation:* " + ("Every check held on every seed." if not notes else " ".join(x.rstrip(".") + "." for x in notes))]
    if rob:
        out += ["", "## The robustness study", "",
                "Each claim's checks were evaluated with the rules above at every point of a grid over the settings "
                "the paper does not state (the energy form and α, the preserved set, the trust radius η, the cluster mode, "
                "the MNIST whitening dimension D, free evolution's step length and number of steps; κ and λ are claim 7's "
                "own sweeps, run at every η and energy form), "
                "on every seed; the grids are crossed in full for the Gaussian mixture and for MNIST at the default "
                "D, and sliced through the default and the paper's setup elsewhere (docs/METHOD.md#7-claims). The "
                "tidy table of every check is `robustness/checks.csv`; the verdict of every claim at every point "
                "`robustness/claims.csv`.", "",
                "| # | grid points | held | partly | failed | inconclusive | at the default | at the paper's setup |",
                "|---|---|---|---|---|---|---|---|"]
        for key in sorted((k for k in rob if k.isdigit()), key=int):
            s = rob[key]
            out.append(f"| {key} | {s['n_settings']} | {s['counts']['held']} | {s['counts']['partly']} | {s['counts']['failed']} "
                       f"| {s['counts']['inconclusive']} | {s['default'] or '—'} | {s['paper'] or '—'} |")
        iv = rob.get("inversion_vs_dim")
        if iv:
            big = iv.get("largest_dim_where_claim1_holds")
            out += ["", f"MNIST inversion against the whitening dimension ([Table 6](tables/table6_inversion_vs_dim.md), "
                    f"[Fig 29](figures/fig29_inversion_vs_dim.png)): claim 1 holds up to D = {big if big else 'none of the dimensions'} "
                    f"of {', '.join(map(str, iv['dims']))}."]
    out += ["", "## Round-off", "", ROUND_OFF_NOTE]
    out += ["", "## Deviations from the paper", ""] + [f"- {d}" for d in deviations(config) + extra_deviations]
    out += ["", "## Environment", ""]
    out += [f"- Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} cores"]
    out += [f"- {cpu_and_blas()} (when this report was written)"]
    versions = []
    for p in PACKAGES:
        try:
            versions.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{p} (not installed)")
    out += ["- " + ", ".join(versions), ""]
    if len(times):
        out += ["Wall time and peak memory per stage (sums of job wall times; peak = largest job), from Snakemake's benchmark files:", ""]
        out.append(files.markdown_table(times.rename(columns={"seconds": "wall time (s)", "peak_rss_mb": "peak RSS (MB)"}), "{:.1f}").rstrip())
        out += ["", f"Total job wall time: {times['seconds'].sum() / 60:.1f} min."]
    return "\n".join(out) + "\n"


VERDICT_COLUMNS = ["claim", "check", "seed", "verdict", "statistic", "value", "low", "high", "op", "threshold"]


def verdict_rows(claims: list[R.ClaimResult]) -> pd.DataFrame:
    """Every verdict of the report in one table: each claim and each check over the seeds (seed ``all``) and per seed.

    This is the machine-readable form of the verdict table that ``tools/record_reproduction.py --compare``
    holds two runs against (docs/METHOD.md#7-claims).
    """
    rows = []
    for c in claims:
        rows.append({"claim": c.number, "check": "", "seed": "all", "verdict": c.verdict})
        for s in c.checks_by_seed:
            rows.append({"claim": c.number, "check": "", "seed": str(s), "verdict": c.seed_verdict(s)})
        for name in c.check_names():
            rows.append({"claim": c.number, "check": name, "seed": "all", "verdict": c.check_verdict(name)})
            for s, checks in c.checks_by_seed.items():
                for ch in checks:
                    if ch.name == name:
                        rows.append({"claim": c.number, "check": name, "seed": str(s), "verdict": ch.verdict,
                                     "statistic": ch.statistic, "value": ch.value, "low": ch.low, "high": ch.high,
                                     "op": ch.op, "threshold": ch.threshold})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="the run's effective config (JSON), as recorded by the workflow")
    p.add_argument("--checks", nargs="+", required=True, help="checks files of the claims stages")
    p.add_argument("--robustness", nargs="*", default=[], metavar="SUMMARY",
                   help="the robustness study's summary.json; none when robustness.enabled is false")
    p.add_argument("--benchmarks", required=True, help="results/benchmarks (read as it is when the report runs)")
    p.add_argument("--evidence", required=True, help="CSV of every number the report quotes, with its source")
    p.add_argument("--verdicts", required=True, help="CSV of every verdict (claims and checks, over the seeds and per seed)")
    p.add_argument("--out", required=True, help="the report to write (Markdown)")
    a = p.parse_args(argv)
    if len(a.robustness) > 1:
        p.error(f"--robustness takes one summary.json or none, not {len(a.robustness)} files")
    config = files.load_json(a.config)
    checks = [c for path in a.checks for c in load_checks(path)]
    claims = R.collect(checks)
    rows = [
        {"claim": c.number, "seed": seed, "quantity": e.quantity, "value": e.value, "source": e.source}
        for c in claims
        for seed, e in c.evidence()
    ]
    src = {path: path for path in a.checks}
    for path in a.checks:
        for ch in load_checks(path):
            for what, value in (("estimate", ch.value), ("interval low", ch.low), ("interval high", ch.high)):
                if value == value:
                    rows.append({"claim": ch.claim, "seed": ch.seed, "quantity": f"{ch.name}: {ch.statistic} ({what})",
                                 "value": value, "source": src[path]})
    files.save_csv(a.evidence, pd.DataFrame(rows, columns=["claim", "seed", "quantity", "value", "source"]))
    files.save_csv(a.verdicts, verdict_rows(claims))
    evidence_rel = os.path.relpath(a.evidence, os.path.dirname(os.path.abspath(a.out)) or ".")
    rob = files.load_json(a.robustness[0]) if a.robustness else None
    text = render(claims, config, stage_times(Path(a.benchmarks)), evidence_rel, [], rob)
    with files.atomic_path(a.out, suffix=".md") as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    files.run_main(main)

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

import math
import os
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from musicsom.experiments import claims as R
from musicsom.experiments.outcomes import classify, sesoi_flips
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
        "and noise checks (claims 1, 2) run on every seed's map (Figs 1 and 5 draw the first).",
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
    "everywhere (their size, not their digits, decides). An outcome supports or contradicts only when its pooled "
    "interval excludes zero, so a change in round-off can move a check between a decided outcome and undetermined or "
    "negligible where an interval ends near zero or the SESOI, but should not turn supports into contradicts. Every "
    "outcome of this run is in `report/verdicts.csv` and every unit behind it in `report/units.csv`; "
    "`python tools/record_reproduction.py --compare <run folder>` holds it against the repository's recorded run, "
    "fails when a claim outcome differs or a check supports on one side and contradicts on the other, lists apart the "
    "checks that are decided on one side and not on the other, and lists the "
    "numbers that moved."
)


def _num(v) -> str:
    return "—" if v is None or v != v else fmt(v)


OUTCOME_MARK = {"supports": "▲ supports", "contradicts": "▼ contradicts", "negligible": "● negligible",
                "undetermined": "○ undetermined", "mixed": "◐ mixed", "not judged": "– not judged"}


def _signed_num(v) -> str:
    return "—" if v is None or v != v else f"{v:+.3g}"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a bare "|" (as in ||e||) would end the cell."""
    return str(text).replace("|", "\\|")


def _interval(o) -> str:
    return f"{_signed_num(o.estimate)} [{_signed_num(o.low)}, {_signed_num(o.high)}]"


def outcomes_of(c: R.ClaimResult, boot: dict) -> dict:
    """{check name: pooled Outcome} of one claim, in check order."""
    return {n: c.check_outcome(n, **boot) for n in c.check_names()}


def outcome_flips(o) -> tuple | None:
    """:func:`sesoi_flips` of a pooled outcome; None where its interval alone does not give its outcome (an
    unmeasurable check, or "on every pair", decided pair by pair)."""
    if not (math.isfinite(o.low) and math.isfinite(o.high)) or classify(o.low, o.high, o.sesoi, o.kind) != o.outcome:
        return None
    return sesoi_flips(o.low, o.high, o.sesoi, o.kind)


def flips_text(o) -> str:
    """Where the pooled outcome would change if the SESOI moved (the SESOI is an argued choice, not a fact): e.g.
    "< 0.0022: undetermined; > 0.231: negligible"; "the same at any SESOI" where no SESOI changes it."""
    flips = outcome_flips(o)
    if flips is None:
        return ""
    below, above = flips
    parts = ([f"< {_num(below[0])}: {below[1]}"] if below else []) + ([f"> {_num(above[0])}: {above[1]}"] if above else [])
    return "; ".join(parts) or "the same at any SESOI"


def claim_table(c: R.ClaimResult, boot: dict) -> list[str]:
    """One row per check: what it measures (signed: > 0 is the paper's side), its kind and SESOI, the pooled
    estimate and interval, the minimum detectable effect, the seeds agreeing in sign, the outcome; per-seed
    estimates follow as detail."""
    seeds = list(c.checks_by_seed)
    out = ["| check | statistic (> 0: the paper's side) | kind, SESOI | pooled estimate [95 % interval] | MDE | "
           "seeds agreeing | outcome | outcome at another SESOI | " + " | ".join(f"seed {s}" for s in seeds) + " |",
           "|---|---|---|---|---|---|---|---|" + "---|" * len(seeds)]
    for name, o in outcomes_of(c, boot).items():
        first = c.checks_named(name)[0]
        cells = []
        for s in seeds:
            ch = next((x for x in c.checks_by_seed[s] if x.name == name), None)
            if ch is None:
                cells.append("")
            elif ch.reason:
                cells.append(_cell(f"not measurable: {ch.reason}"))
            else:
                lo, hi = ch.signed_interval()
                est = ch.signed_value()
                cells.append(f"{_signed_num(est)} [{_signed_num(lo)}, {_signed_num(hi)}]")
        kind = "every unit (exact count)" if first.exact else (
            f"{first.kind.replace('_', ' ')}, ±{first.sesoi:g}" + (f" {first.unit}" if first.unit else ""))
        label = f"{name} *(context)*" if c.is_context(name) else name
        agree = "" if first.exact else (f"{o.seeds_agreeing}/{o.n_seeds} pairs" if first.every_group else f"{o.seeds_agreeing}/{o.n_seeds}")
        out.append(f"| {_cell(label)} | {_cell(first.statistic)} | {_cell(kind)} | {_interval(o)} | {_num(o.mde)} | {agree} | "
                   f"**{o.outcome}** | {'' if first.exact else flips_text(o)} | " + " | ".join(cells) + " |")
    return out


def claim_sentence(c: R.ClaimResult, boot: dict, rob: dict | None = None) -> str:
    """One quotable sentence per claim, generated from the numbers: the outcome here, each deciding check's effect
    with its interval, and what changes it (from the sensitivity study, where it ran)."""
    if c.missing or not c.checks_by_seed:
        return f"Claim {c.number} ({c.title}) was not judged: {c.missing}."
    outs = outcomes_of(c, boot)
    deciding = {n: o for n, o in outs.items() if not c.is_context(n)}
    parts = []
    for n, o in deciding.items():
        first = c.checks_named(n)[0]
        unit = f" {first.unit}" if first.unit else ""
        if first.exact:
            parts.append(f"{n}: {o.outcome} ({int(-o.estimate)} counterexamples in {o.n_units})")
        else:
            parts.append(f"{n}: {o.outcome}, {_interval(o)}{unit} (SESOI {first.sesoi:g})")
    text = f"Claim {c.number} {OUTCOME_WORD[c.outcome(**boot)]} at this run's setup ({c.outcome_counts(**boot)}): " + "; ".join(parts) + "."
    changes = ((rob or {}).get(str(c.number)) or {}).get("changes")
    if changes:
        text += " What changes it: " + "; ".join(changes) + "."
    elif rob and str(c.number) in rob:
        text += " No axis of the sensitivity study changes a deciding check's outcome."
    return text


OUTCOME_WORD = {"supports": "is supported", "contradicts": "is contradicted", "mixed": "is partly supported",
                "negligible": "finds only negligible effects", "undetermined": "is undetermined", "not judged": "is not judged"}


def robustness_lines(number: int, rob: dict | None) -> list[str]:
    """The claim's line of the sensitivity study: along which axes a deciding check changes outcome, and where."""
    if rob is None:
        return []
    s = rob.get(str(number))
    if s is None:
        return ["", "*Sensitivity to the settings the paper leaves open:* not in the study."]
    titles = (rob.get("design") or {}).get("axes", {})
    fig = FIGURE_OF_CLAIM.get(number)
    link = s.get("figure") or f"figures/fig{fig:02d}_robustness_claim{number}.png"
    axes = [titles.get(a, a) for a in s["axes"]]
    moved = f"each of {', '.join(axes)} moved alone" if len(axes) > 1 else f"{''.join(axes)} moved"
    text = (f"*Sensitivity* ([Fig {fig}]({link}); every check at every value in the sensitivity table, "
            f"[robustness/sensitivity.csv](robustness/sensitivity.csv)): {moved} around the default "
            f"(outcome there: **{s['default'] or 'not judged'}**). ")
    if s["changing_axes"]:
        text += "A deciding check changes outcome along " + "; ".join(s["changes"]) + "."
    else:
        text += "No axis changes a deciding check's outcome."
    if s.get("below_headline"):
        text += " Below the headline's sample: " + "; ".join(s["below_headline"]) + "."
    if number == 1 and rob.get("inversion_vs_dim"):
        iv = rob["inversion_vs_dim"]
        big = iv.get("largest_dim_where_claim1_supported")
        text += (f" Inversion against D ([Table 6](tables/table6_inversion_vs_dim.md), [Fig 29](figures/fig29_inversion_vs_dim.png)): "
                 f"supported up to D = {big if big else 'none of the dimensions'} of {', '.join(map(str, iv['dims']))}.")
    return ["", text]


def robustness_section(rob: dict | None) -> list[str]:
    """The report's section on the sensitivity study: its design and, per claim, the axes that change an outcome."""
    if not rob:
        return []
    design = rob.get("design") or {}
    titles = design.get("axes", {})
    out = ["", "## The sensitivity study", "",
           (design.get("text") or "") + " The settings are those the paper leaves open (docs/METHOD.md#7-claims); claim 1 "
           "moves D alone (MUSIC's settings cannot change an inversion). The study's page (`robustness/sensitivity.md`, "
           "in the report as *Robustness study → Tables*) has one table per claim and axis: the outcome of every check at "
           "the default and at every value, with its estimate and interval, and whether it changes; "
           "[robustness/sensitivity.csv](robustness/sensitivity.csv) holds the same rows, `robustness/points.csv` every "
           "check's pooled outcome at every point and `robustness/claims.csv` every claim's.", "",
           "| # | at the default | axes moved | a deciding check changes along (where) | figure |",
           "|---|---|---|---|---|"]
    for key in sorted((k for k in rob if k.isdigit()), key=int):
        s = rob[key]
        fig = FIGURE_OF_CLAIM.get(int(key))
        where = "; ".join(f"{titles.get(a, a)}: {', '.join(s['axes'][a]['where'])}" for a in s["changing_axes"]) or "none"
        link = s.get("figure") or f"figures/fig{fig:02d}_robustness_claim{key}.png"
        out.append(f"| {key} | **{s['default'] or 'not judged'}** | {', '.join(titles.get(a, a) for a in s['axes'])} | "
                   f"{where} | [Fig {fig}]({link}) |")
    return out


#: the sensitivity figure of each claim (claim 1's, on the D axis, follows Fig 29, its inversion against D)
FIGURE_OF_CLAIM = {1: 30, 3: 22, 4: 23, 5: 24, 6: 25, 7: 26, 8: 27, 9: 28}


def render(claims: list[R.ClaimResult], config: dict, times: pd.DataFrame, evidence_rel: str, extra_deviations: list[str],
           rob: dict | None = None) -> str:
    v = config["verdicts"]
    boot = {"resamples": int(v["resamples"]), "seed": int(v["seed"]), "level": float(v["level"])}
    out = [
        "# Reproduction report: Inverting Self-Organizing Maps (Londei et al., 2026)",
        "",
        f"Written by the `report_markdown` rule from the checks of this run (seeds {config['seeds']}; faces: the first "
        f"{config['faces']['n_seeds']}). Each check is an effect in the paper's units, signed so that > 0 is the "
        "paper's side, measured on the units that replicate the experiment (trajectories, start faces, test points). "
        f"Its pooled estimate weighs every seed equally and, within a seed, every group (digit pair) equally; its "
        f"{100 * float(v['level']):.0f} % interval comes from a hierarchical bootstrap ({v['resamples']} resamples of "
        "seeds, then groups, then units). Against its smallest effect of interest (SESOI, argued in "
        "docs/METHOD.md#7-claims) the check **supports** the paper (the interval excludes zero on the paper's side), "
        "**contradicts** it (on the other side), is **negligible** (inside ±SESOI) or **undetermined**; a claim of no "
        "difference supports inside ±SESOI, a non-inferiority claim when the interval's lower end is above −SESOI. The "
        "minimum detectable effect (MDE, at 80 % power) says how large an effect this sample could have found; "
        "*outcome at another SESOI* gives the SESOI below or above which the outcome would change, since a SESOI is "
        "argued, not measured. "
        "*Context* checks (true of any method, or consistency checks of the code) are shown and never decide. A claim "
        "is **supported** when every deciding check supports it, **contradicted** when none supports and one "
        "contradicts, **mixed** otherwise when some support. Per-seed estimates are detail. Every number quoted is "
        f"also listed, with the file it came from, in [{evidence_rel}]({evidence_rel}).",
        "",
        "## Outcomes",
        "",
        "| # | claim | outcome | deciding checks | sentence |",
        "|---|---|---|---|---|",
    ]
    for c in claims:
        out.append(f"| {c.number} | {_cell(c.title)} | **{c.outcome(**boot)}** | {c.outcome_counts(**boot)} | "
                   f"{_cell(claim_sentence(c, boot, rob))} |")
    for c in claims:
        out += ["", f"## Claim {c.number}: {c.title}", "", f"*Paper:* {c.paper}", "", f"*Rule:* {c.rule}", ""]
        if c.missing:
            out += [f"**Not judged:** {c.missing}"]
            continue
        out += [f"*Outcome:* **{c.outcome(**boot)}** ({c.outcome_counts(**boot)}). {claim_sentence(c, boot, rob)}", ""]
        out += claim_table(c, boot)
        out += ["", "*Measured* (from [" + evidence_rel + "](" + evidence_rel + ")):", ""]
        for seed, checks in c.checks_by_seed.items():
            for ch in checks:
                values = "; ".join(f"{e.quantity} = {fmt(e.value)}" for e in ch.evidence)
                if values:
                    out.append(f"- {ch.name} (seed {seed}): {values}")
        out += robustness_lines(c.number, rob)
        undetermined = [(n, o) for n, o in outcomes_of(c, boot).items() if o.outcome == "undetermined" and not c.is_context(n)]
        if undetermined:
            out += ["", "*Undetermined:* " + " ".join(
                f"{n}: the interval straddles {'zero' if o.kind == 'directional' else 'the margin'}; an effect of "
                f"{_num(o.mde)} would have been found with 80 % power ({o.n_units} units, {o.n_seeds} "
                f"{'pairs' if c.checks_named(n)[0].every_group else 'seeds'})." for n, o in undetermined)]
    out += robustness_section(rob)
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


VERDICT_COLUMNS = ["claim", "check", "seed", "verdict", "context", "kind", "sesoi", "estimate", "low", "high", "mde",
                   "seeds_agreeing", "n_seeds", "n_units", "statistic", "value", "op", "threshold",
                   "sesoi_flip_below", "verdict_below", "sesoi_flip_above", "verdict_above"]


def verdict_rows(claims: list[R.ClaimResult], boot: dict | None = None) -> pd.DataFrame:
    """Every outcome of the report in one table: each claim and each check pooled over the seeds (seed ``all``),
    and each check per seed (its own interval's outcome, detail). Estimates and intervals are signed (> 0: the
    paper's side). This is the machine-readable form that ``tools/record_reproduction.py --compare`` holds two runs
    against (docs/METHOD.md#7-claims)."""
    boot = boot or {}
    rows = []
    for c in claims:
        rows.append({"claim": c.number, "check": "", "seed": "all", "verdict": c.outcome(**boot)})
        for name in c.check_names():
            o = c.check_outcome(name, **boot)
            first = c.checks_named(name)[0]
            below, above = (None if first.exact else outcome_flips(o)) or (None, None)
            rows.append({"claim": c.number, "check": name, "seed": "all", "verdict": o.outcome, "context": c.is_context(name),
                         "kind": "exact" if first.exact else o.kind, "sesoi": o.sesoi, "estimate": o.estimate, "low": o.low,
                         "high": o.high, "mde": o.mde, "seeds_agreeing": o.seeds_agreeing, "n_seeds": o.n_seeds,
                         "n_units": o.n_units, "statistic": first.statistic,
                         "sesoi_flip_below": below[0] if below else None, "verdict_below": below[1] if below else None,
                         "sesoi_flip_above": above[0] if above else None, "verdict_above": above[1] if above else None})
            for s, checks in c.checks_by_seed.items():
                for ch in checks:
                    if ch.name == name:
                        lo, hi = ch.signed_interval()
                        rows.append({"claim": c.number, "check": name, "seed": str(s), "verdict": ch.outcome,
                                     "context": ch.context, "kind": "exact" if ch.exact else ch.kind, "sesoi": ch.sesoi,
                                     "estimate": ch.signed_value(), "low": lo, "high": hi,
                                     "n_units": ch.n, "statistic": ch.statistic, "value": ch.value, "op": ch.op,
                                     "threshold": ch.threshold})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


UNIT_COLUMNS = ["claim", "check", "setting", "seed", "group", "value"]


def unit_rows(checks: list[R.Check]) -> pd.DataFrame:
    """The signed per-unit values behind every pooled check (one row per unit), enough to recompute each outcome
    with :func:`musicsom.experiments.claims.pool`; checks without units contribute their per-seed estimate
    (group ``seed``)."""
    rows = []
    for ch in checks:
        if ch.units is not None:
            rows += [{"claim": ch.claim, "check": ch.name, "setting": ch.setting, "seed": ch.seed, "group": g, "value": v}
                     for g, v in zip(ch.groups, ch.units)]
        elif ch.value == ch.value:
            rows.append({"claim": ch.claim, "check": ch.name, "setting": ch.setting, "seed": ch.seed, "group": "seed",
                         "value": ch.signed_value()})
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="the run's effective config (JSON), as recorded by the workflow")
    p.add_argument("--checks", nargs="+", required=True, help="checks files of the claims stages")
    p.add_argument("--robustness", nargs="*", default=[], metavar="SUMMARY",
                   help="the robustness study's summary.json; none when robustness.enabled is false")
    p.add_argument("--benchmarks", required=True, help="results/benchmarks (read as it is when the report runs)")
    p.add_argument("--evidence", required=True, help="CSV of every number the report quotes, with its source")
    p.add_argument("--verdicts", required=True, help="CSV of every verdict (claims and checks, over the seeds and per seed)")
    p.add_argument("--units", default=None, help="CSV (.csv.gz: compressed) of the signed per-unit values behind every outcome")
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
    v = config["verdicts"]
    boot = {"resamples": int(v["resamples"]), "seed": int(v["seed"]), "level": float(v["level"])}
    files.save_csv(a.verdicts, verdict_rows(claims, boot))
    if a.units:
        files.save_csv(a.units, unit_rows(checks))
    evidence_rel = os.path.relpath(a.evidence, os.path.dirname(os.path.abspath(a.out)) or ".")
    rob = files.load_json(a.robustness[0]) if a.robustness else None
    text = render(claims, config, stage_times(Path(a.benchmarks)), evidence_rel, [], rob)
    with files.atomic_path(a.out, suffix=".md") as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    files.run_main(main)

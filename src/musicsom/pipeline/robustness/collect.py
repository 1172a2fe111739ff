"""Stage: gather the sensitivity study: the outcome of every check at every point, the sensitivity table, a figure per claim.

    python -m musicsom.pipeline.robustness.collect --blocks results/robustness/*/seed*/checks.json \
        results/robustness/mnist_dim/dim*/seed*/checks.json \
        --default-checks results/gmm/checks.json results/mnist/seed*/checks.json results/faces/seed*/checks.json \
        results/kmeans/checks.json --dim-inversion results/robustness/mnist_dim/dim*/seed*/inversion.json \
        --default-inversion results/mnist/seed*/inversion.json --seeds 0 1 2 3 4 --dim full --verdicts '{...}' \
        --table results/robustness/checks.csv --points results/robustness/points.csv \
        --claims results/robustness/claims.csv --sensitivity results/robustness/sensitivity.csv \
        --summary results/robustness/summary.json --figures results/figures \
        --inversion-table results/tables/table6_inversion_vs_dim.csv

The default point of every axis is the default run's own checks (``--default-checks``: the headline, every seed),
restricted to the checks the blocks measure (claim 1's MNIST checks, claims 3-9); every other point is a block's.
Outcomes are the report's (:func:`musicsom.experiments.claims.pool` over a point's seeds, with ``--verdicts``'
bootstrap; a claim's outcome :func:`~musicsom.experiments.claims.combine_outcomes` over its deciding checks).

Outputs: the per-seed checks of every point (``--table``, tidy); the pooled outcome of every (claim, check, point)
with its estimate, interval, SESOI, MDE and sample (``--points``); the claim's outcome at every point
(``--claims``); the sensitivity table (``--sensitivity``: one row per (claim, check, axis): the default's outcome,
the outcome at every value of the axis, whether moving along it changes the outcome and where; its Markdown
rendering ``.md`` beside it, one table per claim and axis, is the report's robustness page); the summary per claim
the report reads (``--summary``: along which axes a deciding check changes and where, and the samples); one figure
per claim (``fig22_robustness_claim3`` … ``fig28_robustness_claim9``, ``fig30_robustness_claim1``: checks × the
values of every axis, colour and glyph per outcome); and inversion against the MNIST dimension (Table 6, Fig 29).
"""

from __future__ import annotations

import logging
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim_module
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, load_checks, tidy
from musicsom.pipeline.robustness.blocks import dimension, load_block

log = logging.getLogger("musicsom.pipeline.robustness.collect")

#: figure number of each claim's sensitivity figure (claim 1's follows Fig 29, its inversion against D)
FIGURE_OF_CLAIM = {3: 22, 4: 23, 5: 24, 6: 25, 7: 26, 8: 27, 9: 28, 1: 30}
#: Okabe-Ito colours (colour-blind safe) and a glyph per outcome: the glyph carries the outcome without colour
STYLE = {
    "supports": ("#009E73", "✓"),
    "contradicts": ("#D55E00", "✗"),
    "negligible": ("#56B4E9", "≈"),
    "undetermined": ("#DDDDDD", "?"),
    "mixed": ("#E69F00", "±"),
    "not judged": ("#FFFFFF", "–"),
}
NOT_MEASURED = ("#FFFFFF", "")
FONT = 8  # points: every text of the figures (the title 9)
WIDTH = 7.0  # inches: a page's text width


def glyph(word: str | None) -> str:
    return STYLE.get(word or "", NOT_MEASURED)[1]


def estimate_text(o, unit: str = "") -> str:
    """``+0.12 [+0.05, +0.20] pp`` of an Outcome (signed: > 0 is the paper's side); an exact count as counterexamples."""
    if o is None:
        return ""
    if isinstance(o, str):
        return o
    if not math.isfinite(o.estimate):
        return "not measurable" if o.outcome == "contradicts" else "no estimate"
    if o.low == o.high == o.estimate and o.mde == 0.0:
        return f"{int(round(-o.estimate))} counterexamples"
    u = f" {unit}" if unit else ""
    return f"{o.estimate:+.3g} [{o.low:+.3g}, {o.high:+.3g}]{u}"


def cell_text(o, unit: str = "") -> str:
    word = None if o is None else o if isinstance(o, str) else o.outcome
    if word is None:
        return "not measured"
    est = "" if isinstance(o, str) else " " + estimate_text(o, unit)
    return f"{glyph(word)} {word}{est}"


# ---------------------------------------------------------------- reading
def read_blocks(paths) -> tuple[dict, list, dict, dict]:
    """(settings by name, every block check, the samples of each (claim, setting), D spelling -> number of components)."""
    settings, checks, samples, dims = {}, [], {}, {}
    for path in paths:
        header, points, cs = load_block(path)
        names = {}
        for s in points:
            name = f"{header['experiment']}: {s.name}"  # the experiments share axis names, not their defaults
            names[s.name] = name
            if name in settings and settings[name] != s:
                raise files.InputError(f"{path}: point {name!r} differs from the same-named point of another seed's block "
                                       "(the blocks moved different defaults): rerun the study with one config")
            settings[name] = s
            for line in header["samples"]:
                for claim in line["claims"]:
                    samples.setdefault((int(claim), name), [])
                    if line not in samples[(int(claim), name)]:
                        samples[(int(claim), name)].append(line)
        for c in cs:
            if c.setting not in names:
                raise files.InputError(f"{path}: check {c.name!r} has setting {c.setting!r}, which is not a point of the block")
            c.setting = names[c.setting]
        if "dim_label" in header:
            dims[str(header["dim_label"])] = int(header["dim"])
        checks += cs
    return settings, checks, samples, dims


def default_point(blocks: dict, checks: list, default_checks: list) -> tuple[dict, list]:
    """The default's value of every axis per claim (from the points of the blocks that measure it: each experiment has
    its own default MUSIC settings) and the default run's checks that the blocks measure, as the default point."""
    defaults: dict[int, dict] = {}
    for c in checks:
        for k, v in blocks[c.setting].base:
            defaults.setdefault(c.claim, {}).setdefault(k, v)
    measured = {(c.claim, c.name) for c in checks}
    mine = []
    for c in default_checks:
        if (c.claim, c.name) in measured:
            c.setting = rb.DEFAULT
            mine.append(c)
    return defaults, mine


# ---------------------------------------------------------------- tables
def points_frame(rows: list[dict], settings: dict, samples: dict, default_seeds: dict, dims: dict) -> pd.DataFrame:
    """One row per (claim, check, point): outcome, estimate, interval, SESOI, MDE, seeds, units, and the sample
    against the headline's (``below_headline``: what ran smaller)."""
    out = []
    for r in rows:
        o = r["outcome"]
        below = sample_note(r["claim"], r["setting"], samples, r["n_seeds"], default_seeds.get(r["claim"]))
        out.append({"claim": r["claim"], "check": r["check"], "context": r["context"], "setting": r["setting"],
                    "axis": r["axis"], "value": "" if r["axis"] == rb.DEFAULT else tick(r["axis"], r["value"], dims),
                    "outcome": o.outcome, "kind": o.kind, "estimate": o.estimate, "low": o.low, "high": o.high,
                    "sesoi": o.sesoi, "mde": o.mde, "unit": r["unit"], "n_seeds": o.n_seeds,
                    "seeds_agreeing": o.seeds_agreeing, "n_units": o.n_units, "seeds": " ".join(map(str, r["seeds"])),
                    "below_headline": below})
    return pd.DataFrame(out)


def sample_note(claim: int, setting: str, samples: dict, n_seeds: int, headline_seeds: int | None) -> str:
    """What a point ran with below the headline's sample ("" when nothing): seeds and the blocks' own counts."""
    if setting == rb.DEFAULT:
        return ""
    parts = []
    if headline_seeds and n_seeds < headline_seeds:
        parts.append(f"{n_seeds} of {headline_seeds} seeds")
    for line in samples.get((claim, setting), []):
        if line["study"] < line["headline"]:
            parts.append(f"{line['what']}: {line['study']} of {line['headline']}")
    return "; ".join(parts)


def tick(axis: str, value, dims: dict) -> str:
    """A value's label, with the number of components of a D reading that is not a number (``var 99.9 % (486)``)."""
    label = rb.value_label(axis, value)
    if axis == "dim" and not str(value).isdigit() and str(value) in dims:
        label += f" ({dims[str(value)]})"
    return label


def sensitivity_frame(table: list[dict], dims: dict, units: dict) -> pd.DataFrame:
    rows = []
    for r in table:
        unit = units.get((r["claim"], r["check"]), "")
        d = r["default"]
        rows.append({
            "claim": r["claim"], "check": r["check"], "context": r["context"], "axis": r["axis"], "axis_title": rb.AXES[r["axis"]],
            "default_value": tick(r["axis"], r["default_value"], dims) if r.get("default_value") is not None else "",
            "default_outcome": (d if isinstance(d, str) else d.outcome) if d is not None else "not measured",
            "default_estimate": estimate_text(d, unit) if d is not None else "",
            "outcomes": "; ".join(f"{tick(r['axis'], v, dims)}: {cell_text(o, unit)[2:]}" for v, o in r["points"]),
            "changes": ("yes" if r["changes"] else "no") if d is not None else "no default",
            "where": ", ".join(tick(r["axis"], v, dims) for v in r["where"]),
        })
    return pd.DataFrame(rows)


def sensitivity_markdown(table: list[dict], defaults: dict, dims: dict, units: dict, notes: dict, figures: dict,
                         design: str) -> str:
    """The robustness page: per claim, its figure and one table per axis (rows: checks; columns: the default and every value)."""
    out = ["# Sensitivity study: does moving one setting change an outcome?", "", design, "",
           "Glyphs: ✓ supports, ✗ contradicts, ≈ negligible, ? undetermined; for the claim ± mixed. Estimates are signed "
           "(> 0: the paper's side) with their 95 % interval, in the check's unit. *Context* checks are shown, never "
           "counted. The claim's row combines the deciding checks the study measures, as the report combines all of "
           "a claim's checks (a check only the headline run measures is not in the study).", ""]
    by_claim: dict[int, list] = {}
    for r in table:
        by_claim.setdefault(r["claim"], []).append(r)
    for claim in sorted(by_claim):
        mod = claim_module(claim)
        rows = by_claim[claim]
        out += [f"## Claim {claim}: {mod.TITLE}", ""]
        if claim in figures:  # a link: the report's HTML page embeds the figure it points to
            out += [f"Figure: [Fig {FIGURE_OF_CLAIM[claim]}, claim {claim}'s checks by axis]({figures[claim]}).", ""]
        changing = sorted({r["axis"] for r in rows if r["changes"] and not r["context"]}, key=list(rb.AXES).index)
        out += ["Axes along which a deciding check (or the claim) changes outcome: "
                + (", ".join(rb.AXES[a] for a in changing) if changing else "none") + ".", ""]
        for axis in [a for a in rb.AXES if any(r["axis"] == a for r in rows)]:
            mine = [r for r in rows if r["axis"] == axis]
            values = mine[0]["points"]
            head = [f"default ({tick(axis, defaults.get(claim, {}).get(axis), dims)})"] + [tick(axis, v, dims) for v, _ in values]
            out += [f"### {rb.AXES[axis]}", "", "| check | " + " | ".join(head) + " | changes? |",
                    "|---|" + "---|" * (len(head) + 1)]
            for r in mine:
                unit = units.get((r["claim"], r["check"]), "")
                name = r["check"] + (" *(context)*" if r["context"] else "")
                if r["check"] == rb.CLAIM_ROW:
                    name = "**the claim**"
                cells = [cell_text(r["default"], unit)] + [cell_text(o, unit) for _, o in r["points"]]
                where = ", ".join(tick(axis, v, dims) for v in r["where"])
                change = "no default" if r["default"] is None else f"**yes**: {where}" if r["changes"] else "no"
                out.append(f"| {name} | " + " | ".join(cells) + f" | {change} |")
            below: dict[str, list] = {}
            for v, _ in values:
                if notes.get((claim, axis, _key(v))):
                    below.setdefault(notes[(claim, axis, _key(v))], []).append(tick(axis, v, dims))
            if below:
                out += ["", "Below the headline's sample: " + "; ".join(f"{n} (at {', '.join(vs)})" for n, vs in below.items()) + "."]
            out.append("")
    return "\n".join(out) + "\n"


def _key(v):
    return tuple(v) if isinstance(v, list) else v


# ---------------------------------------------------------------- figures
def claim_figure(claim: int, table: list[dict], default: dict, dims: dict, notes: dict, design_note: str,
                 path: Path) -> None:
    """Rows: the claim, then its deciding checks, then its context checks; columns: every axis' values (the default's
    among them, framed), each cell a colour and a glyph per outcome."""
    plt = files.setup_matplotlib()
    from matplotlib.patches import Patch, Rectangle

    rows = [r for r in table if r["claim"] == claim]
    axes = [a for a in rb.AXES if any(r["axis"] == a for r in rows)]
    checks = list(dict.fromkeys(r["check"] for r in rows))
    checks = [rb.CLAIM_ROW] * (rb.CLAIM_ROW in checks) + [c for c in checks if c != rb.CLAIM_ROW and not _ctx(rows, c)] + \
        [c for c in checks if c != rb.CLAIM_ROW and _ctx(rows, c)]
    # columns: per axis, its values in reading order with the default's value placed among them
    columns = []  # (axis, value, is_default)
    for axis in axes:
        values = next(r["points"] for r in rows if r["axis"] == axis)
        dv = default.get(axis)
        ordered = rb.sort_values(axis, [v for v, _ in values] + [dv], dims)
        columns += [(axis, v, rb.same_value(v, dv)) for v in ordered]
    gap = 0.45
    x, xs = 0.0, []
    for i, (axis, _, _) in enumerate(columns):
        if i and axis != columns[i - 1][0]:
            x += gap
        xs.append(x)
        x += 1.0
    n_cols_width = x
    labels = ["the claim" if c == rb.CLAIM_ROW else c + (" (context)" if _ctx(rows, c) else "") for c in checks]
    wrapped = ["\n".join(textwrap.wrap(t, 34)) or t for t in labels]
    line_h = FONT / 72 * 1.25
    row_h = max(0.26, max(w.count("\n") + 1 for w in wrapped) * line_h + 0.06) if wrapped else 0.26
    label_w = 2.35
    cell_w = min(0.32, (WIDTH - label_w - 0.15) / max(n_cols_width, 1))
    # rotated value labels: about half an em per character
    tick_h = max(len(tick(a, v, dims)) + 2 * bool(notes.get((claim, a, _key(v)))) for a, v, d in columns) * FONT / 72 * 0.5 + 0.1
    top, bottom = 0.85, tick_h + 0.2 + 0.6
    grid_h = row_h * len(checks)
    H = top + grid_h + bottom
    fig = plt.figure(figsize=(WIDTH, H))
    ax = fig.add_axes([label_w / WIDTH, bottom / H, cell_w * n_cols_width / WIDTH, grid_h / H])
    ax.set_xlim(0, n_cols_width)
    ax.set_ylim(len(checks), 0)
    ax.axis("off")
    data = []
    for i, check in enumerate(checks):
        for (axis, v, is_def), x0 in zip(columns, xs):
            if is_def:
                o = next((r["default"] for r in rows if r["check"] == check and r["axis"] == axis), None)
            else:
                o = next((o for r in rows if r["check"] == check and r["axis"] == axis for vv, o in r["points"]
                          if rb.same_value(vv, v)), None)
            word = None if o is None else o if isinstance(o, str) else o.outcome
            colour, g = STYLE.get(word, NOT_MEASURED) if word else NOT_MEASURED
            ax.add_patch(Rectangle((x0 + 0.04, i + 0.06), 0.92, 0.88, facecolor=colour, edgecolor="#888888", lw=0.4))
            ax.text(x0 + 0.5, i + 0.52, g, ha="center", va="center", fontsize=FONT + 1, fontweight="bold", color="black")
            data.append({"check": check, "axis": axis, "value": tick(axis, v, dims), "default": is_def,
                         "outcome": word or "not measured"})
        if check == rb.CLAIM_ROW and len(checks) > 1:
            ax.axhline(i + 1, color="black", lw=0.8)
    for (axis, v, is_def), x0 in zip(columns, xs):  # the default's column: framed
        if is_def:
            ax.add_patch(Rectangle((x0 + 0.01, 0.02), 0.98, len(checks) - 0.04, fill=False, edgecolor="black", lw=1.4,
                                   clip_on=False))
    for i, text in enumerate(wrapped):
        ax.text(-0.15, i + 0.5, text, ha="right", va="center", fontsize=FONT,
                fontweight="bold" if checks[i] == rb.CLAIM_ROW else "normal",
                style="italic" if _ctx(rows, checks[i]) else "normal", color="#555555" if _ctx(rows, checks[i]) else "black")
    for (axis, v, is_def), x0 in zip(columns, xs):
        label = tick(axis, v, dims) + (" †" if notes.get((claim, axis, _key(v))) else "")
        ax.text(x0 + 0.5, len(checks) + 0.15, label, ha="center", va="top", rotation=90, fontsize=FONT,
                fontweight="bold" if is_def else "normal")
    for axis in axes:  # the axis' name over its group
        idx = [k for k, c in enumerate(columns) if c[0] == axis]
        left, right = xs[idx[0]] + 0.05, xs[idx[-1]] + 0.95
        ax.plot([left, right], [-0.12, -0.12], color="black", lw=0.8, clip_on=False)
        fits = int((right - left) * cell_w / (FONT / 72 * 0.62))  # characters of bold text over the group's cells
        ax.text((left + right) / 2, -0.22, "\n".join(textwrap.wrap(rb.AXES[axis], max(6, fits), break_long_words=False)),
                ha="center", va="bottom", fontsize=FONT, fontweight="bold")
    title = f"Claim {claim}: {claim_module(claim).TITLE}"
    fig.text(0.02, 1 - 0.12 / H, "\n".join(textwrap.wrap(title, 95)), ha="left", va="top", fontsize=FONT + 1, fontweight="bold")
    present = [w for w in ("supports", "contradicts", "negligible", "undetermined", "mixed") if any(
        d["outcome"] == w for d in data)] or ["supports"]
    handles = [Patch(facecolor=STYLE[w][0], edgecolor="#888888", lw=0.4, label=f"{STYLE[w][1]} {w}") for w in present]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.02, 0.28 / H), ncol=len(handles), fontsize=FONT,
               frameon=False, handlelength=1.2, columnspacing=1.2)
    foot = design_note
    if any(d["outcome"] == "not measured" for d in data):
        foot += " Blank: not measured there."
    if any(notes.get((claim, a, _key(v))) for a, v, _ in columns):
        foot += " †: below the headline's sample (sensitivity.md says how)."
    fig.text(0.02, 0.06 / H, "\n".join(textwrap.wrap(foot, 120)), ha="left", va="bottom", fontsize=FONT, color="#333333")
    files.save_figure(fig, path, pd.DataFrame(data))


def seeds_text(seeds) -> str:
    """``seed 0``, ``seeds 0–2`` (a run), ``seeds 0, 2``."""
    s = sorted(int(x) for x in seeds)
    if len(s) == 1:
        return f"seed {s[0]}"
    if s == list(range(s[0], s[-1] + 1)):
        return f"seeds {s[0]}–{s[-1]}"
    return "seeds " + ", ".join(map(str, s))


def seeds_note(claim: int, rows: list[dict]) -> str:
    """Which seeds the default and each axis' points of ``claim`` ran on, for a figure's foot."""
    default = sorted({s for r in rows if r["claim"] == claim and r["axis"] == rb.DEFAULT for s in r["seeds"]})
    by_axis: dict[str, set] = {}
    for r in rows:
        if r["claim"] == claim and r["axis"] != rb.DEFAULT:
            by_axis.setdefault(r["axis"], set()).update(r["seeds"])
    groups: dict[tuple, list] = {}
    for axis in (a for a in rb.AXES if a in by_axis):
        groups.setdefault(tuple(sorted(by_axis[axis])), []).append(rb.AXES[axis])
    text = "Framed: the default, the headline run" + (f" ({seeds_text(default)})" if default else "") + "."
    if len(groups) == 1:
        text += f" Other points: {seeds_text(next(iter(groups)))}."
    elif groups:
        text += " Other points: " + "; ".join(f"{', '.join(axes)}: {seeds_text(s)}" for s, axes in groups.items()) + "."
    return text


def _ctx(rows, check) -> bool:
    return any(r["context"] for r in rows if r["check"] == check)


# ---------------------------------------------------------------- inversion against D
def inversion_vs_dim(dim_files, default_files, default_dim, seeds) -> pd.DataFrame:
    rows = []
    for path in dim_files:
        d = files.load_json(path)
        rows.append(_inv_row(d, str(d.get("dim_label")), d.get("seed"), path))
    for k, path in enumerate(default_files):
        d = files.load_json(path)
        rows.append(_inv_row(d, str(default_dim), d.get("seed", seeds[k] if k < len(seeds) else None), path))
    return pd.DataFrame(rows)


def _inv_row(d: dict, label: str, seed, path) -> dict:
    return {"dim_label": label, "dim": int(d["dim"]), "seed": seed, "n_points": d.get("n_points", d.get("n_test")),
            "rank": d.get("rank"), "median_relative_error": d.get("median_relative_error"),
            "max_relative_error": d.get("max_relative_error"),
            "max_pixel_error_grey_levels": d.get("max_pixel_error_grey_levels"),
            "median_condition_number": d.get("median_condition_number"), "max_condition_number": d.get("max_condition_number"),
            "reason": d.get("reason", "") or "", "source": str(path)}


def inversion_figure(agg: pd.DataFrame, round_off: float, path: Path) -> None:
    plt = files.setup_matplotlib()
    fig, ax = plt.subplots(1, 2, figsize=(WIDTH, 3.2))
    # one position per point of the D axis (its readings crowd 300-712 on a scale of D)
    x = np.arange(len(agg))
    ok = agg["median_relative_error"].notna().to_numpy()
    ax[0].semilogy(x[ok], agg.loc[ok, "median_relative_error"], "o-", label="median over seeds")
    ax[0].semilogy(x[ok], agg.loc[ok, "max_relative_error"], "s--", label="largest")
    ax[0].axhline(round_off, color="k", ls=":", lw=1, label=f"round-off threshold {round_off:g}")
    ax[0].set_ylabel("relative inversion error", fontsize=FONT)
    ax[0].legend(fontsize=FONT)
    cond = agg["median_condition_number"].notna().to_numpy()
    ax[1].semilogy(x[cond], agg.loc[cond, "median_condition_number"], "o-", label="median over anchors and seeds")
    ax[1].semilogy(x[cond], agg.loc[cond, "max_condition_number"], "s--", label="largest")
    ax[1].set_ylabel("condition number (anchored system)", fontsize=FONT)
    ax[1].legend(fontsize=FONT)

    # under each D: the reading the config names (a variance share, full) and claim 1's outcome there
    def reading(lab, d):
        lab = str(lab)
        return f"{lab[3:]} %" if lab.startswith("var") else "" if lab == str(d) else lab

    ticks = [f"{d}\n{reading(lab, d)}\n{glyph(o)}" for d, lab, o in zip(agg["dim"], agg["dim_label"], agg["claim1_outcome"])]
    for a_ in ax:
        a_.set_xticks(list(x), ticks, fontsize=FONT)
        a_.minorticks_off()
        a_.tick_params(labelsize=FONT)
        a_.set_xlim(-0.5, len(agg) - 0.5)
        a_.set_xlabel("whitening dimension D (one position per point of the D axis)", fontsize=FONT)
    c = agg.loc[cond, ["median_condition_number", "max_condition_number"]].to_numpy(float)
    if c.size and np.nanmax(c) < 10 * np.nanmin(c):  # under a decade: a linear axis reads plainly
        ax[1].set_yscale("linear")
    fig.suptitle("\n".join(textwrap.wrap(
        "MNIST: inversion against the whitening dimension D. Under each D: its reading and claim 1's outcome (✓ supports, "
        "✗ contradicts, ? undetermined); a map whose prototypes do not span the space is inverted in the minimum-norm "
        "sense.", 110)), fontsize=FONT)
    fig.tight_layout()
    files.save_figure(fig, path, agg)


# ---------------------------------------------------------------- main
def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--blocks", nargs="+", required=True, help="the block files of the study (checks.json of each block)")
    p.add_argument("--default-checks", nargs="+", required=True,
                   help="the default run's checks files (the default point of every axis)")
    p.add_argument("--dim-inversion", nargs="*", default=[], help="inversion summaries of the D axis' blocks")
    p.add_argument("--default-inversion", nargs="*", default=[], help="inversion summaries of the default MNIST stages (at --dim)")
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="the config's seeds: the seed of each --default-inversion file")
    p.add_argument("--dim", type=dimension, required=True, help="the default MNIST dimension D (config mnist.dim)")
    add_verdict_args(p)
    p.add_argument("--table", required=True, help="every point's per-seed checks (tidy CSV) to write")
    p.add_argument("--points", required=True, help="the pooled outcome of every (claim, check, point) (CSV) to write")
    p.add_argument("--claims", required=True, help="the claim's outcome at every point (CSV) to write")
    p.add_argument("--sensitivity", required=True, help="the sensitivity table (CSV; its Markdown page beside it) to write")
    p.add_argument("--summary", required=True, help="the summary per claim (JSON) to write, which the report reads")
    p.add_argument("--figures", required=True, help="folder of the per-claim figures and Fig 29")
    p.add_argument("--inversion-table", required=True, help="Table 6, inversion against D (CSV; Markdown beside it)")
    a = p.parse_args(argv)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting logs every table at INFO
    boot = {"resamples": int(a.verdicts["resamples"]), "seed": int(a.verdicts["seed"]), "level": float(a.verdicts["level"])}
    settings, block_checks, samples, dims = read_blocks(a.blocks)
    if not settings:
        log.warning("the study's blocks hold no point off the default (every axis lists only the default's value)")
    default_checks = [c for path in a.default_checks for c in load_checks(path)]
    defaults, mine = default_point(settings, block_checks, default_checks)
    all_settings = {rb.DEFAULT: rb.Setting(rb.DEFAULT, None, ()), **settings}
    inv = inversion_vs_dim(a.dim_inversion, a.default_inversion, a.dim, a.seeds)
    if len(inv):
        dims.setdefault(str(a.dim), int(inv.loc[inv["dim_label"] == str(a.dim), "dim"].iloc[0])
                        if (inv["dim_label"] == str(a.dim)).any() else None)
        dims = {k: v for k, v in dims.items() if v is not None}
    checks = mine + block_checks

    # per-seed records, then the pooled outcomes
    frames = []
    for name, s in all_settings.items():
        cs = [c for c in checks if c.setting == name]
        if cs:
            frames.append(tidy(cs, axis=s.axis, value="" if s.is_default else tick(s.axis, s.value, dims)).assign(
                kind=[c.kind for c in cs], sesoi=[c.sesoi for c in cs], unit=[c.unit for c in cs],
                context=[c.context for c in cs], seed_outcome=[c.outcome for c in cs]))
    files.save_csv(a.table, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    rows = rb.point_outcomes(checks, all_settings, boot)
    claims = rb.claim_outcomes(rows)
    default_seeds = {}
    for c in mine:
        default_seeds.setdefault(c.claim, set()).add(c.seed)
    default_seeds = {k: len(v) for k, v in default_seeds.items()}
    pts = points_frame(rows, all_settings, samples, default_seeds, dims)
    files.save_csv(a.points, pts)
    cl = pd.DataFrame([{**r, "value": "" if r["axis"] == rb.DEFAULT else tick(r["axis"], r["value"], dims),
                        "below_headline": sample_note(r["claim"], r["setting"], samples, r["n_seeds"], default_seeds.get(r["claim"]))}
                       for r in claims])
    files.save_csv(a.claims, cl)
    table = rb.sensitivity(rows, claims, dims)
    for r in table:
        r["default_value"] = defaults.get(r["claim"], {}).get(r["axis"])
    units = {(r["claim"], r["check"]): r["unit"] for r in rows}
    notes = {}
    for r in rows:
        if r["axis"] != rb.DEFAULT:
            note = sample_note(r["claim"], r["setting"], samples, r["n_seeds"], None)
            if note:
                notes[(r["claim"], r["axis"], _key(r["value"]))] = note
    figs = Path(a.figures)
    study_seeds = sorted({c.seed for c in block_checks})
    head_seeds = sorted({c.seed for c in mine})
    design = (f"Every point moves one setting away from the default (this run's configuration: config.yaml is the paper's "
              f"setup); every other "
              f"setting stays at the default's. The default is the headline run ({seeds_text(head_seeds) if head_seeds else 'no seed'}); "
              f"the other points ran on {seeds_text(study_seeds) if study_seeds else 'no seed'}" + (
                  " or fewer (each point below the headline's sample says so)" if any("seeds" in n for n in notes.values())
                  else "") + ". A point's outcome pools its seeds as the report does (hierarchical bootstrap); a change is "
              "a different outcome from the default's.")
    figure_paths = {}
    for claim, num in FIGURE_OF_CLAIM.items():
        path = figs / f"fig{num:02d}_robustness_claim{claim}.png"
        if any(r["claim"] == claim for r in table):
            claim_figure(claim, table, defaults.get(claim, {}), dims, notes, seeds_note(claim, rows), path)
            figure_paths[claim] = f"../figures/{path.name}"
        else:  # every figure the workflow expects exists; this one says why it is empty
            _empty_figure(path, f"Claim {claim}: no point of the study off the default (its axes list only the default's values)")
    sens = sensitivity_frame(table, dims, units)
    files.save_csv(a.sensitivity, sens)
    with files.atomic_path(Path(a.sensitivity).with_suffix(".md"), suffix=".md") as tmp:
        tmp.write_text(sensitivity_markdown(table, defaults, dims, units, notes, figure_paths, design))
    summary = rb.summarise(table)
    for key, s in summary.items():
        s["figure"] = f"figures/fig{FIGURE_OF_CLAIM[int(key)]:02d}_robustness_claim{key}.png" if int(key) in FIGURE_OF_CLAIM else None
        below: dict[str, list] = {}
        for (c, axis, v), n in notes.items():
            if c == int(key):
                below.setdefault(n, []).append(tick(axis, v, dims))
        s["below_headline"] = [f"{n} (at {', '.join(vs)})" for n, vs in below.items()]
    summary["design"] = {"default_seeds": head_seeds, "study_seeds": study_seeds, "text": design,
                         "axes": {k: v for k, v in rb.AXES.items()}}

    # Table 6 and Fig 29: inversion against D, with claim 1's outcome at every D
    if len(inv):
        c1 = {r["setting"]: r["outcome"] for r in claims if r["claim"] == 1}
        outcome_of_label = {str(all_settings[name].values.get("dim", a.dim)): o for name, o in c1.items()
                            if name == rb.DEFAULT or all_settings[name].axis == "dim"}
        outcome_of_label.setdefault(str(a.dim), c1.get(rb.DEFAULT, "not judged"))
        agg = (inv.groupby(["dim", "dim_label"], as_index=False)
               .agg(seeds=("seed", "nunique"), n_points=("n_points", "max"), smallest_rank=("rank", "min"),
                    median_relative_error=("median_relative_error", "median"),
                    worst_median_relative_error=("median_relative_error", "max"), max_relative_error=("max_relative_error", "max"),
                    max_pixel_error_grey_levels=("max_pixel_error_grey_levels", "max"),
                    median_condition_number=("median_condition_number", "median"),
                    max_condition_number=("max_condition_number", "max"),
                    rank_deficient_seeds=("reason", lambda r: int((r != "").sum())))
               .sort_values("dim"))
        agg["claim1_outcome"] = [outcome_of_label.get(str(lab), "not judged") for lab in agg["dim_label"]]
        supported = [int(d) for d, o in zip(agg["dim"], agg["claim1_outcome"]) if o == "supports"]
        summary["inversion_vs_dim"] = {"largest_dim_where_claim1_supported": max(supported, default=None),
                                       "dims": [int(d) for d in agg["dim"]],
                                       "outcomes": {str(lab): o for lab, o in zip(agg["dim_label"], agg["claim1_outcome"])}}
        files.save_table(a.inversion_table, agg, title="Table 6: MNIST inversion against the whitening dimension D",
                         notes="Relative inversion error ||x̂ − x|| / ||x|| of test codes (anchored on the BMU, all K prototypes; "
                               "the minimum-norm inversion where the anchored systems are rank-deficient), the largest "
                               "pixel error of the decoded reconstruction in grey levels, and the condition number of "
                               "the anchored systems, over seeds. claim1_outcome: claim 1's outcome at that D, pooled over "
                               "its seeds as the report pools it. rank_deficient_seeds counts the seeds whose prototypes do "
                               "not span the whitened space.")
        inversion_figure(agg, claim_module(1).ROUND_OFF, figs / "fig29_inversion_vs_dim.png")
    else:
        files.save_table(a.inversion_table, pd.DataFrame(columns=["dim", "dim_label", "claim1_outcome"]),
                         title="Table 6: MNIST inversion against the whitening dimension D",
                         notes="No inversion summary was given (the D axis has no point and no default inversion).")
        _empty_figure(figs / "fig29_inversion_vs_dim.png", "no D axis in this study")
    files.save_json(a.summary, summary)
    for key, s in sorted((k, v) for k, v in summary.items() if k.isdigit()):
        log.info("claim %s: default %s; changing axes %s", key, s["default"], s["changing_axes"] or "none")


def _empty_figure(path: Path, text: str) -> None:
    plt = files.setup_matplotlib()
    fig, ax = plt.subplots(figsize=(WIDTH, 1.0))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=FONT)
    files.save_figure(fig, path, pd.DataFrame())


if __name__ == "__main__":
    files.run_main(main)

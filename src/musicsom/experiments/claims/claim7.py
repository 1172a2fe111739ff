"""Claim 7: the α, λ and κ sweeps on the MNIST 0 -> 1 trajectory (paper §5.3.6 and §6).

The unit of replication is the **start image**: every check turns one seed's sweep into one signed value
per start (:meth:`Bootstrap.units`), and the seeds' starts are pooled by the hierarchical bootstrap (seeds,
then starts). The paper measured one trajectory per setting, so a per-start statistic is its own quantity,
and a mean over starts is an average of what the paper reported, not a statistic of averaged paths (the
range of the mean confidence over α, the old rule, is smaller than the typical trajectory's range).

Checks, with the smallest effect of interest (SESOI) each one is read against and where it would flip:

1. **α changes mean confidence by under 1 pp** (``no_difference``, unit pp). Per start: the range over the α
   grid of the trajectory's mean classifier confidence, in percentage points. SESOI = 1 pp, the paper's own
   number ("varies by less than one percentage point across the full range of the preservation weight",
   §6). Supports when the interval's upper end is below 1 pp, contradicts when its lower end is at or above
   it; the interval is recorded, so the margin a reader would need is read off it.
2. **continuity rises with λ** (``directional``). Per start: the Spearman rank correlation of λ with the
   trajectory's step continuity over the λ grid (+1: continuity rises at every step of the grid). "Rises"
   is a statement of direction over the grid, not of size, and continuity lives near 1 in some regimes and
   near 0 in others, so a rank statistic reads both. Continuities are ranked on multiples of 1e-9
   (:data:`CONTINUITY_TIE`, a turning angle of ~0.003°): closer ones differ by round-off and tie. SESOI =
   0.1, the conventional "small" correlation (Cohen 1988): a mean rank correlation inside ±0.1 is no trend
   (one swap of neighbours in a 6-value grid moves a start's coefficient by 0.06); it then reads negligible.
3. **motion stalls at the largest λ** (``directional``). Per start: 1/2 − (path length at the largest λ) /
   (the longest path of the start at the other λ values: its motion in the operating range; with the trust
   region binding, the step budget n·η). The paper: at the largest λ "the flow becomes ultra-smooth but
   nearly stationary". Path length measures motion whatever the target does (the convergence ratio mixes
   motion with the step budget: at the paper's η the default run itself has not arrived after 150 steps;
   it is shown as evidence). "Nearly stationary" must at least mean that most of the motion is lost, and
   half is the weakest reading of "most", so the check is lenient: a stricter reading r (e.g. a tenth)
   flips it to contradicts wherever the recorded interval of 1/2 − ratio lies below 1/2 − r. SESOI = 0.05
   (a ratio within 0.45–0.55 is at the border of the reading: negligible, not decided).
4. **κ has no effect where every step is clipped** (``no_difference``, unit: share of the start-to-target
   distance). The paper's reason: "κ scales only the magnitude of δ, which is subsequently clipped by the
   step-size parameter η". Its premise is that the trust region clips every step; then every κ gives the
   same path, step for step. Qualifying κ values: those (other than the default) whose runs clip every
   step on every start of the seed (listed per κ in the evidence: the share of starts each one clips
   fully); units: the starts whose default-κ run also clips every step (the reference path must meet the
   premise too). Per start: the largest arc-length deviation (``path_deviation_arc`` of
   :func:`musicsom.experiments.mnist.sweep_rows`: the largest distance between the κ path and the
   default-κ path at equal arc length over their common length, over the start's distance to its target)
   over the qualifying κ. SESOI = 0.01 (:data:`PATH_SESOI`): a deviation of 1 % of the start-to-target
   distance moves any point's distance to the target by at most 1 % of the initial one (triangle
   inequality), i.e. the convergence ratio, the paper's sweep metric of motion, by at most 0.01; below
   that, "all metrics remain identical" at the precision a two-decimal ratio is read. A seed where no κ
   qualifies, or no start's default run clips every step, has nothing to measure: the check is recorded as
   unmeasurable with that reason, and its outcome is undetermined: the paper's premise does not hold there,
   and check 5 tests κ whatever the clipping.
5. **κ sets only the speed: the same curve at every κ** (``no_difference``, same unit and SESOI as 4).
   Per start: the largest arc-length deviation over every κ of the grid, whatever its clipping. Where the
   trust region does not clip, a step is κ times the unit-gain step (an Euler step of the same flow), so a
   κ path runs along nearly the same curve at another speed; the time-indexed deviation
   (``path_deviation``, the old rule's statistic) then measures the speed, and is shown as evidence only,
   with each κ's smallest and largest share of clipped steps (its clipping regime).
6. **κ leaves mean confidence unchanged** (``no_difference``, pp) and 7. **κ leaves the convergence ratio
   unchanged** (``no_difference``, share of the distance): what the paper literally claimed ("all metrics
   remain identical across κ"), per start the range over the κ grid. SESOIs: 1 pp, the paper's own yardstick
   of a sweep with no effect (check 1), and 0.01, the SESOI of checks 4-5 in the ratio's own unit. Where κ
   changes the speed, the convergence ratio after a fixed number of steps changes with it: check 7 is
   where a speed effect shows in the paper's metrics, check 5 where it does not in the path.

Where each outcome would flip: a ``no_difference`` check supports for any SESOI above its interval's upper
end and contradicts for any at or below its lower end, so the recorded interval (in the check's unit) is the
range of margins over which the reading is open; check 3 (its interval is of 1/2 − ratio) would support
for any stall reading r ("the ratio is below r") above 1/2 − (its lower end) and contradict for any below
1/2 − (its upper end); check 2 reads negligible once the SESOI exceeds the larger magnitude of its ends.

Each check needs the sweep it reads; ``checks`` builds those of the sweeps it is given (one file at a time
in the claims stage). Values that cannot be measured (a start missing at some value, a path of no length)
are dropped from the units and counted in the evidence.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, spearman_rows, unmeasurable

NUMBER = 7
TITLE = "MNIST sweeps: alpha, lambda, kappa"
PAPER = (
    "Mean confidence varies by under one percentage point across alpha; continuity rises with lambda and motion "
    "stalls at large lambda; kappa has no effect in informed mode."
)
#: the paper's own margin for "mean confidence varies by less than one percentage point" (pp)
CONFIDENCE_SESOI_PP = 1.0
#: the smallest mean rank correlation that counts as a trend (Cohen's "small" correlation)
SPEARMAN_SESOI = 0.1
#: continuities are ranked on multiples of this (closer ones tie: round-off of a mean cosine)
CONTINUITY_TIE = 1e-9
#: "nearly stationary": the largest-λ run travels less than this share of the start's longest path at the other λ
STALL_RATIO = 0.5
#: a path-length ratio this close to STALL_RATIO is at the border of the reading
STALL_SESOI = 0.05
#: a path deviation (and a convergence-ratio range) below this share of the start-to-target distance is no effect
PATH_SESOI = 0.01
RULE = (
    "per seed, one value per start image of the 0 -> 1 sweeps, pooled over seeds (hierarchical bootstrap): "
    f"the range over alpha of the mean confidence is within {CONFIDENCE_SESOI_PP:g} pp (no difference); the Spearman "
    f"correlation of lambda with continuity is above 0 (SESOI {SPEARMAN_SESOI:g}); the path length at the largest "
    f"lambda is under {STALL_RATIO:g} of the longest at the other lambda values (SESOI {STALL_SESOI:g}); the largest "
    f"arc-length deviation from the default-kappa path, over the start's distance to its target, is within {PATH_SESOI:g} over "
    "the kappa values that clip every step (the paper's premise) and over every kappa; the ranges over kappa of the "
    f"mean confidence and of the convergence ratio are within {CONFIDENCE_SESOI_PP:g} pp and {PATH_SESOI:g}"
)

#: the κ sweep's columns that the κ path checks read (made by sweep_rows since claim 7 compares curves)
KAPPA_COLUMNS = ("path_deviation_arc", "share_clipped")


def matrix(sweep, metric: str):
    """(starts, values) array of ``metric`` from one sweep's rows (columns value, start, metric), values sorted."""
    if metric not in sweep.columns:
        raise ValueError(f"the sweep table has no column {metric!r}: regenerate it with the mnist.sweep stage")
    t = sweep.pivot_table(index="start", columns="value", values=metric, aggfunc="first", dropna=False).sort_index(axis=1)
    return t.to_numpy(float), t.columns.to_numpy(float)


def _default_value(sweep) -> float | None:
    """The default value of the swept setting (the rows flagged ``is_default``), or None when the grid lacks it."""
    if "is_default" not in sweep.columns:
        return None
    d = sweep.loc[sweep["is_default"].astype(bool), "value"]
    return float(d.iloc[0]) if len(d) else None


def _default_share_clipped(sweep) -> np.ndarray | None:
    """Per start (sorted), the share of steps the default-value run clipped: its column, else its own rows."""
    if "share_clipped_default" in sweep.columns:
        return sweep.groupby("start")["share_clipped_default"].first().sort_index().to_numpy(float)
    d = _default_value(sweep)
    if d is None:
        return None
    S, vals = matrix(sweep, "share_clipped")
    return S[:, int(np.flatnonzero(np.isclose(vals, d))[0])]


def _alpha(sweep, seed, u, setting):
    V, vals = matrix(sweep, "mean_confidence")
    rng = 100 * (V.max(axis=1) - V.min(axis=1))  # NaN for a start missing at some alpha: it has no range over the grid
    return [u("alpha changes mean confidence by under 1 pp", "per start, range over alpha of the mean confidence (pp)",
              rng, ev("alpha grid: smallest value", vals.min()), ev("alpha grid: largest value", vals.max()),
              ev("largest per-start range (pp)", np.nanmax(rng) if np.isfinite(rng).any() else None),
              ev("range over alpha of the mean (over starts) mean confidence (pp)", 100 * np.ptp(np.nanmean(V, axis=0))),
              kind="no_difference", sesoi=CONFIDENCE_SESOI_PP, unit="pp")]


def _lam(sweep, seed, u, setting):
    C, lams = matrix(sweep, "continuity")
    rho = spearman_rows(lams, np.round(C / CONTINUITY_TIE))  # rows = starts; round-off differences tie
    rho[~np.all(np.isfinite(C), axis=1)] = np.nan
    deg = lambda c: float(np.degrees(np.arccos(np.clip(np.nanmean(c), -1, 1))))  # noqa: E731
    out = [u("continuity rises with lambda", "per start, Spearman correlation of lambda with continuity", rho,
             ev("mean continuity at the smallest lambda", np.nanmean(C[:, 0])),
             ev("mean continuity at the largest lambda", np.nanmean(C[:, -1])),
             ev("angle of the mean step cosine at the smallest lambda (degrees)", deg(C[:, 0])),
             ev("angle of the mean step cosine at the largest lambda (degrees)", deg(C[:, -1])),
             ev("smallest lambda", lams.min()), ev("largest lambda", lams.max()),
             kind="directional", sesoi=SPEARMAN_SESOI)]
    name, stat = "motion stalls at the largest lambda", (
        f"per start, {STALL_RATIO:g} - path length at the largest lambda / the longest path at the other lambda values")
    if lams.size < 2:
        out.append(_unmeasurable(seed, name, stat, "the lambda grid has one value: there is no other lambda to compare "
                                 "the largest lambda's motion with", "directional", STALL_SESOI, "", setting))
        return out
    L, _ = matrix(sweep, "path_length")
    R, _ = matrix(sweep, "convergence_ratio")
    most = L[:, :-1].max(axis=1)  # NaN where a start misses a value
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(most > 0, L[:, -1] / most, np.nan)
    d = _default_value(sweep)
    at_default = [] if d is None else [ev("mean convergence ratio at the default lambda",
                                          np.nanmean(R[:, int(np.flatnonzero(np.isclose(lams, d))[0])])), ev("default lambda", d)]
    out.append(u(name, stat, STALL_RATIO - ratio,
                 ev("mean path length ratio (largest lambda / longest at the other values)", np.nanmean(ratio)),
                 ev("largest per-start path length ratio", np.nanmax(ratio) if np.isfinite(ratio).any() else None),
                 ev("mean convergence ratio at the largest lambda", np.nanmean(R[:, -1])), *at_default,
                 ev("largest lambda", lams.max()), kind="directional", sesoi=STALL_SESOI))
    return out


def _unmeasurable(seed, name, statistic, reason, kind, sesoi, unit, setting):
    op, threshold = ("within", sesoi) if kind == "no_difference" else (">", 0.0)
    c = unmeasurable(NUMBER, seed, name, statistic, op, threshold, reason, setting=setting)
    return dataclasses.replace(c, kind=kind, sesoi=float(sesoi), unit=unit)


def _kappa(sweep, seed, u, setting):
    out = []
    full_name = "kappa has no effect where every step is clipped"
    full_stat = "per start, largest arc-length deviation from the default-kappa path over the kappa values that clip every step"
    all_name, all_stat = ("kappa sets only the speed: the same curve at every kappa",
                          "per start, largest arc-length deviation from the default-kappa path over every kappa")
    missing = [c for c in KAPPA_COLUMNS if c not in sweep.columns]
    d = _default_value(sweep)
    if missing:
        why = (f"the kappa sweep table lacks {missing} (made before claim 7 compared curves): rerun the mnist.sweep "
               "stage for kappa")
        out += [_unmeasurable(seed, full_name, full_stat, why, "no_difference", PATH_SESOI, "of the distance", setting),
                _unmeasurable(seed, all_name, all_stat, why, "no_difference", PATH_SESOI, "of the distance", setting)]
    else:
        A, kappas = matrix(sweep, "path_deviation_arc")
        S, _ = matrix(sweep, "share_clipped")
        others = ~np.isclose(kappas, d) if d is not None else np.ones(kappas.size, bool)
        full = np.all(S >= 1.0, axis=0)  # κ values whose runs clip every step on every start
        qualify = full & others
        per_kappa = [ev(f"share of starts whose every step kappa = {k:g} clips", np.mean(S[:, j] >= 1.0))
                     for j, k in enumerate(kappas)]
        default_full = _default_share_clipped(sweep)
        if not qualify.any():
            out.append(_unmeasurable(
                seed, full_name, full_stat,
                "no kappa value other than the default clips every step on every start of this seed (the paper's "
                "premise); share of starts fully clipped per kappa: "
                + ", ".join(f"{k:g}: {np.mean(S[:, j] >= 1.0):.2f}" for j, k in enumerate(kappas)),
                "no_difference", PATH_SESOI, "of the distance", setting))
        elif default_full is None or not np.any(default_full >= 1.0):
            out.append(_unmeasurable(
                seed, full_name, full_stat,
                "the default-kappa run clips every step on no start of this seed: the reference path does not meet "
                "the paper's premise", "no_difference", PATH_SESOI, "of the distance", setting))
        else:
            premise = default_full >= 1.0  # the reference path must meet the premise too
            out.append(u(full_name, full_stat, np.max(A[premise][:, qualify], axis=1), *per_kappa,
                         ev("kappa values (other than the default) that clip every step on every start", qualify.sum()),
                         ev("smallest such kappa", kappas[qualify].min()),
                         ev("starts left out: their default-kappa run does not clip every step", int((~premise).sum())),
                         kind="no_difference", sesoi=PATH_SESOI, unit="of the distance"))
        sel = others if others.any() else np.ones(kappas.size, bool)
        regime = [e for j, k in enumerate(kappas) for e in (
            ev(f"kappa = {k:g}: smallest share of steps clipped", np.nanmin(S[:, j])),
            ev(f"kappa = {k:g}: largest share of steps clipped", np.nanmax(S[:, j])))]
        context = []  # what else the table says about κ (older tables may lack a column: then it is left out)
        for column, quantity, of in (
                ("path_deviation", "largest time-indexed deviation from the default-kappa path (the speed, not the path)",
                 lambda X: np.nanmax(X)),
                ("first_step_cos_to_default", "smallest cosine of a first step with the default one", lambda X: np.nanmin(X)),
                ("crossing_arc", "largest range over kappa of the arc length to the crossing (share of the distance)",
                 lambda X: np.nanmax(np.nanmax(X, axis=1) - np.nanmin(X, axis=1)))):
            if column in sweep.columns and np.isfinite(matrix(sweep, column)[0]).any():
                with warnings.catch_warnings():  # a start that never crosses has no crossing arc at any κ
                    warnings.simplefilter("ignore", RuntimeWarning)
                    context.append(ev(quantity, of(matrix(sweep, column)[0])))
        out.append(u(all_name, all_stat, np.max(A[:, sel], axis=1), *regime, *context,
                     kind="no_difference", sesoi=PATH_SESOI, unit="of the distance"))
    V, _ = matrix(sweep, "mean_confidence")
    out.append(u("kappa leaves mean confidence unchanged", "per start, range over kappa of the mean confidence (pp)",
                 100 * (V.max(axis=1) - V.min(axis=1)), kind="no_difference", sesoi=CONFIDENCE_SESOI_PP, unit="pp"))
    R, _ = matrix(sweep, "convergence_ratio")
    out.append(u("kappa leaves the convergence ratio unchanged", "per start, range over kappa of the convergence ratio",
                 R.max(axis=1) - R.min(axis=1), ev("mean convergence ratio at the smallest kappa", np.nanmean(R[:, 0])),
                 ev("mean convergence ratio at the largest kappa", np.nanmean(R[:, -1])),
                 kind="no_difference", sesoi=PATH_SESOI, unit="of the distance"))
    return out


def checks(sweeps: dict, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``sweeps``: {"alpha" | "lam" | "kappa": that sweep's rows (value, start, metrics...)} for one seed.

    Each sweep given yields its checks (module notes); a sweep not given yields none.
    """
    unknown = set(sweeps) - {"alpha", "lam", "kappa"}
    if unknown:
        raise ValueError(f"sweeps must be keyed by alpha, lam or kappa; got {sorted(unknown)}")
    u = lambda *args, **kw: boot.units(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    out = []
    for param, build in (("alpha", _alpha), ("lam", _lam), ("kappa", _kappa)):
        if param in sweeps:
            out += build(sweeps[param], seed, u, setting)
    return out

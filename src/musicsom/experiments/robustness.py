"""The sensitivity study: each setting the paper leaves open, moved one at a time around the default. Pure; no I/O.

Design. The default (``config.yaml``: the paper's setup, with our values where the paper is silent) is one
point shared by every axis. Each other point moves one axis away from it and leaves every other setting
at its default, so a difference from the default is that axis' doing and no grid share over an arbitrary
cross is needed. Axes (:data:`AXES`): the energy form with its α (one axis: an α means another balance in
each form), the preserved set, the trust radius η, κ (the step fraction the α and λ sweeps run at), the
cluster mode, the MNIST whitening dimension D and its reading (a number of components, a variance share,
or every component), and free evolution's step length and number of steps. An experiment crosses no axes
and carries only the axes that can change its checks (claim 1 is on the D axis alone: MUSIC's settings
cannot change an inversion).

The outcome of a check at a point is :func:`musicsom.experiments.claims.pool` over its seeds' checks (the
report's own rule, with units pooled by the hierarchical bootstrap); the claim's outcome at a point is
:func:`musicsom.experiments.claims.combine_outcomes` over its deciding (non-context) checks. The sensitivity
table (:func:`sensitivity`) has one row per (claim, check, axis): the default's outcome, the outcome at every
value of the axis, whether moving along the axis changes the outcome, and where. :func:`summarise` says,
per claim, along which axes a deciding check changes and where.

A :class:`Setting` is one point: the axis it moves (``"default"`` for the default), its value there, and
the default's values of every axis of its block (:attr:`Setting.values` applies the move). The preservation
axis holds ``"all"`` (``preserve_ring: null``, every other prototype) or a ring size; the energy axis holds
``(form, α)``; the D axis the config's spelling of D (an integer, ``full`` or ``var<percent>``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from musicsom.experiments.claims import Check, combine_outcomes, pool

__all__ = ["Setting", "ALL", "DEFAULT", "AXES", "ENERGY_FORMS", "preserve_axis", "energy_points", "value_label",
           "sort_values", "same_value", "sensitivity_grid", "gmm_grid", "mnist_grid", "dim_grid", "sweep_grid", "kmeans_grid",
           "faces_grid", "point_outcomes", "claim_outcomes", "sensitivity", "summarise"]

ENERGY_FORMS = ("plain", "per_row_mean")
#: the preservation axis' value for "every other prototype" (``preserve_ring: null`` in the config)
ALL = "all"
#: the axis (and name) of the default point
DEFAULT = "default"
#: every axis of the study, in the order tables and figures show them, with its title
AXES = {
    "energy": "energy form, α",
    "preserve": "preserved set",
    "eta": "trust radius η",
    "kappa": "κ of the α, λ sweeps",
    "cluster": "cluster mode",
    "dim": "whitening D",
    "free_eta": "free evolution η",
    "free_steps": "free evolution steps",
}
#: the cluster modes of the Gaussian mixture, as tables write them
CLUSTER_MODES = {"cluster_random": "random target", "cluster": "all targets"}
#: the outcomes of a check, in the order a legend lists them
OUTCOMES = ("supports", "contradicts", "negligible", "undetermined")


def preserve_axis(preserve_ring) -> str | int:
    """The preservation axis' value of a ``preserve_ring`` (None, the config's null: every other prototype)."""
    return ALL if preserve_ring is None else int(preserve_ring)


def energy_points(energy: dict) -> list[tuple[str, float]]:
    """(energy form, α) pairs of an ``energy`` section ({"plain": [...], "per_row_mean": [...]})."""
    unknown = set(energy) - set(ENERGY_FORMS)
    if unknown:
        raise ValueError(f"energy forms must be among {ENERGY_FORMS}; got {sorted(unknown)}")
    return [(form, float(a)) for form in ENERGY_FORMS for a in energy.get(form, [])]


def _energy_of(music) -> tuple[str, float]:
    """(energy form, α) of a :class:`~musicsom.music.MusicParams`."""
    return ("per_row_mean" if music.per_row_mean else "plain", float(music.alpha))


def same_value(a, b) -> bool:
    """Two values of an axis are the same point (numbers to round-off, energy pairs element-wise)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    return str(a) == str(b)


def value_label(axis: str, value) -> str:
    """A value as tables and figures write it (``plain α=0.999``, ``1-ring``, ``var 99.9 %``, ``0.05``)."""
    if axis == "energy":
        form, alpha = value
        return f"{'plain' if form == 'plain' else 'row-mean'} α={float(alpha):g}"
    if axis == "preserve":
        return ALL if str(value) == ALL else f"{int(value)}-ring"
    if axis == "dim":
        text = str(value)
        return f"var {text[3:]} %" if text.startswith("var") else text
    if axis == "cluster":
        return CLUSTER_MODES.get(str(value), str(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _key(axis: str, value):
    """A sort key of a value along its axis (numbers ascending; ``all`` before rings; energy by form, then α;
    D by its number of components where known, ``var`` readings by their share, ``full`` last)."""
    if axis == "energy":
        return (ENERGY_FORMS.index(value[0]) if value[0] in ENERGY_FORMS else 9, float(value[1]))
    if axis == "preserve":
        return (-1,) if str(value) == ALL else (int(value),)
    if axis == "dim":
        text = str(value)
        return (2, 0.0) if text == "full" else (1, float(text[3:])) if text.startswith("var") else (0, float(text))
    if isinstance(value, (int, float)):
        return (float(value),)
    return (str(value),)


def sort_values(axis: str, values, dims: dict | None = None) -> list:
    """``values`` of ``axis`` in reading order; ``dims`` (D spelling -> number of components) orders the D axis by D."""
    if axis == "dim" and dims:
        return sorted(values, key=lambda v: (dims.get(str(v), math.inf), _key(axis, v)))
    return sorted(values, key=lambda v: _key(axis, v))


@dataclass(frozen=True)
class Setting:
    """One point of the study: the ``axis`` it moves (``"default"``: none) to ``value``, every other axis at ``base``."""

    axis: str
    value: object
    base: tuple  # ((axis, default value), ...): the default's value of every axis of the block

    def __post_init__(self):
        if self.axis != DEFAULT and self.axis not in AXES:
            raise ValueError(f"axis must be one of {list(AXES)} or {DEFAULT!r}; got {self.axis!r}")

    @property
    def is_default(self) -> bool:
        return self.axis == DEFAULT

    @property
    def values(self) -> dict:
        v = dict(self.base)
        if not self.is_default:
            v[self.axis] = self.value
        return v

    @property
    def name(self) -> str:
        return DEFAULT if self.is_default else f"{self.axis}={value_label(self.axis, self.value)}"

    def value_on(self, axis: str):
        """This point's value on ``axis`` (the default's, unless it moves that axis)."""
        return self.values[axis]

    def music_params(self, music):
        """The :class:`~musicsom.music.MusicParams` of this point: ``music`` with its axes applied (D, the cluster
        mode and free evolution's axes are not MUSIC parameters and are left to the stage)."""
        v, kw = self.values, {}
        if "energy" in v:
            form, alpha = v["energy"]
            kw["per_row_mean"], kw["alpha"] = form == "per_row_mean", float(alpha)
        for k in ("eta", "kappa"):
            if k in v:
                kw[k] = float(v[k])
        if "preserve" in v:
            kw["preserve_ring"] = None if str(v["preserve"]) == ALL else int(v["preserve"])
        return dataclasses.replace(music, **kw).validate()

    def as_dict(self) -> dict:
        """JSON form (tuples become lists): name, axis, value, its label, the default's values, the point's values."""
        return {"name": self.name, "axis": self.axis, "value": _plain(self.value),
                "label": "default" if self.is_default else value_label(self.axis, self.value),
                "base": {k: _plain(v) for k, v in self.base}, "values": {k: _plain(v) for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "Setting":
        def tup(k, v):
            return (str(v[0]), float(v[1])) if k == "energy" else v

        try:
            base = tuple((k, tup(k, v)) for k, v in d["base"].items())
            axis = str(d["axis"])
            value = None if axis == DEFAULT else tup(axis, d["value"])
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"a setting record lacks a field or has a wrong type ({exc})") from None
        return cls(axis, value, base)


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def sensitivity_grid(default: dict, axes: dict) -> list[Setting]:
    """The default point, then every value of every axis in ``axes`` that differs from the default's, moved alone.

    ``default``: {axis: default value} for every axis of the block; ``axes``: {axis: [values]} (a value equal to
    the default's is the default point itself, shared; a repeated value is run once).
    """
    unknown = set(axes) - set(default)
    if unknown:
        raise ValueError(f"axes {sorted(unknown)} have no default value (known: {sorted(default)})")
    base = tuple((k, default[k]) for k in AXES if k in default)
    out = [Setting(DEFAULT, None, base)]
    for axis in (k for k in AXES if k in axes):
        seen = [default[axis]]
        for v in axes[axis]:
            if not any(same_value(v, s) for s in seen):
                seen.append(v)
                out.append(Setting(axis, v, base))
    return out


def gmm_grid(study: dict, music, cluster: str = "cluster_random") -> list[Setting]:
    """Claim 3 (the Gaussian mixture): energy form and α, the preserved set, η and the cluster mode, one at a time."""
    default = {"energy": _energy_of(music), "preserve": preserve_axis(music.preserve_ring), "eta": float(music.eta),
               "cluster": cluster}
    return sensitivity_grid(default, {"energy": energy_points(study["energy"]),
                                      "preserve": [preserve_axis(p) for p in study["preserve"]],
                                      "eta": [float(t) for t in study["eta"]], "cluster": list(study["cluster"])})


def mnist_grid(study: dict, music) -> list[Setting]:
    """Claims 4-6 at the default D: energy form and α, the preserved set and η, one at a time."""
    default = {"energy": _energy_of(music), "preserve": preserve_axis(music.preserve_ring), "eta": float(music.eta)}
    return sensitivity_grid(default, {"energy": energy_points(study["energy"]),
                                      "preserve": [preserve_axis(p) for p in study["preserve"]],
                                      "eta": [float(t) for t in study["eta"]]})


def dim_grid(dims, default_dim) -> list[Setting]:
    """Claims 1 and 4-6 along D (the default MUSIC settings at every D): the default D first."""
    return sensitivity_grid({"dim": str(default_dim)}, {"dim": [str(d) for d in dims]})


def sweep_grid(study: dict, music) -> list[Setting]:
    """Claim 7 (the α, λ, κ sweeps): η and the κ the α and λ sweeps run at (the κ sweep's reference), one at a time."""
    default = {"eta": float(music.eta), "kappa": float(music.kappa)}
    return sensitivity_grid(default, {"eta": [float(t) for t in study["eta"]], "kappa": [float(k) for k in study["kappa"]]})


def kmeans_grid(study: dict, music) -> list[Setting]:
    """Claim 9: energy form and α, and η, one at a time (every other prototype preserved: k-means has no lattice)."""
    default = {"energy": _energy_of(music), "eta": float(music.eta)}
    return sensitivity_grid(default, {"energy": energy_points(study["energy"]), "eta": [float(t) for t in study["eta"]]})


def faces_grid(study: dict, music, free: dict) -> list[Setting]:
    """Claim 8: energy form and α, the preserved set, and free evolution's step length and number of steps,
    one at a time (free evolution's default step length is ``music.eta``, its default steps ``free["n_steps"]``)."""
    default = {"energy": _energy_of(music), "preserve": preserve_axis(music.preserve_ring), "free_eta": float(music.eta),
               "free_steps": int(free["n_steps"])}
    return sensitivity_grid(default, {"energy": energy_points(study["energy"]),
                                      "preserve": [preserve_axis(p) for p in study["preserve"]],
                                      "free_eta": [float(t) for t in study["free_eta"]],
                                      "free_steps": [int(n) for n in study["free_steps"]]})


# ---------------------------------------------------------------- outcomes and sensitivity
def point_outcomes(checks: list[Check], settings: dict, boot: dict | None = None) -> list[dict]:
    """One row per (claim, check, setting) of ``checks`` (every seed's, their ``setting`` a key of ``settings``:
    name -> :class:`Setting`): the pooled :class:`~musicsom.experiments.outcomes.Outcome` (``pool``) and what it rests on.

    ``boot``: the bootstrap of the pooling (resamples, seed, level). Rows: claim, check, setting, axis, value,
    context, unit, outcome (the ``Outcome``), n_seeds, seeds.
    """
    boot = boot or {}
    groups: dict[tuple, list[Check]] = {}
    for c in checks:
        if c.setting not in settings:
            raise ValueError(f"check {c.name!r} of claim {c.claim} has setting {c.setting!r}, which is not a point of the "
                             f"study ({sorted(settings)})")
        groups.setdefault((c.claim, c.name, c.setting), []).append(c)
    rows = []
    for (claim, name, setting), group in groups.items():
        s = settings[setting]
        rows.append({"claim": int(claim), "check": name, "setting": setting, "axis": s.axis, "value": s.value,
                     "context": any(c.context for c in group), "unit": group[0].unit, "outcome": pool(group, **boot),
                     "n_seeds": len({c.seed for c in group}), "seeds": sorted({c.seed for c in group})})
    return rows


def claim_outcomes(rows: list[dict]) -> list[dict]:
    """One row per (claim, setting) of :func:`point_outcomes`' rows: the claim's outcome there
    (``combine_outcomes`` over its deciding checks) and how many deciding checks gave each outcome."""
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        by.setdefault((r["claim"], r["setting"]), []).append(r)
    out = []
    for (claim, setting), group in by.items():
        deciding = [r["outcome"].outcome for r in group if not r["context"]]
        out.append({"claim": claim, "setting": setting, "axis": group[0]["axis"], "value": group[0]["value"],
                    "outcome": combine_outcomes(deciding), **{o: deciding.count(o) for o in OUTCOMES},
                    "n_deciding": len(deciding), "n_seeds": max(r["n_seeds"] for r in group)})
    return out


CLAIM_ROW = "(the claim)"


def sensitivity(rows: list[dict], claims: list[dict] | None = None, dims: dict | None = None) -> list[dict]:
    """The sensitivity table: one row per (claim, check, axis) of :func:`point_outcomes`' rows.

    Each row: claim, check, context, axis, default (the default's outcome: an ``Outcome``, or None where the default
    did not measure the check), points ([(value, Outcome), ...]: the axis' other values in reading order; the
    default is its own column), changes (True when some value's outcome differs from the default's; never when
    the default did not measure the check), where ([the values whose outcome differs]). ``claims``
    (:func:`claim_outcomes`' rows) adds one row per (claim, axis) whose check is :data:`CLAIM_ROW` and whose outcomes
    are the claim's (strings). ``dims`` orders the D axis by the number of components.
    """
    default = {(r["claim"], r["check"]): r["outcome"] for r in rows if r["axis"] == DEFAULT}
    groups: dict[tuple, list] = {}
    context = {}
    for r in rows:
        context[(r["claim"], r["check"])] = context.get((r["claim"], r["check"]), False) or r["context"]
        if r["axis"] != DEFAULT:
            groups.setdefault((r["claim"], r["check"], r["axis"]), []).append((r["value"], r["outcome"]))
    out = []
    for (claim, check, axis), pts in groups.items():
        out.append(_row(claim, check, axis, default.get((claim, check)), pts, context[(claim, check)], dims))
    if claims:
        cdefault = {r["claim"]: r["outcome"] for r in claims if r["axis"] == DEFAULT}
        cgroups: dict[tuple, list] = {}
        for r in claims:
            if r["axis"] != DEFAULT:
                cgroups.setdefault((r["claim"], r["axis"]), []).append((r["value"], r["outcome"]))
        for (claim, axis), pts in cgroups.items():
            out.append(_row(claim, CLAIM_ROW, axis, cdefault.get(claim), pts, False, dims))
    order = {a: i for i, a in enumerate(AXES)}
    checks_order = {}
    for r in rows:
        checks_order.setdefault((r["claim"], r["check"]), len(checks_order))
    out.sort(key=lambda r: (r["claim"], r["check"] != CLAIM_ROW, r["context"], checks_order.get((r["claim"], r["check"]), 0),
                            order.get(r["axis"], 99)))
    return out


def _word(o) -> str | None:
    return None if o is None else o if isinstance(o, str) else o.outcome


def _row(claim, check, axis, default, pts, context, dims) -> dict:
    values = sort_values(axis, [v for v, _ in pts], dims)
    by_value = {}
    for v, o in pts:
        by_value.setdefault(_hashable(v), o)
    points = [(v, by_value[_hashable(v)]) for v in values]
    where = [v for v, o in points if default is not None and _word(o) != _word(default)]
    return {"claim": int(claim), "check": check, "context": bool(context), "axis": axis, "default": default,
            "points": points, "changes": bool(where), "where": where}


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def summarise(table: list[dict]) -> dict:
    """Per claim (key: the claim number as text): the default's outcome, and along which axes a deciding check
    (or the claim itself) changes outcome, and where.

    ``{"3": {"default": "mixed", "axes": {"eta": {"changes": True, "where": ["0.05"], "checks": {check: [[value,
    outcome], ...]}, "claim": [[value, outcome], ...]}}, "changing_axes": ["eta"], "changes": ["η ...", ...]}}``;
    ``changes`` holds one sentence per changing axis, for the report.
    """
    out: dict[str, dict] = {}
    for r in table:
        s = out.setdefault(str(r["claim"]), {"default": None, "axes": {}, "changing_axes": [], "changes": []})
        a = s["axes"].setdefault(r["axis"], {"changes": False, "where": [], "checks": {}, "claim": []})
        if r["check"] == CLAIM_ROW:
            s["default"] = _word(r["default"])
            a["claim"] = [[value_label(r["axis"], v), _word(o)] for v, o in r["points"]]
            continue
        if r["context"] or not r["changes"]:
            continue
        a["changes"] = True
        a["checks"][r["check"]] = [[value_label(r["axis"], v), _word(o)] for v, o in r["points"]
                                   if v in r["where"]] + [["default", _word(r["default"])]]
        for v in r["where"]:
            label = value_label(r["axis"], v)
            if label not in a["where"]:
                a["where"].append(label)
    for s in out.values():
        s["axes"] = {k: s["axes"][k] for k in AXES if k in s["axes"]}
        s["changing_axes"] = [k for k in AXES if k in s["axes"] and s["axes"][k]["changes"]]
        for k in s["changing_axes"]:
            a = s["axes"][k]
            parts = []
            for check, moved in a["checks"].items():
                at: dict[str, list] = {}
                for lab, o in moved[:-1]:
                    at.setdefault(o, []).append(lab)
                parts.append(f"'{check}' {moved[-1][1]} at the default, " + ", ".join(
                    f"{o} at {', '.join(labs)}" for o, labs in at.items()))
            s["changes"].append(f"{AXES[k]}: " + "; ".join(parts))
    return out

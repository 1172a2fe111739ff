"""The robustness study: grids of the settings the paper does not state, and where a claim holds. Pure; no I/O.

The grid functions take the experiment's default :class:`~musicsom.music.MusicParams` (``music``); the
preservation axis holds ``"all"`` (``preserve_ring: null``, every other prototype) or a ring size.

A :class:`Setting` is one grid point: the values of its axes (energy form, α, preservation set, trust
radius, dimension, ...) and whether it is the default configuration or the paper's stated setup. The
grid functions build each experiment's points from the ``robustness`` section of the config; the claim
modules evaluate their checks at every point with the report's own rules; :func:`summarise` says, per
claim, at how many points the claim holds, where, and what it gives at the default and the paper's setup.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

from musicsom.experiments.claims import across_seeds, combine

__all__ = ["Setting", "ALL", "preserve_axis", "energy_points", "gmm_grid", "mnist_grid", "sweep_grid", "kmeans_grid", "faces_grid",
           "dim_grid", "claim_verdicts", "summarise", "ENERGY_FORMS"]

ENERGY_FORMS = ("plain", "per_row_mean")
#: the order in which axes are written in a setting's name
AXES = ("dim", "energy", "alpha", "preserve", "eta", "cluster", "free_eta", "free_steps")


@dataclass(frozen=True)
class Setting:
    """One grid point: axis values, and whether it is the default or the paper's setup."""

    axes: tuple  # ((axis, value), ...) in AXES order
    is_default: bool = False
    is_paper: bool = False
    labels: tuple = field(default=(), compare=False)  # ("default", "paper setup")

    @property
    def values(self) -> dict:
        return dict(self.axes)

    @property
    def name(self) -> str:
        return " ".join(f"{k}={_fmt(v)}" for k, v in self.axes)

    def music_params(self, base):
        """The :class:`~musicsom.music.MusicParams` of this point: ``base`` with this point's axes applied."""
        v, kw = self.values, {}
        if "energy" in v:
            kw["per_row_mean"] = v["energy"] == "per_row_mean"
        for k in ("alpha", "eta"):
            if k in v:
                kw[k] = float(v[k])
        if "preserve" in v:
            kw["preserve_ring"] = None if v["preserve"] == ALL else int(v["preserve"])
        return dataclasses.replace(base, **kw).validate()


#: the preservation axis' value for "every other prototype" (``preserve_ring: null`` in the config)
ALL = "all"


def preserve_axis(preserve_ring) -> str | int:
    """The preservation axis' value of a ``preserve_ring`` (None, the config's null: every other prototype)."""
    return ALL if preserve_ring is None else int(preserve_ring)


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def make(values: dict, default: dict, paper: dict | None = None) -> Setting:
    """A :class:`Setting` of ``values``, flagged default (every axis at ``default``) or paper (at ``paper``)."""
    axes = tuple((k, values[k]) for k in AXES if k in values)

    def matches(ref):
        return ref is not None and all(_same(values.get(k), ref.get(k)) for k in values if k in ref)

    is_default, is_paper = matches(default), matches(paper)
    labels = tuple(x for x, f in (("default", is_default), ("paper setup", is_paper)) if f)
    return Setting(axes, is_default, is_paper, labels)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    return a == b


def energy_points(energy: dict) -> list[tuple[str, float]]:
    """(energy form, α) pairs of a grid's ``energy`` section ({"plain": [...], "per_row_mean": [...]})."""
    return [(form, float(a)) for form in ENERGY_FORMS for a in energy.get(form, [])]


def _dedup(settings) -> list[Setting]:
    seen, out = set(), []
    for s in settings:
        if s.axes not in seen:
            seen.add(s.axes)
            out.append(s)
    return out


def _energy_of(music) -> tuple[str, float]:
    """(energy form, α) of a :class:`~musicsom.music.MusicParams`."""
    return ("per_row_mean" if music.per_row_mean else "plain", float(music.alpha))


def gmm_grid(grid: dict, music) -> list[Setting]:
    """Claim 3: energy × α × preservation × η crossed in full, and a slice over the cluster mode at the default."""
    form, alpha = _energy_of(music)
    default = {"energy": form, "alpha": alpha, "preserve": preserve_axis(music.preserve_ring), "eta": float(music.eta),
               "cluster": "cluster_random"}
    paper = dict(default)  # the mixture's default already uses the paper's plain energy
    pts = [make({"energy": e, "alpha": a, "preserve": preserve_axis(p), "eta": float(t), "cluster": "cluster_random"}, default, paper)
           for (e, a), p, t in itertools.product(energy_points(grid["energy"]), grid["preserve"], grid["eta"])]
    pts += [make({**default, "cluster": c}, default, paper) for c in grid.get("cluster", [])]
    pts.insert(0, make(default, default, paper))
    return _dedup(pts)


def mnist_grid(grid: dict, music, paper: dict) -> list[Setting]:
    """Claims 4-6 at the default dimension: energy × α × preservation crossed in full, an η slice, and the paper's
    plain energy (at the default D this is not the paper's setup, which whitens to every component: see :func:`dim_grid`)."""
    form, alpha = _energy_of(music)
    default = {"energy": form, "alpha": alpha, "preserve": preserve_axis(music.preserve_ring), "eta": float(music.eta)}
    pap = {**default, "energy": "plain", "alpha": float(paper["mnist_alpha"])}
    pts = [make(default, default)]
    pts += [make({**default, "energy": e, "alpha": a, "preserve": preserve_axis(p)}, default)
            for (e, a), p in itertools.product(energy_points(grid["energy"]), grid["preserve"])]
    pts += [make({**default, "eta": float(t)}, default) for t in grid.get("eta", [])]
    pts += [make(pap, default)]
    return _dedup(pts)


def dim_grid(grid: dict, music, paper: dict, default_dim) -> list[Setting]:
    """Claims 1, 4-6 over the dimension: the default MUSIC settings and the paper's (plain energy) at each D.

    The first point is the default (the default D and settings: the default stages' own checks)."""
    form, alpha = _energy_of(music)
    base = {"energy": form, "alpha": alpha, "preserve": preserve_axis(music.preserve_ring), "eta": float(music.eta)}
    default = {"dim": default_dim, **base}
    pap = {**base, "dim": paper["mnist_dim"], "energy": "plain", "alpha": float(paper["mnist_alpha"])}
    pts = [make(default, default, pap)]
    for d in grid["dims"]:
        pts.append(make({**base, "dim": d}, default, pap))
        pts.append(make({**base, "dim": d, "energy": "plain", "alpha": float(paper["mnist_alpha"])}, default, pap))
    return _dedup(pts)


def sweep_grid(grid: dict, music, paper: dict) -> list[Setting]:
    """Claim 7: the sweeps at each trust radius of ``sweep_eta``, in the default energy form and the paper's."""
    form, alpha = _energy_of(music)
    default = {"energy": form, "alpha": alpha, "eta": float(music.eta)}
    pap = {**default, "energy": "plain", "alpha": float(paper["mnist_alpha"])}
    pts = [make(default, default)]  # at the default D: the paper's energy form, not its setup (which needs D = full)
    for t in grid["sweep_eta"]:
        pts.append(make({**default, "eta": float(t)}, default))
        pts.append(make({**pap, "eta": float(t)}, default))
    return _dedup(pts)


def kmeans_grid(grid: dict, music, paper: dict) -> list[Setting]:
    """Claim 9: energy × α with every other prototype preserved (k-means has no lattice for rings)."""
    form, alpha = _energy_of(music)
    default = {"energy": form, "alpha": alpha, "eta": float(music.eta)}
    pap = {**default, "energy": "plain", "alpha": float(paper["mnist_alpha"])}
    pts = [make(default, default)]  # at the default D, as for mnist_grid
    pts += [make({**default, "energy": e, "alpha": a}, default) for e, a in energy_points(grid["energy"])]
    pts += [make(pap, default)]
    return _dedup(pts)


def faces_grid(grid: dict, music, paper: dict, free: dict) -> list[Setting]:
    """Claim 8: slices through the default: energy × α, preservation, and free evolution's step length × steps."""
    form, alpha = _energy_of(music)
    default = {"energy": form, "alpha": alpha, "preserve": preserve_axis(music.preserve_ring), "free_eta": float(music.eta), "free_steps": int(free["n_steps"])}
    pap = {**default, "energy": "plain", "alpha": float(paper["faces_alpha"])}
    pts = [make(default, default, pap), make(pap, default, pap)]
    pts += [make({**default, "energy": e, "alpha": a}, default, pap) for e, a in energy_points(grid["energy"])]
    pts += [make({**default, "preserve": preserve_axis(p)}, default, pap) for p in grid["preserve"]]
    pts += [make({**default, "free_eta": float(t), "free_steps": int(n)}, default, pap)
            for t, n in itertools.product(grid["free_eta"], grid["free_steps"])]
    return _dedup(pts)


def setting_of(name: str, settings) -> Setting:
    for s in settings:
        if s.name == name:
            return s
    raise ValueError(f"no grid point named {name!r}")


# ---------------------------------------------------------------- where claims hold
def claim_verdicts(tidy) -> "list[dict]":
    """One row per (claim, setting) of a tidy checks table: the claim's verdict there over every check and seed."""
    rows = []
    for (claim, setting), g in tidy.groupby(["claim", "setting"], sort=False):
        per_check = {name: across_seeds(h["verdict"]) for name, h in g.groupby("check", sort=False)}
        rows.append({"claim": int(claim), "setting": setting, "verdict": combine(per_check.values()),
                     "n_seeds": int(g["seed"].nunique()), **{f"check: {k}": v for k, v in per_check.items()}})
    return rows


def summarise(verdicts, settings_meta: dict) -> dict:
    """Per claim: settings, share held, the held region (axis values where it holds), default and paper verdicts.

    ``verdicts``: rows of :func:`claim_verdicts`; ``settings_meta``: setting name -> {"axes": {...},
    "is_default": bool, "is_paper": bool}.
    """
    out = {}
    by_claim: dict[int, list] = {}
    for r in verdicts:
        by_claim.setdefault(int(r["claim"]), []).append(r)
    for claim, rows in sorted(by_claim.items()):
        n = len(rows)
        held = [r for r in rows if r["verdict"] == "held"]
        counts = {v: sum(r["verdict"] == v for r in rows) for v in ("held", "partly", "failed", "inconclusive")}
        axes = {}
        for r in rows:
            for k, v in settings_meta[r["setting"]]["axes"].items():
                axes.setdefault(k, [])
                if v not in axes[k]:
                    axes[k].append(v)
        region = {}
        for k, values in axes.items():
            if len(values) > 1:
                region[k] = [v for v in values if any(settings_meta[r["setting"]]["axes"].get(k) == v for r in held)]
        default = [r["verdict"] for r in rows if settings_meta[r["setting"]]["is_default"]]
        paper = [r["verdict"] for r in rows if settings_meta[r["setting"]]["is_paper"]]
        out[claim] = {
            "n_settings": n, "counts": counts, "share_held": counts["held"] / n if n else 0.0,
            "held_settings": [r["setting"] for r in held], "axes": axes, "region": region,
            "default": default[0] if default else None, "paper": paper[0] if paper else None,
            "paper_settings": [r["setting"] for r in rows if settings_meta[r["setting"]]["is_paper"]],
        }
    return out

"""Verdicts on the paper's claims (SPEC §7) from measured numbers. Pure functions; no file I/O.

Each claim is judged by a stated rule on numbers the pipeline measured. A claim carried by several
seeds counts as held only if the rule holds for every seed; otherwise the report gives the rate.
A ``Check`` is one named condition with the numbers it used; a claim's verdict per seed is
"held" when all its checks pass, "partly" when at least half do, "failed" otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Evidence:
    """One measured number: what it is, its value, the seed, and the file it was read from."""

    quantity: str
    value: float
    source: str
    seed: int | None = None


@dataclass
class Check:
    name: str
    passed: bool
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class ClaimResult:
    number: int
    title: str
    paper: str
    rule: str
    checks_by_seed: dict = field(default_factory=dict)  # seed -> list[Check]
    explanation: str = ""
    missing: str | None = None  # why the claim could not be judged

    def seed_verdict(self, seed) -> str:
        checks = self.checks_by_seed[seed]
        n = sum(c.passed for c in checks)
        if n == len(checks):
            return "held"
        return "partly" if 2 * n >= len(checks) else "failed"

    @property
    def verdict(self) -> str:
        if self.missing or not self.checks_by_seed:
            return "not judged"
        verdicts = [self.seed_verdict(s) for s in self.checks_by_seed]
        if all(v == "held" for v in verdicts):
            return "held"
        if all(v == "failed" for v in verdicts):
            return "failed"
        return "partly"

    @property
    def seed_rate(self) -> str:
        if not self.checks_by_seed:
            return ""
        if list(self.checks_by_seed) == [None]:
            return "first seed only"
        held = sum(self.seed_verdict(s) == "held" for s in self.checks_by_seed)
        return f"{held}/{len(self.checks_by_seed)} seeds"

    def evidence(self) -> list[Evidence]:
        return [e for checks in self.checks_by_seed.values() for c in checks for e in c.evidence]


def ev(quantity, value, source, seed=None) -> Evidence:
    return Evidence(quantity, float(value), source, seed)


# ---------------------------------------------------------------- the claims
def claim1_inversion(gmm_inv: dict, src: str, extra: list[tuple[str, float, str, float]] = ()) -> ClaimResult:
    """Inversion error is round-off once m >= D + 1, large below.

    ``extra``: further (check name, median relative error, source, threshold) round-off checks, e.g. MNIST's per seed.
    """
    c = ClaimResult(
        1,
        "Exact inversion from D + 1 prototypes",
        "Inversion error is round-off (about 1e-12 or less) once m >= D + 1, and large below.",
        "held if the median GMM error is <= 1e-10 for every m >= D + 1 and >= 1e-2 for every m <= D "
        "(and every extra round-off check is <= its threshold)",
    )
    checks = [
        Check("round-off from m = D + 1", gmm_inv["max_median_error_full_rank"] <= 1e-10,
              [ev("largest median error for m >= D + 1 (GMM)", gmm_inv["max_median_error_full_rank"], src)]),
        Check("large below D + 1", gmm_inv["min_median_error_rank_deficient"] >= 1e-2,
              [ev("smallest median error for m <= D (GMM)", gmm_inv["min_median_error_rank_deficient"], src)]),
    ]
    for name, value, source, threshold in extra:
        checks.append(Check(name, value <= threshold, [ev("median relative error", value, source)]))
    c.checks_by_seed = {None: checks}
    return c


def claim2_noise(noise: dict, src: str) -> ClaimResult:
    c = ClaimResult(
        2,
        "Noise follows the Corollary 1 bound",
        "Reconstruction error under activation noise follows ||e|| / sigma_min(A).",
        "held if every case lies within the bound and the error's Spearman rank correlation with the bound is >= 0.9",
    )
    c.checks_by_seed = {
        None: [
            Check("every case within the bound", noise["share_within_bound"] >= 1.0,
                  [ev("share of cases with error <= bound", noise["share_within_bound"], src)]),
            Check("error tracks the bound", noise["spearman_error_vs_bound"] >= 0.9,
                  [ev("Spearman correlation of error and bound", noise["spearman_error_vs_bound"], src),
                   ev("median error / bound", noise["median_ratio"], src)]),
        ]
    }
    return c


def claim3_gmm_regimes(per_seed: dict, src: str) -> ClaimResult:
    """``per_seed``: seed -> the GMM claims dict (medians of each metric per regime)."""
    c = ClaimResult(
        3,
        "GMM: informed vs cluster regimes",
        "Informed convergence has a low transition rate, long dwells, high continuity and geodesic efficiency "
        "near 1; cluster exploration has frequent transitions, dwells of 1-2 steps, lower continuity and much "
        "lower geodesic efficiency.",
        "per seed, on medians over trajectories: informed transition rate < cluster's; informed dwell > cluster's; "
        "informed continuity >= 0.9; informed geodesic efficiency >= 0.8; cluster median dwell <= 2; cluster "
        "continuity < informed's; cluster efficiency <= half the informed one",
    )
    for seed, m in per_seed.items():
        s = int(seed)

        def e(key, label):
            return ev(label, m[key], src, s)

        c.checks_by_seed[s] = [
            Check("fewer transitions when informed", m["informed_transition_rate"] < m["cluster_transition_rate"],
                  [e("informed_transition_rate", "transition rate, informed"), e("cluster_transition_rate", "transition rate, cluster")]),
            Check("longer dwells when informed", m["informed_dwell_median"] > m["cluster_dwell_median"],
                  [e("informed_dwell_median", "median dwell, informed"), e("cluster_dwell_median", "median dwell, cluster")]),
            Check("informed continuity high", m["informed_continuity"] >= 0.9, [e("informed_continuity", "continuity, informed")]),
            Check("informed efficiency near 1", m["informed_geodesic_efficiency"] >= 0.8,
                  [e("informed_geodesic_efficiency", "geodesic efficiency, informed")]),
            Check("cluster dwells of 1-2 steps", m["cluster_dwell_median"] <= 2, [e("cluster_dwell_median", "median dwell, cluster")]),
            Check("cluster continuity lower", m["cluster_continuity"] < m["informed_continuity"],
                  [e("cluster_continuity", "continuity, cluster")]),
            Check("cluster efficiency much lower", m["cluster_geodesic_efficiency"] <= 0.5 * m["informed_geodesic_efficiency"],
                  [e("cluster_geodesic_efficiency", "geodesic efficiency, cluster")]),
        ]
    return c


def claim9_kmeans(per_seed: dict, src: str) -> ClaimResult:
    """``per_seed``: seed -> the k-means comparison numbers (medians, median differences SOM − k-means, Holm p)."""
    c = ClaimResult(
        9,
        "k-means prototypes give unstable motion (beyond the paper)",
        "Unstructured prototypes such as k-means give unstable, uninterpretable MUSIC motion (asserted in §6, not shown).",
        "per seed, on the MNIST Table 2 trajectories run on both prototype sets: SOM step continuity higher than "
        "k-means (median paired difference > 0, Holm-adjusted Wilcoxon p < 0.05) and SOM geodesic efficiency higher "
        "(median paired difference > 0)",
    )
    for seed, m in per_seed.items():
        s = int(seed)
        c.checks_by_seed[s] = [
            Check("SOM motion significantly more continuous",
                  m["continuity_median_diff"] > 0 and m["continuity_p_holm"] < 0.05,
                  [ev("continuity median, SOM", m["continuity_median_som"], src, s),
                   ev("continuity median, k-means", m["continuity_median_kmeans"], src, s),
                   ev("continuity Holm p", m["continuity_p_holm"], src, s)]),
            Check("SOM paths straighter", m["geodesic_efficiency_median_diff"] > 0,
                  [ev("geodesic efficiency median, SOM", m["geodesic_efficiency_median_som"], src, s),
                   ev("geodesic efficiency median, k-means", m["geodesic_efficiency_median_kmeans"], src, s)]),
        ]
    return c


def _get(d, path):
    for key in path.split("."):
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def claim_from_stage_checks(number, title, paper, rule, per_seed: dict, block: str, evidence_paths: dict, src: str) -> ClaimResult:
    """A claim whose checks a stage already evaluated (``per_seed[seed][block]["checks"]``: name -> bool).

    ``evidence_paths`` maps a check name to the dotted paths (inside the block) of the numbers it rests on.
    """
    c = ClaimResult(number, title, paper, rule)
    for seed, d in per_seed.items():
        b = d.get(block) if isinstance(d, dict) else None
        if not b or "checks" not in b:
            c.missing = f"the stage's claims file has no '{block}' checks"
            return c
        s = int(seed)
        checks = []
        for name, passed in b["checks"].items():
            evid = []
            for path in evidence_paths.get(name, []):
                v = _get(b, path)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
                    evid.append(ev(path.replace(".", " "), v, src, s))
            checks.append(Check(name.replace("_", " "), bool(passed), evid))
        c.checks_by_seed[s] = checks
    return c


def claim8_faces(per_seed: dict, src: str) -> ClaimResult:
    """Faces: the faces stage's claim-8 dict per seed (three sub-claims, each with held, numbers, rule)."""
    c = ClaimResult(
        8,
        "Faces: on the manifold, monotone approach, less identity drift",
        "Free evolution with MUSIC stays on the face manifold while the radial baseline drifts off it; informed "
        "trajectories approach the target cluster monotonically; linear interpolation to the cluster mean drifts "
        "in identity much more than MUSIC.",
        "",
    )
    rules = []
    for seed, d in per_seed.items():
        b = d.get("claim8") if isinstance(d, dict) else None
        if not b:
            c.missing = "the faces claims file has no 'claim8' entry"
            return c
        s = int(seed)
        checks = []
        for name, sub in b.items():
            if not isinstance(sub, dict) or "held" not in sub:
                continue
            if sub.get("rule") and sub["rule"] not in rules:
                rules.append(sub["rule"])
            evid = []
            for key, v in sub.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
                    evid.append(ev(key.replace("_", " "), v, src, s))
                elif isinstance(v, dict):
                    for k2, v2 in v.items():
                        if isinstance(v2, (int, float)) and not isinstance(v2, bool) and v2 == v2:
                            evid.append(ev(f"{key} {k2}".replace("_", " "), v2, src, s))
            checks.append(Check(name.replace("_", " "), bool(sub["held"]), evid))
        c.checks_by_seed[s] = checks
    c.rule = "; ".join(rules) if rules else "as stated by the faces stage"
    return c


def failed_checks(c: ClaimResult) -> list[str]:
    """Names of checks that failed on any seed, in order, without repeats."""
    seen: list[str] = []
    for checks in c.checks_by_seed.values():
        for ch in checks:
            if not ch.passed and ch.name not in seen:
                seen.append(ch.name)
    return seen

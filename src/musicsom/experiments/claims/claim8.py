"""Claim 8: on faces, free MUSIC evolution stays on the face manifold while the radial baseline drifts off it,
informed trajectories approach their cluster monotonically, and linear interpolation drifts in identity more."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, exhaustive

NUMBER = 8
TITLE = "Faces: on the manifold, monotone approach, less identity drift"
PAPER = (
    "Free evolution with MUSIC stays on the face manifold while the radial baseline drifts off it; informed "
    "trajectories approach the target cluster monotonically; linear interpolation to the cluster mean drifts "
    "in identity much more than MUSIC."
)
RULE = (
    "per seed, over the start faces (bootstrap over them): the mean paired detection rate of free evolution, "
    "MUSIC − radial, is above 0; the mean paired distance to the nearest prototype, radial − MUSIC, is above 0; "
    "for every cluster the mean share of non-increasing cluster-distance steps of informed MUSIC is at least "
    "faces.monotone_min, and every informed run ends nearer its cluster (every run counted); the mean paired identity drift toward the "
    "target cluster (faces.target_cluster), linear − MUSIC, is above 0"
)


def _by_start(per_start, **where):
    t = per_start
    for k, v in where.items():
        t = t[t[k] == v]
    return t.set_index("start").sort_index()


def checks(per_start, seed: int, monotone_min: float, boot: Bootstrap, setting: str = "default",
           target_cluster: str = "female") -> list:
    """``per_start``: one seed's per-start table (experiment, method, cluster, start, detection_rate, ...);
    ``target_cluster``: the cluster linear interpolation and MUSIC are compared toward (identity drift)."""
    out = []
    c = lambda *args, **kw: boot.check(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    mus, rad = _by_start(per_start, experiment="free", method="music"), _by_start(per_start, experiment="free", method="radial")
    if len(mus) and len(rad):
        common = mus.index.intersection(rad.index)
        dm, dr = mus.loc[common, "detection_rate"].to_numpy(float), rad.loc[common, "detection_rate"].to_numpy(float)
        pm, pr = mus.loc[common, "mean_nearest_prototype"].to_numpy(float), rad.loc[common, "mean_nearest_prototype"].to_numpy(float)
        n = len(common)
        out.append(c("free MUSIC keeps faces detectable", "mean paired detection rate, MUSIC − radial (free evolution)",
                     lambda idx: np.mean((dm - dr)[idx], axis=1), n, ">", 0.0,
                     ev("detection rate, MUSIC", dm.mean()), ev("detection rate, radial", dr.mean())))
        out.append(c("free radial drifts from the map", "mean paired distance to the nearest prototype, radial − MUSIC",
                     lambda idx: np.mean((pr - pm)[idx], axis=1), n, ">", 0.0,
                     ev("mean distance to the nearest prototype, MUSIC", pm.mean()), ev("mean distance to the nearest prototype, radial", pr.mean())))
    inf = per_start[per_start["experiment"] == "informed"]
    clusters = sorted(inf["cluster"].unique())
    if clusters:
        starts = sorted(inf["start"].unique())
        share = np.stack([_by_start(inf, cluster=k).reindex(starts)["monotone_share"].to_numpy(float) for k in clusters], 1)
        nearer = np.stack([(lambda t: (t["final_cluster_distance"] < t["initial_cluster_distance"]).to_numpy(float))(
            _by_start(inf, cluster=k).reindex(starts)) for k in clusters], 1)
        out.append(c(f"informed approach monotonic (mean share of non-increasing steps >= {monotone_min:g})",
                     "smallest over clusters of the mean share of non-increasing cluster-distance steps",
                     lambda idx: np.min(np.nanmean(share[idx], axis=1), axis=1), len(starts), ">=", float(monotone_min),
                     *(ev(f"mean monotone share, {k}", np.nanmean(share[:, j])) for j, k in enumerate(clusters))))
        out.append(exhaustive(NUMBER, seed, "informed runs end nearer their cluster", "informed runs that do not end nearer their cluster",
                              int(np.sum(nearer == 0)), int(nearer.size), setting=setting))
    mu = _by_start(per_start, experiment="informed", method="music", cluster=target_cluster)
    li = _by_start(per_start, experiment="linear", method="linear", cluster=target_cluster)
    if len(mu) and len(li):
        common = mu.index.intersection(li.index)
        a, b = mu.loc[common, "mean_identity_drift"].to_numpy(float), li.loc[common, "mean_identity_drift"].to_numpy(float)
        out.append(c("linear drifts more in identity", f"mean paired identity drift toward the {target_cluster} cluster, linear − MUSIC",
                     lambda idx: np.nanmean((b - a)[idx], axis=1), len(common), ">", 0.0,
                     ev("mean identity drift, MUSIC", np.nanmean(a)), ev("mean identity drift, linear", np.nanmean(b))))
    return out

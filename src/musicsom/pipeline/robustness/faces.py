"""Stage: claim 8 over the robustness grid of the faces, one seed (a whole grid block).

    python -m musicsom.pipeline.robustness.faces --latent results/faces/latent.npz --checkpoint results/faces/autoencoder.pt \
        --som results/faces/seed0/som.npz --clusters results/faces/seed0/clusters.json --starts results/faces/seed0/starts.json \
        --frames results/faces/seed0/frames.csv --grid '{"grid": {...}, "music": {...}, "paper": {...}, "free": {...}}' \
        --seed 0 --checks results/robustness/faces/seed0/checks.csv --per-start results/robustness/faces/seed0/per_start.csv

Grid (:func:`musicsom.experiments.robustness.faces_grid`): slices through the default over the energy form and
α, over the preservation set of informed exploration, and over free evolution's step length × number of
steps (up to lengths where the radial baseline leaves the face manifold). At every point the seed's start
faces run free evolution (MUSIC and radial, the same draws; shorter runs are prefixes of the longest) and
informed exploration toward each cluster; linear interpolation does not depend on MUSIC and is read from
the default frames. dlib measures free-evolution frames every ``free_every`` steps and identity drift every
``identity_every`` steps (plus the last) to fit the budget; claim 8's checks use the report's rules.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim8
from musicsom.experiments.face_id import FaceID
from musicsom.experiments.faces import CLUSTERS, FREE_METHODS, free_paths, informed_paths, per_start_metrics
from musicsom.music import MusicParams
from musicsom.pipeline import _io
from musicsom.pipeline._claims import add_verdict_args, bootstrap_of
from musicsom.pipeline.faces._common import LatentDecoder, measure_paths
from musicsom.pipeline.robustness._common import add_grid_args, block_table, music_kw, parse_grid

log = logging.getLogger("musicsom.pipeline.robustness.faces")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    for name in ("latent", "checkpoint", "som", "clusters", "starts", "frames"):
        p.add_argument(f"--{name}", required=True)
    add_grid_args(p)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--id-size", type=int, default=150)
    p.add_argument("--detector-upsample", type=int, default=0)
    add_verdict_args(p)
    p.add_argument("--checks", required=True)
    p.add_argument("--per-start", required=True)
    a = p.parse_args(argv)
    g = parse_grid(a)
    boot = bootstrap_of(a)
    grid, free_cfg, n_informed = g["grid"], g["free"], int(g["informed_steps"])
    lat = _io.load_npz(a.latent, required=("x_test",))
    som = _io.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    W, grid_shape, topology = som["prototypes"], tuple(int(v) for v in som["grid_shape"]), str(som["topology"])
    clusters = _io.load_json(a.clusters)
    units = {name: np.asarray(clusters[name]["units"]) for name in CLUSTERS}
    starts = _io.load_json(a.starts)
    X0 = lat["x_test"][np.asarray(starts["test_rows"])]
    decode = LatentDecoder(a.checkpoint, lat)
    fid = FaceID(a.id_size, a.detector_upsample)
    every, free_every = int(grid["identity_every"]), int(grid["free_every"])

    # linear interpolation to the female cluster's mean: the default frames, identity kept on the study's steps
    default = pd.read_csv(a.frames, keep_default_na=True)
    default["cluster"] = default["cluster"].fillna("")
    linear = default[default["experiment"] == "linear"].copy()
    last = linear["step"].max()
    linear.loc[(linear["step"] % every != 0) & (linear["step"] != last), "identity_drift"] = np.nan

    settings = rb.faces_grid(grid, g["music"], g["paper"], free_cfg)
    longest = {}  # (energy, alpha, free_eta) -> free evolution up to the most steps asked
    for s in settings:
        key = (s.values["energy"], s.values["alpha"], s.values["free_eta"])
        longest[key] = max(longest.get(key, 0), int(s.values["free_steps"]))
    free_runs, informed_runs, blocks, tables = {}, {}, [], []
    for s in settings:
        v = s.values
        kw = music_kw(s, g["music"])
        try:
            params = MusicParams(**kw).validate()
        except ValueError as exc:
            raise _io.InputError(f"robustness.faces: {exc}") from None
        fkey = (v["energy"], v["alpha"], v["free_eta"])
        if fkey not in free_runs:
            run = free_paths(W, X0, longest[fkey], float(free_cfg["change"]), int(free_cfg["n_preserve"]), params.alpha,
                             params.lam, float(v["free_eta"]), params.per_row_mean, np.random.default_rng(a.seed))
            paths = [("free", m, "", i, run["states"][i, k]) for i in range(len(X0)) for k, m in enumerate(FREE_METHODS)]
            free_runs[fkey] = measure_paths(paths, decode, fid, W, clusters, detect_every=free_every)
        ikey = (v["energy"], v["alpha"], v["preserve"])
        if ikey not in informed_runs:
            run = informed_paths(W, X0, units, params, n_informed, a.seed, grid_shape, topology)
            paths = [("informed", "music", name, i, run["states"][i, c]) for i in range(len(X0)) for c, name in enumerate(CLUSTERS)]
            informed_runs[ikey] = measure_paths(paths, decode, fid, W, clusters, "female", every, detect_every=every)
        free = free_runs[fkey]
        free = free[free["step"] <= int(v["free_steps"])]
        frames = pd.concat([free, informed_runs[ikey], linear], ignore_index=True)
        per = per_start_metrics(frames)
        per.insert(0, "seed", a.seed)
        checks = claim8.checks(per, a.seed, float(g["monotone_min"]), boot, setting=s.name)
        blocks.append((s, checks))
        tables.append(per.assign(setting=s.name))
        log.info("%s: %s", s.name, {c.name: c.verdict for c in checks})
    _io.save_csv(a.checks, block_table(blocks, "faces"))
    _io.save_csv(a.per_start, pd.concat(tables, ignore_index=True))


if __name__ == "__main__":
    _io.run_main(main)

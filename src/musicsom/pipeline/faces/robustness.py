"""Stage: claim 8 along the sensitivity study's axes of the faces, one seed.

    python -m musicsom.pipeline.faces.robustness --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --som results/faces/seed0/som.npz --clusters results/faces/seed0/clusters.json --starts results/faces/seed0/starts.json \
        --frames results/faces/seed0/frames.csv --study '{"energy": {...}, "preserve": [null, 1, 2], ...}' \
        --music '{"alpha": 0.9998, ...}' --free '{"n_steps": 100, ...}' \
        --informed '{"n_steps": 100}' --identity '{"size": 150, "detector_upsample": 0, "every": 5}' \
        --monotone-min 0.9 --target-cluster female --seed 0 --verdicts '{"resamples": 1000, "seed": 0, "level": 0.95}' \
        --checks results/robustness/faces/seed0/checks.json --per-start results/robustness/faces/seed0/per_start.csv

Points (:func:`musicsom.experiments.robustness.faces_grid`): each energy form and α, preserved set (of informed
exploration), free-evolution step length and number of free-evolution steps of ``robustness.faces`` other than
the default's (``faces.music``; free evolution's default step length is ``faces.music.eta``, its default steps
``faces.free.n_steps``), moved alone. At every point the seed's start faces (the headline's) run free evolution
(MUSIC and radial, the same draws; shorter runs are prefixes of the longest) and informed exploration toward
each cluster; linear interpolation does not depend on MUSIC and is read from the default frames. dlib measures
free-evolution frames every ``free_every`` steps and identity drift (on the paths toward
``faces.target_cluster``) every ``identity_every`` steps (plus the last) to fit the budget (both of
``robustness.faces``; the headline measures every ``faces.identity.every`` steps: the block file records both);
claim 8's checks use the report's rules.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim8
from musicsom.experiments.face_id import FaceID
from musicsom.experiments.faces import CLUSTERS, FREE_METHODS, free_paths, informed_paths, per_start_metrics
from musicsom.pipeline import files
from musicsom.pipeline.check_records import bootstrap_of
from musicsom.pipeline.faces.decoding import LatentDecoder, measure_paths
from musicsom.pipeline.faces.options import add_claim8_args, add_files, add_sections, music, section
from musicsom.pipeline.robustness.blocks import add_block_args, add_study_args, music_at, sample, save_block
from musicsom.pipeline.sections import require

log = logging.getLogger("musicsom.pipeline.faces.robustness")


def measured(n_steps: int, every: int) -> int:
    """Frames of an ``n_steps`` path measured every ``every`` steps plus the last (frames 0 … n_steps)."""
    return n_steps // every + 1 + (n_steps % every != 0)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "som", "clusters", "starts", "frames")  # the default frames give the linear paths
    add_study_args(p, "faces", "the faces' axes (energy, preserve, free_eta, free_steps) and the measuring stride")
    # faces.music: the default, which each grid point changes along its axes; faces.free: free evolution at the default
    add_sections(p, "music", "free", "informed", "identity")
    add_claim8_args(p)
    add_block_args(p, "per-start", "the per-start metrics at every grid point", seed="the seed of the map, the starts and the draws")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    grid = require(a.study, "robustness.faces", ("energy", "preserve", "identity_every", "free_eta", "free_steps", "free_every"))
    default_music, free_cfg, ident = music(a), section(a, "free"), section(a, "identity")
    n_informed = int(section(a, "informed")["n_steps"])
    lat = files.load_npz(a.latent, required=("x_test",))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    W, grid_shape, topology = som["prototypes"], tuple(int(v) for v in som["grid_shape"]), str(som["topology"])
    clusters = files.load_json(a.clusters)
    units = {name: np.asarray(clusters[name]["units"]) for name in CLUSTERS}
    starts = files.load_json(a.starts)
    X0 = lat["x_test"][np.asarray(starts["test_rows"])]
    decode = LatentDecoder(a.checkpoint, lat)
    fid = FaceID(ident["size"], ident["detector_upsample"])
    every, free_every = int(grid["identity_every"]), int(grid["free_every"])

    # linear interpolation to the target cluster's mean: the default frames, identity kept on the study's steps
    default = files.load_csv(a.frames, keep_default_na=True)
    default["cluster"] = default["cluster"].fillna("")
    linear = default[default["experiment"] == "linear"].copy()
    last = linear["step"].max()
    linear.loc[(linear["step"] % every != 0) & (linear["step"] != last), "identity_drift"] = np.nan

    settings = rb.faces_grid(grid, default_music, free_cfg)[1:]  # the default point is the default run's own checks
    longest = {}  # ((energy form, alpha), free_eta) -> free evolution up to the most steps asked
    for s in settings:
        key = (s.value_on("energy"), s.value_on("free_eta"))
        longest[key] = max(longest.get(key, 0), int(s.values["free_steps"]))
    free_runs, informed_runs, blocks, tables = {}, {}, [], []
    for s in settings:
        v = s.values
        params = music_at(s, default_music, "robustness.faces")
        fkey = (v["energy"], v["free_eta"])
        if fkey not in free_runs:
            run = free_paths(W, X0, longest[fkey], float(free_cfg["change"]), int(free_cfg["n_preserve"]), params.alpha,
                             params.lam, float(v["free_eta"]), params.per_row_mean, np.random.default_rng(a.seed))
            paths = [("free", m, "", i, run["states"][i, k]) for i in range(len(X0)) for k, m in enumerate(FREE_METHODS)]
            free_runs[fkey] = measure_paths(paths, decode, fid, W, clusters, detect_every=free_every)
        ikey = (v["energy"], v["preserve"])
        if ikey not in informed_runs:
            run = informed_paths(W, X0, units, params, n_informed, a.seed, grid_shape, topology)
            paths = [("informed", "music", name, i, run["states"][i, c]) for i in range(len(X0)) for c, name in enumerate(CLUSTERS)]
            informed_runs[ikey] = measure_paths(paths, decode, fid, W, clusters, a.target_cluster, every, detect_every=every)
        free = free_runs[fkey]
        free = free[free["step"] <= int(v["free_steps"])]
        frames = pd.concat([free, informed_runs[ikey], linear], ignore_index=True)
        per = per_start_metrics(frames)
        per.insert(0, "seed", a.seed)
        checks = claim8.checks(per, a.seed, a.monotone_min, boot, setting=s.name, target_cluster=a.target_cluster)
        blocks.append((s, checks))
        tables.append(per.assign(setting=s.name))
        log.info("%s: %s", s.name, {c.name: c.outcome for c in checks})
    n_free = int(free_cfg["n_steps"])
    samples = [sample("identity measurements per informed path", (8,), measured(n_informed, every),
                      measured(n_informed, int(ident["every"]))),
               sample("face detections per free-evolution path", (8,), measured(n_free, free_every), measured(n_free, 1))]
    save_block(a.checks, "faces", a.seed, blocks, samples)
    files.save_csv(a.per_start, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())


if __name__ == "__main__":
    files.run_main(main)

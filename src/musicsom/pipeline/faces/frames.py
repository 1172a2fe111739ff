"""Stage: decode every trajectory frame and measure it: dlib face detection, identity drift, latent distances.

    python -m musicsom.pipeline.faces.frames --latent results/faces/latent.npz --checkpoint results/faces/autoencoder.pt \
        --som results/faces/seed0/som.npz --clusters results/faces/seed0/clusters.json \
        --free results/faces/seed0/free.npz --informed results/faces/seed0/informed.npz \
        --linear results/faces/seed0/linear.npz --identity-every 1 --out results/faces/seed0/frames.csv

One row per frame: experiment (free, informed, linear), method (music, radial, linear), cluster, start,
step; ``detected`` (dlib's frontal detector finds a face in the decoded frame, resized to ``--id-size``);
``identity_drift`` (Euclidean distance between dlib's 128-d descriptors of the frame and of frame 0 of
the same trajectory; computed for the MUSIC and linear paths toward the ``--identity-cluster`` every
``--identity-every`` steps plus the last, else empty; frames with no detected face use the full-frame box);
``cluster_distance`` (mean latent distance to the cluster's prototypes), ``nearest_prototype``
(latent distance to the nearest prototype) and ``start_distance`` (latent distance to frame 0).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from musicsom.pipeline import _io
from musicsom.experiments.face_id import FaceID, identity_drift
from musicsom.experiments.faces import cluster_distance, nearest_prototype_distance

log = logging.getLogger("musicsom.pipeline.faces.frames")


def _frames(experiment, method, cluster, start, states, W, units):
    T = states.shape[0]
    return pd.DataFrame({
        "experiment": experiment, "method": method, "cluster": cluster, "start": start, "step": np.arange(T),
        "cluster_distance": cluster_distance(states, W, units) if units is not None else np.nan,
        "nearest_prototype": nearest_prototype_distance(states, W),
        "start_distance": np.linalg.norm(states - states[0], axis=1),
    })


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    for name in ("latent", "checkpoint", "som", "clusters", "free", "informed", "linear", "out"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--identity-cluster", default="female")
    p.add_argument("--identity-every", type=int, default=1)
    p.add_argument("--id-size", type=int, default=150)
    p.add_argument("--detector-upsample", type=int, default=0)
    args = p.parse_args(argv)
    if args.identity_every < 1:
        raise ValueError(f"faces.identity_every must be >= 1; got {args.identity_every}")

    from musicsom.pipeline.faces._common import LatentDecoder

    lat = _io.load_npz(args.latent, required=("x_test",))
    W = _io.load_npz(args.som, required=("prototypes",))["prototypes"]
    clusters = _io.load_json(args.clusters)
    free = _io.load_npz(args.free, required=("states", "methods"))
    informed = _io.load_npz(args.informed, required=("states", "clusters"))
    linear = _io.load_npz(args.linear, required=("states", "cluster"))
    decode = LatentDecoder(args.checkpoint, lat)
    fid = FaceID(args.id_size, args.detector_upsample)

    jobs = []  # (frame table, states)
    for s in range(free["states"].shape[0]):
        for m, method in enumerate(free["methods"].astype(str)):
            jobs.append((_frames("free", method, "", s, free["states"][s, m], W, None), free["states"][s, m]))
        for c, name in enumerate(informed["clusters"].astype(str)):
            st = informed["states"][s, c]
            jobs.append((_frames("informed", "music", name, s, st, W, clusters[name]["units"]), st))
        name = str(linear["cluster"])
        st = linear["states"][s]
        jobs.append((_frames("linear", "linear", name, s, st, W, clusters[name]["units"]), st))

    t0 = time.perf_counter()
    n_desc = 0
    tables = []
    for table, states in jobs:
        images = decode(states)
        table["detected"] = fid.detect_many(images)
        table["identity_drift"] = np.nan
        if table["cluster"].iloc[0] == args.identity_cluster and table["experiment"].iloc[0] in ("informed", "linear"):
            T = states.shape[0]
            steps = np.unique(np.r_[np.arange(0, T, args.identity_every), T - 1])
            desc, _ = fid.describe_many(images[steps])
            table.loc[steps, "identity_drift"] = identity_drift(desc, desc[0])
            n_desc += steps.size
        tables.append(table)
    frames = pd.concat(tables, ignore_index=True)
    log.info("%d frames decoded and detected, %d descriptors, in %.0f s", len(frames), n_desc, time.perf_counter() - t0)
    for (exp, method, cluster), g in frames.groupby(["experiment", "method", "cluster"]):
        log.info("%s %s %s: detection rate %.3f, final identity drift %s", exp, method, cluster or "-", g["detected"].mean(),
                 g.loc[g["step"] == g["step"].max(), "identity_drift"].mean())
    _io.save_csv(args.out, frames)


if __name__ == "__main__":
    _io.run_main(main)

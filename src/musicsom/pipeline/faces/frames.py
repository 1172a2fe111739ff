"""Stage: decode every trajectory frame and measure it: dlib face detection, identity drift, latent distances.

    python -m musicsom.pipeline.faces.frames --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --som results/faces/seed0/som.npz --clusters results/faces/seed0/clusters.json \
        --free results/faces/seed0/free.npz --informed results/faces/seed0/informed.npz \
        --linear results/faces/seed0/linear.npz --target-cluster female \
        --identity '{"size": 150, "detector_upsample": 0, "every": 5}' --out results/faces/seed0/frames.csv

One row per frame: experiment (free, informed, linear), method (music, radial, linear), cluster, start,
step; ``detected`` (dlib's frontal detector finds a face in the decoded frame, resized to ``faces.identity.size``;
every ``--detect-every`` steps plus the last, else empty);
``identity_drift`` (Euclidean distance between dlib's 128-d descriptors of the frame and of frame 0 of
the same trajectory; computed for the MUSIC and linear paths toward the ``--target-cluster`` every
``faces.identity.every`` steps plus the last, else empty; frames with no detected face use the full-frame box);
``cluster_distance`` (mean latent distance to the cluster's prototypes), ``nearest_prototype``
(latent distance to the nearest prototype) and ``start_distance`` (latent distance to frame 0).
"""

from __future__ import annotations

import logging
import time

from musicsom.experiments.face_id import FaceID
from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, add_target_cluster, section

log = logging.getLogger("musicsom.pipeline.faces.frames")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "som", "clusters", "free", "informed", "linear")
    add_target_cluster(p, "identity drift on the MUSIC and linear paths toward this cluster")
    add_sections(p, "identity")
    p.add_argument("--detect-every", type=int, default=1, help="face detection every n-th frame (plus the last)")
    p.add_argument("--out", required=True, help="CSV of every frame to write")
    args = p.parse_args(argv)
    ident = section(args, "identity")
    if ident["every"] < 1 or args.detect_every < 1:
        raise ValueError(f"faces.identity.every and --detect-every must be >= 1; got {ident['every']}, {args.detect_every}")

    from musicsom.pipeline.faces.decoding import LatentDecoder, measure_paths

    lat = files.load_npz(args.latent, required=("x_test",))
    W = files.load_npz(args.som, required=("prototypes",))["prototypes"]
    clusters = files.load_json(args.clusters)
    free = files.load_npz(args.free, required=("states", "methods"))
    informed = files.load_npz(args.informed, required=("states", "clusters"))
    linear = files.load_npz(args.linear, required=("states", "cluster"))
    if str(linear["cluster"]) != args.target_cluster:
        raise files.InputError(f"{args.linear} goes to the cluster {str(linear['cluster'])!r}, not to the target cluster "
                               f"{args.target_cluster!r}: rerun faces_linear with the same faces.target_cluster")
    decode = LatentDecoder(args.checkpoint, lat)
    fid = FaceID(ident["size"], ident["detector_upsample"])

    paths = []
    for s in range(free["states"].shape[0]):
        for m, method in enumerate(free["methods"].astype(str)):
            paths.append(("free", method, "", s, free["states"][s, m]))
        for c, name in enumerate(informed["clusters"].astype(str)):
            paths.append(("informed", "music", name, s, informed["states"][s, c]))
        paths.append(("linear", "linear", str(linear["cluster"]), s, linear["states"][s]))
    t0 = time.perf_counter()
    frames = measure_paths(paths, decode, fid, W, clusters, args.target_cluster, ident["every"], args.detect_every)
    n_desc = int(frames["identity_drift"].notna().sum())
    log.info("%d frames decoded and detected, %d descriptors, in %.0f s", len(frames), n_desc, time.perf_counter() - t0)
    for (exp, method, cluster), g in frames.groupby(["experiment", "method", "cluster"]):
        log.info("%s %s %s: detection rate %.3f, final identity drift %s", exp, method, cluster or "-", g["detected"].mean(),
                 g.loc[g["step"] == g["step"].max(), "identity_drift"].mean())
    files.save_csv(args.out, frames)


if __name__ == "__main__":
    files.run_main(main)

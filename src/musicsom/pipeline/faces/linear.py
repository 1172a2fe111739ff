"""Stage: linear interpolation from held-out faces to the mean of the target cluster's prototypes (Figs 14-15 baseline).

    python -m musicsom.pipeline.faces.linear --latent results/faces/seed0/latent.npz --som results/faces/seed0/som.npz \
        --clusters results/faces/seed0/clusters.json --starts results/faces/seed0/starts.json \
        --target-cluster female --informed '{"n_steps": 100}' --out results/faces/seed0/linear.npz

``x_t = x_0 + (t / T)(c − x_0)``, ``c`` the mean of the prototypes of the cluster ``--target-cluster``
(config ``faces.target_cluster``) in the whitened latent space, with as many steps as the informed MUSIC
runs (``faces.informed.n_steps``). Output: ``states`` (starts, T+1, D), ``target``, ``cluster``, ``test_rows``.
"""

from __future__ import annotations


import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, add_target_cluster, section
from musicsom.experiments.common import linear_path


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "som", "clusters", "starts")
    add_target_cluster(p, "the cluster whose prototypes' mean the paths go to")
    add_sections(p, "informed")  # as many steps as the informed MUSIC runs
    p.add_argument("--out", required=True, help=".npz of the linear paths to write")
    args = p.parse_args(argv)
    n_steps = section(args, "informed")["n_steps"]

    lat = files.load_npz(args.latent, required=("x_test",))
    W = files.load_npz(args.som, required=("prototypes",))["prototypes"]
    clusters = files.load_json(args.clusters)
    target_cluster = args.target_cluster
    if target_cluster not in clusters or "units" not in clusters[target_cluster]:
        raise files.InputError(f"faces.target_cluster {target_cluster!r} is not one of the clusters in {args.clusters}")
    if n_steps < 1:
        raise ValueError(f"faces.informed.n_steps must be >= 1; got {n_steps}")
    rows = files.load_json(args.starts)["test_rows"]
    target = W[np.asarray(clusters[target_cluster]["units"])].mean(0)
    states = np.stack([linear_path(lat["x_test"][r], target, n_steps) for r in rows])
    files.save_npz(args.out, states=states, target=target, cluster=np.array(target_cluster), test_rows=np.asarray(rows))


if __name__ == "__main__":
    files.run_main(main)

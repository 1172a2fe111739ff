"""Stage: linear interpolation from held-out faces to the mean of a cluster's prototypes (Figs 14-15 baseline).

    python -m musicsom.pipeline.faces.linear --latent results/faces/latent.npz --som results/faces/seed0/som.npz \
        --clusters results/faces/seed0/clusters.json --starts results/faces/seed0/starts.json \
        --cluster female --n-steps 100 --out results/faces/seed0/linear.npz

``x_t = x_0 + (t / T)(c − x_0)``, ``c`` the mean of the cluster's prototypes in the whitened latent
space, with as many steps as the MUSIC runs. Output: ``states`` (starts, T+1, D), ``target``,
``cluster``, ``test_rows``.
"""

from __future__ import annotations


import numpy as np

from musicsom.pipeline import _io
from musicsom.experiments.common import linear_path


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True)
    p.add_argument("--som", required=True)
    p.add_argument("--clusters", required=True)
    p.add_argument("--starts", required=True)
    p.add_argument("--cluster", default="female")
    p.add_argument("--n-steps", type=int, default=100)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    lat = _io.load_npz(args.latent, required=("x_test",))
    W = _io.load_npz(args.som, required=("prototypes",))["prototypes"]
    clusters = _io.load_json(args.clusters)
    if args.cluster not in clusters or "units" not in clusters[args.cluster]:
        raise ValueError(f"--cluster {args.cluster!r} is not one of the clusters in {args.clusters}")
    if args.n_steps < 1:
        raise ValueError(f"--n-steps must be >= 1; got {args.n_steps}")
    rows = _io.load_json(args.starts)["test_rows"]
    target = W[np.asarray(clusters[args.cluster]["units"])].mean(0)
    states = np.stack([linear_path(lat["x_test"][r], target, args.n_steps) for r in rows])
    _io.save_npz(args.out, states=states, target=target, cluster=np.array(args.cluster), test_rows=np.asarray(rows))


if __name__ == "__main__":
    _io.run_main(main)

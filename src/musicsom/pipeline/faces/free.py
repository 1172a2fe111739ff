"""Stage: free evolution of held-out faces (paper S7, Fig 11): MUSIC preserving the nearest prototypes vs radial steps.

    python -m musicsom.pipeline.faces.free --latent results/faces/seed0/latent.npz --som results/faces/seed0/som.npz \
        --starts results/faces/seed0/starts.json --free '{"n_steps": 100, "change": 0.1, "n_preserve": 4}' \
        --music '{"alpha": 0.9, "lam": 0.01, "eta": 0.5, "per_row_mean": true, ...}' --seed 0 \
        --out results/faces/seed0/free.npz

Each step draws a random prototype ``j`` and a random relative change ``u ~ U(−change, change)`` of
its squared distance (``Δa_j = u a_j``); the same draws drive both methods from the same start.
MUSIC solves the Tikhonov system with ``T = {j}`` and the ``n_preserve`` nearest prototypes
preserved (``alpha``, ``lam``, ``per_row_mean`` of ``faces.music``); the baseline steps along
``sign(Δa_j) r̂_j``. Both steps have length ``eta`` (of ``faces.music``).
Output: ``states`` (starts, 2, T+1, D) with ``methods`` = [music, radial], ``units`` and ``rel``
(starts, T), ``test_rows`` (the starts' rows of ``x_test``).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, music, section
from musicsom.experiments.faces import FREE_METHODS, free_paths

log = logging.getLogger("musicsom.pipeline.faces.free")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "som", "starts")
    add_sections(p, "free", "music")  # free evolution reads alpha, lam, eta and per_row_mean of faces.music
    p.add_argument("--seed", type=int, required=True, help="seed of the draws (the seed wildcard)")
    p.add_argument("--out", required=True, help=".npz of the free-evolution states to write")
    args = p.parse_args(argv)
    free, params = section(args, "free"), music(args)

    lat = files.load_npz(args.latent, required=("x_test",))
    W = files.load_npz(args.som, required=("prototypes",))["prototypes"]
    rows = files.load_json(args.starts)["test_rows"]
    if free["n_steps"] < 1 or not 0 < free["change"]:
        raise ValueError("faces.free.n_steps must be >= 1 and faces.free.change > 0")
    if not 1 <= free["n_preserve"] <= W.shape[0] - 1:
        raise ValueError(f"faces.free.n_preserve must be in [1, {W.shape[0] - 1}]; got {free['n_preserve']}")
    rng = np.random.default_rng(args.seed)
    X0 = lat["x_test"][np.asarray(rows)]
    run = free_paths(W, X0, free["n_steps"], free["change"], free["n_preserve"], params.alpha, params.lam, params.eta,
                     params.per_row_mean, rng)
    states, units, rels = run["states"], run["units"], run["rel"]
    for s, x0 in enumerate(X0):
        log.info("start %d: final distance from the start music %.2f, radial %.2f", s,
                 *(np.linalg.norm(states[s, k, -1] - x0) for k in range(2)))
    files.save_npz(args.out, states=states, methods=np.array(FREE_METHODS), units=units, rel=rels, test_rows=np.asarray(rows))


if __name__ == "__main__":
    files.run_main(main)

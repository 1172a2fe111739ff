"""Stage: free evolution of held-out faces (paper S7, Fig 11): MUSIC preserving the nearest prototypes vs radial steps.

    python -m musicsom.pipeline.faces.free --latent results/faces/latent.npz --som results/faces/seed0/som.npz \
        --starts results/faces/seed0/starts.json --n-steps 100 --change 0.1 --n-preserve 4 \
        --alpha 0.9 --lam 0.01 --eta 0.5 --per-row-mean true --seed 0 --out results/faces/seed0/free.npz

Each step draws a random prototype ``j`` and a random relative change ``u ~ U(−change, change)`` of
its squared distance (``Δa_j = u a_j``); the same draws drive both methods from the same start.
MUSIC solves the Tikhonov system with ``T = {j}`` and the ``--n-preserve`` nearest prototypes
preserved; the baseline steps along ``sign(Δa_j) r̂_j``. Both steps have length ``--eta``.
Output: ``states`` (starts, 2, T+1, D) with ``methods`` = [music, radial], ``units`` and ``rel``
(starts, T), ``test_rows`` (the starts' rows of ``x_test``).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import _io
from musicsom.experiments.faces import FREE_METHODS, free_paths

log = logging.getLogger("musicsom.pipeline.faces.free")



def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True)
    p.add_argument("--som", required=True)
    p.add_argument("--starts", required=True)
    p.add_argument("--n-steps", type=int, default=100)
    p.add_argument("--change", type=float, default=0.1, help="relative changes are drawn from U(-change, change)")
    p.add_argument("--n-preserve", type=int, default=4)
    _io.add_music_args(p, kappa=False, ring=False)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    lat = _io.load_npz(args.latent, required=("x_test",))
    W = _io.load_npz(args.som, required=("prototypes",))["prototypes"]
    rows = _io.load_json(args.starts)["test_rows"]
    params = _io.music_params(args)  # validates alpha, lam and eta
    if args.n_steps < 1 or not 0 < args.change:
        raise ValueError("faces.free.n_steps must be >= 1 and faces.free.change > 0")
    if not 1 <= args.n_preserve <= W.shape[0] - 1:
        raise ValueError(f"faces.free.n_preserve must be in [1, {W.shape[0] - 1}]; got {args.n_preserve}")
    rng = np.random.default_rng(args.seed)
    X0 = lat["x_test"][np.asarray(rows)]
    run = free_paths(W, X0, args.n_steps, args.change, args.n_preserve, params.alpha, params.lam, params.eta,
                     params.per_row_mean, rng)
    states, units, rels = run["states"], run["units"], run["rel"]
    for s, x0 in enumerate(X0):
        log.info("start %d: final distance from the start music %.2f, radial %.2f", s,
                 *(np.linalg.norm(states[s, k, -1] - x0) for k in range(2)))
    _io.save_npz(args.out, states=states, methods=np.array(FREE_METHODS), units=units, rel=rels, test_rows=np.asarray(rows))


if __name__ == "__main__":
    _io.run_main(main)

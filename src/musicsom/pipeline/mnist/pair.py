"""Stage (Table 2 inputs): MUSIC, linear and VAE trajectories for one digit pair and one seed.

    python -m musicsom.pipeline.mnist.pair --data results/data/digits.npz --encoding results/mnist/encoding.npz \
        --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz --labels results/mnist/seed0/labels.npz \
        --classifier results/mnist/classifier.pt --vae results/mnist/vae.pt --source 0 --target 1 \
        --n-starts 3 --n-steps 200 --alpha 0.5 --lam 0.01 --kappa 0.1 --eta 0.2 --per-row-mean true \
        --min-purity 0.7 --knn-k 5 --knn-stride 5 --seed 0 --out results/mnist/seed0/pairs/0to1.csv

Starts: ``--n-starts`` test images of the source class drawn with a generator seeded by (seed, source,
target). One row per (start, method) with the Table 2 metrics (mean and min confidence, sharpness,
manifold distance, geodesic efficiency, step continuity) and the claim-4 quantities (crossing step,
steps in a third class, label sequence). Manifold distance: mean over every ``--knn-stride``-th frame
(and the last) of the mean distance to the ``--knn-k`` nearest training images in pixel space.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.pipeline import _io
from musicsom.pipeline.mnist._common import add_context_args, load_context, run_start, starts_of

log = logging.getLogger("musicsom.pipeline.mnist.pair")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--out", required=True, help="per-trajectory CSV")
    a = p.parse_args(argv)
    ctx = load_context(a)
    out = []
    for k, idx in enumerate(starts_of(ctx, a)):
        target, relaxed, _, rows, _ = run_start(ctx, a, int(idx))
        for m, row in rows.items():
            out.append({"seed": a.seed, "pair": f"{a.source}->{a.target}", "source": a.source, "target": a.target, "start": k,
                        "test_index": int(idx), "target_prototype": target, "target_relaxed": relaxed, "method": m, **row})
        log.info("%d->%d start %d (test %d): %s", a.source, a.target, k, idx,
                 "; ".join(f"{m}: cross {r['crossing_step']}, third {r['third_class_steps']}, sharp {r['sharpness']:.4f}" for m, r in rows.items()))
    _io.save_csv(a.out, pd.DataFrame(out))


if __name__ == "__main__":
    _io.run_main(main)

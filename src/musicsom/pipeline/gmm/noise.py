"""Stage: inversion error under activation noise against the Corollary 1 bound ``||e|| / σ_min(A)``, one seed's map (Fig 1's numbers; claim 2).

    python -m musicsom.pipeline.gmm.noise --data results/gmm/seed0/data.npz --som results/gmm/seed0/som.npz \
        --inversion '{"noise_points": 200, "noise_levels": [1e-6, 1e-4, 1e-2, 1], "noise_m_values": [11, 15, 30, 300], ...}' \
        --seed 0 --cases results/gmm/seed0/noise_cases.csv --summary results/gmm/seed0/noise_summary.json

Each case is one (test point, prototype subset of size m, noise level) with its own Gaussian noise draw (seeded
by ``--seed``, the map's seed). The bound must hold for every case; the summary records the share that respects
it and how tight it is (median error / bound). Fig 1 draws the first seed's cases; claim 2 reads every seed's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.experiments.gmm import noise_stability
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_section(p, "inversion", "gmm.inversion", "the inversion checks (this stage reads noise_points, noise_levels, noise_m_values)")
    p.add_argument("--seed", type=int, required=True, help="the seed of the map, which also seeds the noise draws")
    p.add_argument("--cases", required=True, help="CSV of every case: point, m, noise_std, sigma_min, error, bound, ratio, seed")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    a = p.parse_args(argv)
    inv = require(a.inversion, "gmm.inversion", ("noise_points", "noise_levels", "noise_m_values"))
    X = files.load_npz(a.data, required=("x_test",))["x_test"][: inv["noise_points"]]
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    D = X.shape[1]
    m_values = sorted({min(m, W.shape[0]) for m in inv["noise_m_values"]})
    if m_values[0] < D + 1:
        raise files.InputError(f"gmm.inversion.noise_m_values must all be >= D + 1 = {D + 1} (the bound needs full rank); got {inv['noise_m_values']}")
    res = pd.DataFrame(noise_stability(X, W, m_values, inv["noise_levels"], np.random.default_rng(a.seed)))
    res["ratio"] = res["error"] / res["bound"]
    res["seed"] = a.seed
    files.save_csv(a.cases, res)
    files.save_json(a.summary, {
        "seed": a.seed,
        "n_cases": int(len(res)),
        "share_within_bound": float(np.mean(res["error"] <= res["bound"] * (1 + 1e-9) + 1e-15)),
        "median_ratio": float(res["ratio"].median()),
        "max_ratio": float(res["ratio"].max()),
        "spearman_error_vs_bound": float(res[["error", "bound"]].corr(method="spearman").iloc[0, 1]),
    })


if __name__ == "__main__":
    files.run_main(main)

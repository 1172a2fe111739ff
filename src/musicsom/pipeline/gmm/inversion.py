"""Stage: inversion error of one seed's map against the number of prototypes m (Fig 5's numbers; claim 1).

    python -m musicsom.pipeline.gmm.inversion --data results/gmm/seed0/data.npz --som results/gmm/seed0/som.npz \
        --inversion '{"n_points": 1500, "m_max_factor": 3, ...}' --seed 0 --table results/gmm/seed0/inversion_vs_m.csv \
        --summary results/gmm/seed0/inversion_summary.json --errors results/gmm/seed0/inversion_errors.npz

Every test point (the first ``n_points``) is inverted from its BMU and its m − 1 nearest prototypes for
m = 2 … ``m_max_factor`` × D (minimum-norm below D + 1). The error must fall to round-off at m = D + 1
(Proposition 1). ``--table`` holds the median, quartiles and maximum over points at each m (Fig 5 draws the
first seed's), ``--errors`` every point's error at every m (claim 1's units, every seed), ``--summary`` the
largest median error for m >= D + 1 and the smallest for m <= D.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.gmm import inversion_error_vs_m
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_section(p, "inversion", "gmm.inversion", "the inversion checks (this stage reads n_points and m_max_factor: m runs from 2 to m_max_factor × D)")
    p.add_argument("--seed", type=int, required=True, help="the seed of the map (recorded with the errors)")
    p.add_argument("--table", required=True, help="CSV: median, quartiles and maximum error over points at each m")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    p.add_argument("--errors", required=True, help=".npz: errors (points, m values), m_values, dim and seed")
    a = p.parse_args(argv)
    inv = require(a.inversion, "gmm.inversion", ("n_points", "m_max_factor"))
    X = files.load_npz(a.data, required=("x_test",))["x_test"][: inv["n_points"]]
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    D = X.shape[1]
    m_max = min(inv["m_max_factor"] * D, W.shape[0])
    by_m, errors = inversion_error_vs_m(X, W, range(2, m_max + 1), return_errors=True)
    res = pd.DataFrame(by_m)
    res["dim"], res["n_points"], res["seed"] = D, len(X), a.seed
    files.save_csv(a.table, res)
    full, deficient = res[res["m"] >= D + 1], res[res["m"] <= D]
    files.save_json(a.summary, {
        "seed": a.seed,
        "dim": D,
        "n_points": int(len(X)),
        "max_median_error_full_rank": float(full["median_error"].max()),
        "min_median_error_rank_deficient": float(deficient["median_error"].min()),
        "max_error_full_rank": float(full["max_error"].max()),
    })
    files.save_npz(a.errors, errors=errors, m_values=res["m"].to_numpy(), dim=D, seed=a.seed)


if __name__ == "__main__":
    files.run_main(main)

"""Stage: the labelled clusters of the face SOM (apparent female, apparent darker skin) and 5 random prototypes.

    python -m musicsom.pipeline.faces.clusters --latent results/faces/seed0/latent.npz --som results/faces/seed0/som.npz \
        --labels results/data/lfw_labels.csv --clusters '{"threshold": 0.5, "max_size": 12, "min_hits": 5, "n_random": 5}' \
        --seed 0 --out results/faces/seed0/clusters.json --shares results/faces/seed0/shares.csv

For each prototype: the share of its hits (training faces whose BMU it is) whose AFIF4 gender label
is female, and the share whose DFI ``Black`` attribute is set, among the hits whose label is known
(unknown labels, e.g. images without a DFI row, are left out). The two labelled clusters grow from the
highest-share prototype over the lattice while the cluster's pooled share stays at least ``threshold``,
up to ``max_size`` prototypes (``musicsom.experiments.faces.grow_cluster``). The labels are apparent
attributes (hand-reviewed gender lists; an automatic classifier's race attribute), not self-identified.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, section
from musicsom.experiments.faces import CLUSTERS, DESCRIPTIONS, grow_cluster, label_shares
from musicsom.som import best_matching_units

log = logging.getLogger("musicsom.pipeline.faces.clusters")

def label_columns(image_ids, labels: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{name: (positive, known)} for the training images, joined on image_id."""
    t = labels.set_index("image_id").reindex(np.asarray(image_ids).astype(str))
    if t["gender"].isna().any():
        missing = t.index[t["gender"].isna()][:3].tolist()
        raise ValueError(f"the labels table lacks some images, e.g. {missing}; rebuild results/data/lfw_labels.csv")
    gender = t["gender"].astype(str).to_numpy()
    black = t["black"].astype(str).str.lower().to_numpy()
    return {
        "female": (gender == "female", gender != "unknown"),
        "darker_skinned": (black == "true", black != "unknown"),
    }


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "som", "labels")
    add_sections(p, "clusters")
    p.add_argument("--seed", type=int, required=True, help="seed of the random cluster's prototypes (the seed wildcard)")
    p.add_argument("--out", required=True, help="output .json")
    p.add_argument("--shares", required=True, help="output .csv: per-prototype hits and shares")
    args = p.parse_args(argv)
    c_cfg = section(args, "clusters")

    lat = files.load_npz(args.latent, required=("x_train", "image_id_train"))
    som = files.load_npz(args.som, required=("prototypes", "grid_shape", "topology"))
    W = som["prototypes"]
    K = W.shape[0]
    grid = tuple(int(v) for v in som["grid_shape"])
    topology = str(som["topology"])
    if not 1 <= c_cfg["n_random"] <= K:
        raise ValueError(f"faces.clusters.n_random must be in [1, {K}]; got {c_cfg['n_random']}")
    labels = files.load_csv(args.labels, dtype=str)
    bmu = best_matching_units(lat["x_train"], W)
    cols = label_columns(lat["image_id_train"], labels)
    rows = pd.DataFrame({"unit": np.arange(K), "row": np.arange(K) // grid[1], "col": np.arange(K) % grid[1]})
    out = {}
    for name in ("darker_skinned", "female"):
        positive, known = cols[name]
        s = label_shares(bmu, positive, known, K)
        rows["hits"] = s["hits"]
        rows[f"{name}_known"] = s["known"]
        rows[f"{name}_positive"] = s["positive"]
        rows[f"{name}_share"] = s["share"]
        c = grow_cluster(s["positive"], s["known"], grid, topology, c_cfg["threshold"], c_cfg["max_size"], c_cfg["min_hits"])
        base = float(positive.sum() / max(known.sum(), 1))
        out[name] = {**c, "base_rate": base, "n_hits": int(s["hits"][c["units"]].sum()),
                     "n_known_hits": int(s["known"][c["units"]].sum()), "description": DESCRIPTIONS[name]}
        log.info("%s cluster: %d prototypes, share %.3f (seed %d at %.3f; base rate %.3f)", name, c["size"], c["share"],
                 c["seed_unit"], c["seed_share"], base)
    rng = np.random.default_rng(args.seed)
    units = np.sort(rng.choice(K, c_cfg["n_random"], replace=False))
    fem_pos, fem_known = rows["female_positive"].to_numpy(), rows["female_known"].to_numpy()
    out["random"] = {"units": units, "size": int(units.size), "seed_unit": None, "share": None,
                     "female_share": float(fem_pos[units].sum() / max(fem_known[units].sum(), 1)),
                     "n_hits": int(rows["hits"].to_numpy()[units].sum()), "description": DESCRIPTIONS["random"]}
    for name in CLUSTERS:
        out[name]["units"] = [int(u) for u in out[name]["units"]]
    out["settings"] = {"threshold": c_cfg["threshold"], "max_size": c_cfg["max_size"], "min_hits": c_cfg["min_hits"],
                       "n_random": c_cfg["n_random"], "seed": args.seed, "grid_shape": list(grid), "topology": topology,
                       "n_train_faces": int(bmu.size)}
    files.save_json(args.out, out)
    files.save_csv(args.shares, rows)


if __name__ == "__main__":
    files.run_main(main)

"""Stage: the MNIST instruments of every seed in one table (classifier accuracy, VAE held-out ELBO, LeNet accuracy).

    python -m musicsom.pipeline.mnist.models_table --classifier results/mnist/seed*/classifier.json \
        --vae results/mnist/seed*/vae.json [--lenet results/mnist/seed*/lenet.json] \
        --table results/tables/models_mnist.csv

Each seed trains its own models, so their spread is part of every interval taken over seeds; this table shows
how large it is. One row per seed plus a mean and a standard deviation row. The seed is read from each file,
not from its name, and every seed must appear once in every list.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.pipeline import files
from musicsom.pipeline.files import InputError

log = logging.getLogger("musicsom.pipeline.mnist.models_table")

# (file kind, key in its JSON, column in the table)
COLUMNS = {
    "classifier": [("test_accuracy", "classifier_test_accuracy"), ("train_accuracy", "classifier_train_accuracy")],
    "vae": [("test_negative_elbo", "vae_test_negative_elbo"), ("test_kl", "vae_test_kl"),
            ("test_bce_per_image", "vae_test_bce"), ("test_pixel_rmse", "vae_test_pixel_rmse")],
    "lenet": [("test_accuracy", "lenet_test_accuracy")],
}


def gather(summaries: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per seed from the per-seed summaries of each kind ({kind: [summary, ...]})."""
    rows: dict[int, dict] = {}
    for kind, items in summaries.items():
        seen = set()
        for s in items:
            seed = int(s["seed"])
            if seed in seen:
                raise InputError(f"two {kind} summaries are for seed {seed}: pass each seed's file once")
            seen.add(seed)
            row = rows.setdefault(seed, {"seed": seed})
            for key, col in COLUMNS[kind]:
                row[col] = float(s[key]) if key in s else np.nan
        if rows and seen != set(rows):
            raise InputError(f"the {kind} summaries cover seeds {sorted(seen)} but others cover {sorted(rows)}: "
                             "pass the same seeds for every model")
    frame = pd.DataFrame([rows[k] for k in sorted(rows)])
    return frame.dropna(axis=1, how="all")


def with_spread(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-seed rows, then the mean and the standard deviation (ddof = 1) over seeds."""
    values = frame.drop(columns="seed")
    mean = values.mean().to_frame().T.assign(seed="mean")
    sd = values.std(ddof=1).to_frame().T.assign(seed="sd")
    out = pd.concat([frame.astype({"seed": object}), mean, sd], ignore_index=True)
    return out[frame.columns]


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--classifier", nargs="+", required=True, help="classifier.json of every seed")
    p.add_argument("--vae", nargs="+", required=True, help="vae.json of every seed")
    p.add_argument("--lenet", nargs="*", default=[], help="lenet.json of every seed (the feature network)")
    p.add_argument("--table", required=True, help="CSV to write (Markdown beside it)")
    a = p.parse_args(argv)
    summaries = {"classifier": [files.load_json(f) for f in a.classifier], "vae": [files.load_json(f) for f in a.vae]}
    if a.lenet:
        summaries["lenet"] = [files.load_json(f) for f in a.lenet]
    frame = gather(summaries)
    for _, r in frame.iterrows():
        log.info("seed %d: %s", r["seed"], ", ".join(f"{k} {v:.4g}" for k, v in r.items() if k != "seed"))
    files.save_table(a.table, with_spread(frame), title="MNIST models per seed",
                     notes="Each seed trains its own classifier (on the whitened latent), VAE (on pixels) and, where "
                           "listed, the LeNet whose features the distribution metrics use. Negative ELBO in nats per "
                           "image on the held-out test images (one seeded draw; lower is better).")


if __name__ == "__main__":
    files.run_main(main)

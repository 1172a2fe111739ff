"""Stage: the majority label of every SOM prototype (paper §5.3, Fig 7) and the map's class layout.

    python -m musicsom.pipeline.mnist.labels --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz \
        --out results/mnist/seed0/labels.npz --summary results/mnist/seed0/labels.json

``labels`` holds, per prototype, the majority class of the training images it wins (−1 for units
with no hits), the per-class hit counts and the purity (share of hits in the majority class).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.experiments.mnist import prototype_purity
from musicsom.som import best_matching_units, majority_labels

log = logging.getLogger("musicsom.pipeline.mnist.labels")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True, help="the whitened codes of mnist.encode (.npz)")
    p.add_argument("--som", required=True, help="the prototypes (a SOM, or k-means centres saved the same way)")
    p.add_argument("--out", required=True, help=".npz of the labels, per-class hit counts and purity to write")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    a = p.parse_args(argv)
    d = files.load_npz(a.latent, required=("x_train", "y_train", "x_test", "y_test"))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    W = som["prototypes"]
    labels, counts = majority_labels(d["x_train"], W, d["y_train"], n_classes=10)
    purity = prototype_purity(counts)
    test_acc = float(np.mean(labels[best_matching_units(d["x_test"], W)] == d["y_test"]))
    per_class = np.bincount(labels[labels >= 0], minlength=10)
    summary = {
        "prototypes_per_class": per_class,
        "classes_without_prototype": [int(c) for c in np.flatnonzero(per_class == 0)],
        "dead_units": int(np.sum(labels < 0)),
        "median_purity": float(np.median(purity[labels >= 0])),
        "training_purity": float(counts.max(1).sum() / counts.sum()),
        "test_accuracy_of_bmu_label": test_acc,
        "quantization_error": float(som.get("quantization_error", np.nan)),
        "topographic_error": float(som.get("topographic_error", np.nan)),
    }
    log.info("prototypes per class %s; purity %.3f; BMU-label test accuracy %.4f", per_class.tolist(), summary["training_purity"], test_acc)
    if summary["classes_without_prototype"]:
        log.warning("classes without a prototype: %s (pairs toward them cannot run)", summary["classes_without_prototype"])
    files.save_npz(a.out, labels=labels, counts=counts, purity=purity)
    files.save_json(a.summary, summary)


if __name__ == "__main__":
    files.run_main(main)

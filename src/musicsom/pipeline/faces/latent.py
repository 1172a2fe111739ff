"""Stage: PCA-whiten one seed's face codes (fit on the training people) into the SOM's latent space.

    python -m musicsom.pipeline.faces.latent --codes results/faces/seed0/codes.npz --pca-components 128 \
        --out results/faces/seed0/latent.npz --summary results/faces/seed0/latent.json

Output arrays: ``x_train`` / ``x_test`` (whitened codes of the training / held-out people; the SOM
trains on ``x_train``), ``train_index`` / ``test_index`` (rows of the codes file), ``image_id_train``
/ ``image_id_test``, ``person_test``, and the whitening (``pca_mean``, ``pca_components``,
``pca_variance``, ``pca_total_variance``) so that a latent state decodes as
``code = mean + (z * sqrt(variance)) @ components``.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.encoding import PCAWhitening

log = logging.getLogger("musicsom.pipeline.faces.latent")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--codes", required=True, help="the seed's face codes (.npz of faces_autoencoder)")
    p.add_argument("--pca-components", type=int, required=True,
                   help="whitened latent dimension D of the SOM (config faces.pca_components)")
    p.add_argument("--out", required=True, help="the whitened codes and the whitening (.npz) to write")
    p.add_argument("--summary", required=True, help="JSON summary to write")
    args = p.parse_args(argv)

    data = files.load_npz(args.codes, required=("codes", "heldout", "image_id", "person"))
    codes = data["codes"].astype(np.float64)
    heldout = data["heldout"].astype(bool)
    train_index, test_index = np.flatnonzero(~heldout), np.flatnonzero(heldout)
    n_train, P = train_index.size, codes.shape[1]
    if not 1 <= args.pca_components <= min(n_train - 1, P):
        raise ValueError(
            f"faces.pca_components = {args.pca_components} must be in [1, {min(n_train - 1, P)}] for {n_train} training codes "
            f"of dimension {P}; lower faces.pca_components"
        )
    pca = PCAWhitening(args.pca_components).fit(codes[train_index])
    x_train, x_test = pca.encode(codes[train_index]), pca.encode(codes[test_index])
    kept = float(pca.explained_variance_ratio_.sum())
    rec = pca.decode(x_test)
    rel = float(np.linalg.norm(rec - codes[test_index]) / np.linalg.norm(codes[test_index] - pca.mean_))
    log.info("PCA %d -> %d keeps %.1f%% of the training variance; held-out relative residual %.3f", P, args.pca_components, 100 * kept, rel)
    files.save_npz(
        args.out, x_train=x_train, x_test=x_test, train_index=train_index, test_index=test_index,
        image_id_train=data["image_id"][train_index], image_id_test=data["image_id"][test_index],
        person_test=data["person"][test_index], pca_mean=pca.mean_, pca_components=pca.components_,
        pca_variance=pca.explained_variance_, pca_total_variance=np.array(pca.total_variance_),
    )
    files.save_json(args.summary, {
        "code_dim": int(P), "components": args.pca_components, "n_train": int(n_train), "n_test": int(test_index.size),
        "explained_variance_ratio": kept, "heldout_relative_residual": rel,
    })


if __name__ == "__main__":
    files.run_main(main)

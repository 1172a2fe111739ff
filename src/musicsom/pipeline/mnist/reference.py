"""Stage (Table 4 reference rows): sharpness and manifold distance of real and reconstructed images.

    python -m musicsom.pipeline.mnist.reference --data results/data/digits.npz --n-train 0 --n-test 0 \
        --encoding results/mnist/encoding.npz --vae results/mnist/seed0/vae.pt --som results/mnist/seed0/som.npz \
        --reference-images 200 --knn-k 5 --seed 0 --out results/mnist/reference.json

Calibrates the two image metrics of Table 4 on a seeded sample of ``--reference-images`` test images
(config ``mnist.reference_images``): the images themselves, their PCA reconstructions (the decoder every
MUSIC and linear frame goes through), their VAE reconstructions (posterior mean, the VAE decoder), and
decoded SOM prototypes (averages of many digits).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.experiments import mnist as mn
from musicsom.encoding import flatten_images
from musicsom.image_metrics import KnnIndex, laplacian_sharpness
from musicsom.pipeline.mnist.context import add_knn_arg, add_slice_args, slice_digits

log = logging.getLogger("musicsom.pipeline.mnist.reference")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="digits.npz (the test images sampled, the training images of the k-NN search)")
    add_slice_args(p)
    p.add_argument("--encoding", required=True, help="the PCA whitening of mnist.encode (.npz)")
    p.add_argument("--vae", required=True, help="the VAE checkpoint of mnist.vae")
    p.add_argument("--som", required=True, help="a SOM of the MNIST codes (its decoded prototypes are one reference set)")
    p.add_argument("--reference-images", type=int, required=True,
                   help="config mnist.reference_images: test images in the seeded sample (as many decoded prototypes)")
    add_knn_arg(p)
    p.add_argument("--seed", type=int, required=True, help="seed of the sample (the first of the config's seeds)")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (the rule's threads)")
    p.add_argument("--out", required=True, help="JSON of the reference rows to write")
    a = p.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    from musicsom.experiments.models import vae_decode, vae_encode

    threadpool_limits(max(1, a.threads))
    torch.set_num_threads(max(1, a.threads))
    d = slice_digits(files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, a.n_test)
    enc = mn.load_encoder(files.load_npz(a.encoding, required=("mean", "components", "explained_variance")))
    from musicsom.experiments.models import VAE

    vae = files.load_model(a.vae, VAE)
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    rng = np.random.default_rng(a.seed)
    n = min(a.reference_images, len(d["x_test"]))
    X = flatten_images(d["x_test"][np.sort(rng.choice(len(d["x_test"]), n, replace=False))])
    sets = {
        "test images": X,
        "PCA reconstructions": mn.to_images(enc, enc.encode(X)).reshape(n, -1),
        "VAE reconstructions": vae_decode(vae, vae_encode(vae, X)),
        "decoded SOM prototypes": mn.to_images(enc, W[np.sort(rng.choice(len(W), min(n, len(W)), replace=False))]).reshape(-1, 784),
    }
    knn = KnnIndex(flatten_images(d["x_train"]))
    out = {"n_images": n, "knn_k": a.knn_k, "sets": {}}
    for name, A in sets.items():
        sharp = laplacian_sharpness(A.reshape(-1, 28, 28))
        dist = knn.mean_distance(A, a.knn_k)
        out["sets"][name] = {"sharpness": float(sharp.mean()), "manifold_distance": float(dist.mean()), "n": int(len(A))}
        log.info("%s: sharpness %.4f, manifold distance %.3f", name, sharp.mean(), dist.mean())
    files.save_json(a.out, out)


if __name__ == "__main__":
    files.run_main(main)

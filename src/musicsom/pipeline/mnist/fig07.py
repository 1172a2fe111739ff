"""Stage (Fig 7): the decoded prototypes of the toroidal SOM, annotated by majority label, beside the U-matrix.

    python -m musicsom.pipeline.mnist.fig07 --encoding results/mnist/encoding.npz --som results/mnist/seed0/som.npz \
        --labels results/mnist/seed0/labels.npz --figure results/figures/fig07_mnist_som.png

Left: every prototype decoded to pixels (PCA decoder, clipped to [0, 1]) at its lattice position,
its majority label in the corner in the colour of its class. Right: the U-matrix (mean distance to
the 4 lattice neighbours, wrapping around the torus) with the class borders of the labelled map.
The CSV lists row, column, label, purity, hits and U-matrix value of every unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.experiments.mnist import load_encoder, to_images
from musicsom.pipeline import files
from musicsom.som import u_matrix


def mosaic(images, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tile (rows·cols, h, w) images row-major into one array with ``pad`` pixels between tiles (value 1)."""
    n, h, w = images.shape
    out = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad))
    for k in range(n):
        r, c = divmod(k, cols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = images[k]
    return out


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--encoding", required=True, help="the PCA whitening of mnist.encode (.npz: the decoder to pixels)")
    p.add_argument("--som", required=True, help="the SOM (.npz)")
    p.add_argument("--labels", required=True, help="its majority labels (mnist.labels)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    plt = files.setup_matplotlib()
    enc = load_encoder(files.load_npz(a.encoding, required=("mean", "components", "explained_variance")))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    lab = files.load_npz(a.labels, required=("labels", "counts", "purity"))
    rows, cols = (int(v) for v in som["grid_shape"])
    W, labels = som["prototypes"], lab["labels"]
    imgs = 1.0 - to_images(enc, W)  # dark strokes on white
    U = u_matrix(W, (rows, cols), str(som["topology"]))
    from matplotlib import patheffects

    colours = plt.get_cmap("tab10")
    # a third of an inch per unit (at least 6 inches a panel), so that the digit of a unit stays legible:
    # about 45 % of the unit's height, between 6 and 14 points
    panel = max(6.0, cols / 3.0)
    tile_pt = 72.0 * panel / cols
    fs = float(np.clip(0.45 * tile_pt, 6.0, 14.0))
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(2 * panel + 1.0, panel * rows / cols + 0.9),
                                   gridspec_kw={"width_ratios": [1, 1.08]})
    ax0.imshow(mosaic(imgs, rows, cols), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    step = 29  # tile 28 + pad 1
    halo = [patheffects.withStroke(linewidth=max(1.5, fs / 4), foreground="white")]
    for k, lbl in enumerate(labels):
        r, c = divmod(k, cols)
        if lbl >= 0:
            ax0.text(1 + c * step + 1, 1 + r * step + 1, str(lbl), color=colours(lbl), fontsize=fs, fontweight="bold",
                     va="top", ha="left", path_effects=halo)
    ax0.set_title(f"Decoded prototypes of the {rows}×{cols} {som['topology']} SOM, majority label in the corner", fontsize=max(10.0, fs))
    ax0.set_axis_off()
    im = ax1.imshow(U, cmap="viridis", interpolation="nearest")
    grid = labels.reshape(rows, cols)
    shadow = [patheffects.withStroke(linewidth=max(1.5, fs / 4), foreground="black")]
    # class borders between lattice neighbours (including the wrap-around seam)
    for r in range(rows):
        for c in range(cols):
            if grid[r, c] != grid[r, (c + 1) % cols]:
                ax1.plot([c + 0.5, c + 0.5], [r - 0.5, r + 0.5], color="white", lw=1.2)
            if grid[r, c] != grid[(r + 1) % rows, c]:
                ax1.plot([c - 0.5, c + 0.5], [r + 0.5, r + 0.5], color="white", lw=1.2)
            ax1.text(c, r, str(grid[r, c]) if grid[r, c] >= 0 else "–", color="white", fontsize=fs, fontweight="bold",
                     ha="center", va="center", path_effects=shadow)
    ax1.set_xlim(-0.5, cols - 0.5)
    ax1.set_ylim(rows - 0.5, -0.5)
    ax1.set_title("U-matrix (mean distance to lattice neighbours); white lines: class borders", fontsize=max(10.0, fs))
    fig.colorbar(im, ax=ax1, fraction=0.046, pad=0.02, label="U-matrix (whitened units)")
    fig.tight_layout()
    rr, cc = np.divmod(np.arange(rows * cols), cols)
    data = pd.DataFrame({"row": rr, "col": cc, "label": labels, "purity": lab["purity"], "hits": lab["counts"].sum(1), "umatrix": U.ravel()})
    files.save_figure(fig, a.figure, data)


if __name__ == "__main__":
    files.run_main(main)

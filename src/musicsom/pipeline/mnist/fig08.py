"""Stage (Fig 8): decoded frames of the "0" → "1" MUSIC trajectory and of the linear baseline.

    python -m musicsom.pipeline.mnist.fig08 --trajectory results/mnist/seed0/transition.npz \
        --transition '{"strip_frames": 11, ...}' --figure results/figures/fig08_mnist_strips.png

Two strips of ``mnist.transition.strip_frames`` evenly spaced frames (the same steps for both methods),
each titled with its step and the classifier's predicted label and confidence; the last column is the
target prototype.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.common import METHOD_NAMES, frame_steps
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--trajectory", required=True, help="the 0 -> 1 demonstration of mnist.transition (.npz)")
    add_section(p, "transition", "mnist.transition", "the demonstration (this stage reads strip_frames: frames per strip)")
    p.add_argument("--methods", nargs="+", default=["music", "linear"], help="the methods shown, one strip each")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    n_frames = int(require(a.transition, "mnist.transition", ("strip_frames",))["strip_frames"])
    plt = files.setup_matplotlib()
    t = files.load_npz(a.trajectory, required=tuple(f"{m}_images" for m in a.methods))
    n = t[f"{a.methods[0]}_images"].shape[0]
    steps = frame_steps(n - 1, n_frames)
    fig, axes = plt.subplots(len(a.methods), steps.size, figsize=(1.25 * steps.size, 1.55 * len(a.methods)), squeeze=False)
    rows = []
    for i, m in enumerate(a.methods):
        P = t[f"{m}_probs"]
        for j, s in enumerate(steps):
            ax = axes[i, j]
            ax.imshow(1.0 - t[f"{m}_images"][s], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            lbl, conf = int(P[s].argmax()), float(P[s].max())
            ax.set_title(f"t={s}\n'{lbl}' {conf:.2f}", fontsize=7)
            if j == 0:
                ax.set_ylabel(METHOD_NAMES.get(m, m), fontsize=9)
            rows.append({"method": m, "step": int(s), "predicted_label": lbl, "confidence": conf,
                         "mean_intensity": float(t[f"{m}_images"][s].mean())})
    src, tgt = int(t["source"]), int(t["target"])
    fig.suptitle(f"'{src}' → '{tgt}' (test image {int(t['start_index'])} → prototype {int(t['target_prototype'])}): decoded frames", fontsize=9)
    fig.tight_layout()
    files.save_figure(fig, a.figure, pd.DataFrame(rows))


if __name__ == "__main__":
    files.run_main(main)

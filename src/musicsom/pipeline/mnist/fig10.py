"""Stage (Fig 10): classifier probabilities along the "0" → "1" trajectories, MUSIC vs linear.

    python -m musicsom.pipeline.mnist.fig10 --trajectory results/mnist/seed0/transition.npz \
        --figure results/figures/fig10_mnist_confidence.png

Per method and step: the probability of the source class, of the target class and of the strongest
third class (the other class with the highest peak along that path). The CSV also holds per step the
predicted label, and per method the crossing step (first step predicted as the target), the step
from which the path stays in the target class, the label sequence and the steps spent in a third class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom import image_metrics as im
from musicsom.experiments.common import METHOD_NAMES
from musicsom.pipeline import files


def runs_text(labels, max_runs: int = 5) -> str:
    """The predicted labels along a path in words: "'0' at steps 0–86, '8' at 87, '1' at 88–200".

    Paths with more than ``max_runs`` runs show the first and last ones and count the runs between.
    """
    parts, start = [], 0
    for lab, n in im.label_runs(labels):
        end = start + n - 1
        parts.append(f"'{lab}' at {start}" if n == 1 else f"'{lab}' at {start}–{end}")
        start = end + 1
    if len(parts) > max_runs:
        parts = parts[:3] + [f"… {len(parts) - 5} more runs …"] + parts[-2:]
    return ", ".join(parts)


def title(name: str, cross: int, commit: int, n_third: int, target: int) -> str:
    """One panel's title: when the path first reaches the target class and stays there, and its third-class steps."""
    if cross < 0:
        reach = f"never classified as '{target}'"
    elif commit == cross:
        reach = f"classified as '{target}' from step {cross} on"
    elif commit >= 0:
        reach = f"first classified as '{target}' at step {cross}, for good from step {commit}"
    else:
        reach = f"first classified as '{target}' at step {cross}, not at the end"
    third = "no step in a third class" if n_third == 0 else f"{n_third} step{'s' * (n_third != 1)} in a third class"
    return f"{name}: {reach}; {third}"


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--trajectory", required=True, help="the 0 -> 1 demonstration of mnist.transition (.npz)")
    p.add_argument("--methods", nargs="+", default=["music", "linear"], help="the methods shown, one panel each")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    plt = files.setup_matplotlib()
    t = files.load_npz(a.trajectory, required=tuple(f"{m}_probs" for m in a.methods))
    src, tgt = int(t["source"]), int(t["target"])
    fig, axes = plt.subplots(len(a.methods), 1, figsize=(8, 2.6 * len(a.methods)), sharex=True, squeeze=False)
    frames = []
    for ax, m in zip(axes[:, 0], a.methods):
        P = t[f"{m}_probs"]
        labels = P.argmax(1)
        third = im.strongest_third(P, src, tgt)
        cross, commit = im.crossing_step(labels, tgt), im.commit_step(labels, tgt)
        n_third = im.third_class_steps(labels, src, tgt)
        seq = im.label_sequence(labels)
        steps = np.arange(P.shape[0])
        ax.plot(steps, P[:, src], label=f"p('{src}') source", color="C0")
        ax.plot(steps, P[:, tgt], label=f"p('{tgt}') target", color="C3")
        ax.plot(steps, P[:, third], label=f"p('{third}') strongest third", color="C2", ls="--")
        if cross >= 0:
            ax.axvline(cross, color="k", lw=0.8, ls=":")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("probability")
        ax.set_title(title(METHOD_NAMES.get(m, m), cross, commit, n_third, tgt) + "\npredicted: " + runs_text(labels), fontsize=8)
        ax.legend(fontsize=7, loc="center right")
        frames.append(pd.DataFrame({
            "method": m, "step": steps, "p_source": P[:, src], "p_target": P[:, tgt], "third_class": third,
            "p_third": P[:, third], "predicted_label": labels, "confidence": P.max(1), "crossing_step": cross,
            "commit_step": commit, "steps_in_third_class": n_third, "label_sequence": seq,
        }))
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    files.save_figure(fig, a.figure, pd.concat(frames, ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)

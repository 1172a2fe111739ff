"""Stage: Fig 11, free evolution of held-out faces (MUSIC preserving the 4 nearest prototypes vs radial steps).

    python -m musicsom.pipeline.faces.fig11 --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --free results/faces/seed0/free.npz --frames results/faces/seed0/frames.csv --figures '{"n_starts": 3, "n_frames": 11}' \
        --figure results/figures/fig11_faces_free_evolution.png

Decoded strips, two rows per start face (MUSIC, radial), frames evenly spaced over the run; a red
frame marks a decoded image in which dlib's detector finds no face. The CSV beside the PNG holds the
shown frames' step, detection and latent distance to the nearest prototype, and each method's
detection rate per start. Faces are of real people: the figure stays under results/.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.common import METHOD_NAMES, frame_steps
from musicsom.pipeline import files
from musicsom.pipeline.faces.decoding import strip_figure
from musicsom.pipeline.faces.options import add_files, add_sections, section


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "free", "frames")  # of the first seed
    add_sections(p, "figures")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    args = p.parse_args(argv)
    fig_cfg = section(args, "figures")

    from musicsom.pipeline.faces.decoding import LatentDecoder

    lat = files.load_npz(args.latent, required=("x_test",))
    free = files.load_npz(args.free, required=("states", "methods"))
    frames = files.load_csv(args.frames)
    frames = frames[frames["experiment"] == "free"]
    decode = LatentDecoder(args.checkpoint, lat)
    S = free["states"]
    steps = frame_steps(S.shape[2] - 1, fig_cfg["n_frames"])
    rate = frames.groupby(["method", "start"])["detected"].mean()
    rows, labels, marks, data = [], [], [], []
    for s in range(min(fig_cfg["n_starts"], S.shape[0])):
        for m, method in enumerate(free["methods"].astype(str)):
            rows.append(decode(S[s, m, steps]))
            f = frames[(frames["method"] == method) & (frames["start"] == s)].set_index("step").loc[steps]
            marks.append(f["detected"].astype(bool).tolist())
            name = METHOD_NAMES[method]
            labels.append(f"start {s}\n{name}\nfaces {100 * rate[(method, s)]:.0f}%")
            data.append(pd.DataFrame({"start": s, "method": method, "step": steps, "detected": f["detected"].to_numpy(),
                                      "nearest_prototype": f["nearest_prototype"].to_numpy(),
                                      "detection_rate_of_run": rate[(method, s)]}))
    overall = frames.groupby("method")["detected"].mean()
    title = "Free evolution: MUSIC (4 nearest preserved) vs radial; equal step length. Faces found: " + ", ".join(
        f"{METHOD_NAMES[k]} {100 * v:.0f}%" for k, v in overall.items())
    fig = strip_figure(rows, labels, steps, marks, title=title)
    files.save_figure(fig, args.figure, pd.concat(data, ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)

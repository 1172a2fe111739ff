"""The options the faces stages share, each with one meaning: their input files, their config sections
(passed whole by the rules of ``workflow/rules/faces.smk``) and claim 8's settings.

A stage declares what it reads with :func:`add_files` and :func:`add_sections`, and reads a section with
:func:`section` (a read-only mapping that must hold every key the faces stages read from it) or
:func:`music` (the :class:`~musicsom.music.MusicParams` of ``faces.music``). The schema
(``workflow/schemas/config.schema.yaml``) holds every default.
"""

from __future__ import annotations

from musicsom.experiments.faces import CLUSTERS
from musicsom.music import MusicParams
from musicsom.pipeline.sections import add_section, build, require

#: the input files of the faces stages: option -> what it is (the stage that writes it)
FILES = {
    "latent": "the whitened codes and the whitening (.npz of faces.latent)",
    "checkpoint": "the seed's face code (.pt of faces.autoencoder), to decode latent states into faces",
    "som": "the SOM of one seed (.npz)",
    "labels": "CSV image_id, person, gender, black (data.prepare_lfw)",
    "clusters": "the seed's clusters (JSON of faces.clusters)",
    "starts": "the seed's start faces (JSON of faces.starts)",
    "free": "the seed's free-evolution states (.npz of faces.free)",
    "informed": "the seed's informed states (.npz of faces.informed)",
    "linear": "the seed's linear paths (.npz of faces.linear)",
    "frames": "the seed's measured frames (CSV of faces.frames)",
}

#: the config sections faces.<name>: (the keys the faces stages read, what the section is)
SECTIONS = {
    "autoencoder": (("holdout", "code_dim", "width", "depth", "epochs", "batch_size", "lr", "warmup", "ssim_weight",
                     "pca_iterations"),
                    "the face code (PCA encoder, PCA decoder + learned correction) and its training"),
    "clusters": (("threshold", "max_size", "min_hits", "n_random"),
                 "how the labelled clusters grow (threshold, max_size, min_hits), and the random cluster's size"),
    "starts": (("n_starts", "outside_clusters"), "n_starts per seed; outside_clusters: only faces labelled male and not Black"),
    "free": (("n_steps", "change", "n_preserve"),
             "free evolution: n_steps, change (relative changes drawn from U(-change, change)), n_preserve"),
    "informed": (("n_steps",), "n_steps of every informed run (and of the linear paths)"),
    "identity": (("size", "detector_upsample", "every"),
                 "dlib's settings (size, detector_upsample) and every: identity drift every n-th step"),
    "figures": (("n_starts", "n_frames"), "n_starts: start faces shown; n_frames: frames per strip"),
    "music": (None, "the MUSIC settings (musicsom.music.MusicParams)"),
}

def add_files(p, *names: str) -> None:
    """Add ``--<name>`` (required) for each input file in ``names`` (keys of :data:`FILES`)."""
    for name in names:
        p.add_argument(f"--{name}", required=True, help=FILES[name])


def add_sections(p, *names: str) -> None:
    """Add ``--<name> JSON``: the config section ``faces.<name>``, whole, for each of ``names`` (keys of :data:`SECTIONS`)."""
    for name in names:
        add_section(p, name, f"faces.{name}", SECTIONS[name][1])


def section(a, name: str):
    """The section ``faces.<name>`` of the parsed options ``a``: a read-only mapping holding every key of :data:`SECTIONS`."""
    return require(getattr(a, name), f"faces.{name}", SECTIONS[name][0])


def music(a) -> MusicParams:
    """The validated :class:`~musicsom.music.MusicParams` of ``--music`` (every field required)."""
    return build(MusicParams, a.music, "faces.music")


def add_target_cluster(p, what: str) -> None:
    """Add ``--target-cluster`` (config ``faces.target_cluster``); ``what`` says what this stage does with it."""
    p.add_argument("--target-cluster", choices=CLUSTERS, required=True, help=f"{what} (config faces.target_cluster)")


def add_claim8_args(p) -> None:
    """Add claim 8's settings: ``--monotone-min`` and ``--target-cluster`` (config ``faces.*``)."""
    p.add_argument("--monotone-min", type=float, required=True,
                   help="share of non-increasing cluster-distance steps that counts as monotone (config faces.monotone_min)")
    add_target_cluster(p, "the cluster toward which claim 8 compares identity drift, linear vs MUSIC")

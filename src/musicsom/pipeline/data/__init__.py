"""Stages of the data layer: fetch and verify MNIST and LFW, build the arrays the experiments read."""

from __future__ import annotations


def add_mirror_arg(p, required: bool = True) -> None:
    """``--mirror``: the data mirror folder the fetching stages read, or empty for ``$MUSICSOM_DATA_MIRROR``
    (``required=False``: None when not given, for a stage that checks it only where it fetches)."""
    p.add_argument("--mirror", required=required, metavar="DIR",
                   help="the data mirror, a folder laid out like ../shared/data (docs/DATA.md; the workflow passes "
                        "data.mirror, else $MUSICSOM_DATA_MIRROR, as an absolute path); empty: $MUSICSOM_DATA_MIRROR "
                        "if set, else the canonical URLs")

"""Helpers shared by the k-means stages: reading one arm (SOM or k-means) of the paired Table 2 runs."""

from __future__ import annotations

import pandas as pd

from musicsom.pipeline import files


def load_arm(paths, arm: str) -> pd.DataFrame:
    """The MUSIC rows of one arm's pair CSVs, tagged with ``prototypes = arm``."""
    frame = pd.concat([files.load_csv(p) for p in paths], ignore_index=True)
    frame = frame[frame["method"] == "music"].copy()
    if frame.empty:
        raise files.InputError(f"the {arm} pair CSVs hold no MUSIC rows; rerun their pair jobs")
    frame["prototypes"] = arm
    return frame

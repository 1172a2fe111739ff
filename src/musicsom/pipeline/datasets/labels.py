"""Per-image LFW labels: gender (AFIF4 lists) and the DFI ``Black`` attribute (binarized Kumar et al.).

Both are *apparent* attributes for real, named people: AFIF4's hand-reviewed gender lists, and an
automatic classifier's race attribute (DFI keeps the 2/3 most confident positives). See docs/DATA.md.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .fetch import FormatError

UNKNOWN = "unknown"


def _image_ids(path: str | os.PathLike) -> list[str]:
    """Image ids from a list of ``[folders/]Name_NNNN.jpg`` lines (CRLF or LF; blank lines ignored)."""
    out = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line:
            if not line.endswith(".jpg"):
                raise FormatError(f"{path}: line {line!r} is not an image file name (<Name>_NNNN.jpg)")
            out.append(PurePosixPath(line).stem)
    return out


def read_gender(female: str | os.PathLike, male: str | os.PathLike) -> dict[str, str]:
    """{image id: "female" | "male"} from the AFIF4 lists; ids in both lists map to "unknown"."""
    f, m = set(_image_ids(female)), set(_image_ids(male))
    out = {i: "female" for i in f - m}
    out.update({i: "male" for i in m - f})
    out.update({i: UNKNOWN for i in f & m})
    return out


def read_dfi_attribute(npz: str | os.PathLike, filelist: str | os.PathLike, attribute: str = "Black") -> dict[str, bool]:
    """{image id: bool} for one DFI attribute; images without a row are absent (i.e. unknown)."""
    with np.load(npz, allow_pickle=False) as d:
        names = [a.decode() if isinstance(a, bytes) else str(a) for a in d["attrname"]]
        data = d["data"]
    if attribute not in names:
        raise FormatError(f"{npz} has no attribute {attribute!r}; it has {names[:5]}...")
    ids = _image_ids(filelist)
    if data.shape[0] != len(ids):
        raise FormatError(f"{npz} has {data.shape[0]} rows but {filelist} lists {len(ids)} images")
    col = data[:, names.index(attribute)].astype(bool)
    return dict(zip(ids, col.tolist()))


def label_table(
    image_ids: Iterable[str],
    persons: Iterable[str],
    gender: Mapping[str, str] | None = None,
    black: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """One row per image: image_id, person, gender (female/male/unknown), black (true/false/unknown)."""
    gender, black = gender or {}, black or {}
    ids = list(image_ids)

    def b(i):
        v = black.get(i)
        return UNKNOWN if v is None else ("true" if v else "false")

    return pd.DataFrame(
        {
            "image_id": ids,
            "person": list(persons),
            "gender": [gender.get(i, UNKNOWN) for i in ids],
            "black": [b(i) for i in ids],
        }
    )

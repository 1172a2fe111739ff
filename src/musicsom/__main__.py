"""``python -m musicsom``: the ``musicsom`` command (list the pipeline's stages, run one).

The same entry point as the console script (``musicsom.pipeline.cli:main``): ``python -m musicsom
list``, ``python -m musicsom run STAGE --help``. ``--help``, ``--version`` and ``list`` work on a
bare install (numpy and scipy); running a stage needs the ``pipeline`` extra.
"""

from __future__ import annotations

import sys

from musicsom.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())

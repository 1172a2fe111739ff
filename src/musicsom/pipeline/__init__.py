"""The pipeline stages: one command-line module per Snakemake rule, grouped by experiment.

``python -m musicsom.pipeline.<experiment>.<stage> --help`` documents each stage. A stage is a thin
layer: it reads files, calls the library (``musicsom.som``, ``inversion``, ``music``, ...) and the
experiment logic (``musicsom.experiments``), and writes files. A stage never imports another stage;
helpers shared by an experiment's stages live in its ``_common`` module, those shared by every
experiment in ``musicsom.pipeline._io`` (files), ``_claims`` (checks files), ``_config`` (config
checks) and ``_code`` (the import graph behind each rule's code inputs).
"""

"""The pipeline stages: one command-line module per Snakemake rule, grouped by experiment.

``python -m musicsom.pipeline.<experiment>.<stage> --help`` documents each stage. A stage is a thin
layer: it reads files, calls the library (``musicsom.som``, ``inversion``, ``music``, ...) and the
experiment logic (``musicsom.experiments``), and writes files. A stage is a module with a ``__main__``
guard, and never imports another stage. What stages share lives in modules without one, named for what
they hold:

- ``files`` (reading and writing every kind of output, atomically), ``sections`` (a config section as a
  stage option, validated into its value object), ``check_records`` (checks files), ``config_check``
  (the configuration checked before any job), ``import_graph`` (the import graph behind each rule's code
  inputs), ``resource_table`` (threads, memory and time of each rule);
- ``datasets``: the registry of the public data files, their verified fetch and their readers;
- per experiment: ``mnist.context`` (the inputs of the trajectory stages), ``faces.decoding`` (the
  autoencoder, decoded faces and strips), ``kmeans.arms``, ``robustness.blocks`` (the study's tables).

Each experiment's folder also holds its stage of the robustness study (``gmm.robustness``,
``mnist.robustness``, ...); ``robustness.collect`` gathers them.
"""

"""The paper's experiments as pure logic: no file I/O, no plotting.

- :mod:`~musicsom.experiments.gmm`: the Gaussian-mixture experiments (inversion vs m, noise bound, geometry,
  informed vs cluster trajectories);
- :mod:`~musicsom.experiments.mnist`: starts, targets, MUSIC vs linear vs VAE paths and their metrics;
- :mod:`~musicsom.experiments.faces`: person splits, labelled clusters, free evolution, face metrics;
- :mod:`~musicsom.experiments.face_id`: dlib face detection and descriptors (identity drift);
- :mod:`~musicsom.experiments.models`: the torch instruments (MNIST classifier and VAE, faces autoencoder);
- :mod:`~musicsom.experiments.claims`: one module per claim of the paper, each turning measured numbers
  into checks and a verdict (``claims.claim1`` … ``claims.claim9``).

This layer imports the library (``musicsom.som``, ``inversion``, ``music``, ...) and never the pipeline
(``musicsom.pipeline``), which reads and writes the files around it. The method behind each function is
written up in ``docs/METHOD.md``.
"""

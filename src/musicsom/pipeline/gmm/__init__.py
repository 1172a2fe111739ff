"""Stages of the Gaussian-mixture experiments (paper §5.2): Figs 1, 2, 3, 5, 6, Table 1, claims 1-3."""

"""Stages of the MNIST experiments (paper §5.3): Figs 7-10, 16-20, Tables 2 and 4, claims 1 and 4-7."""

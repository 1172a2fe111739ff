"""Stages of the sensitivity study: every check of claims 1 and 3-9 with one setting the paper leaves open moved
at a time around the default (one job per block and seed: the experiments' ``robustness*`` stages), then the
outcomes, the sensitivity table, the figures and the summary the report reads (``collect``)."""

"""Stages of the robustness study: every check of claims 3-9 over the settings the paper does not state
(one job per experiment and seed, a whole grid block at once), then the collected table, figures and
summary the report reads."""

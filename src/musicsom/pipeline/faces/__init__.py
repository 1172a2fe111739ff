"""Stages of the face experiments on LFW (paper §5.4, S7): Figs 11-15, Table 3, claim 8."""

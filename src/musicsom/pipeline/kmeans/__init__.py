"""Stages of the k-means control (beyond the paper): Table 5, Fig 21, claim 9."""

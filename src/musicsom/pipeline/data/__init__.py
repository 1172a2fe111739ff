"""Stages of the data layer: fetch and verify MNIST and LFW, build the arrays the experiments read."""

"""Stages of the reproduction report: the claim-by-claim verdicts in results/REPORT.md."""

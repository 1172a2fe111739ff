"""What the two MNIST stages that train a torch model once share (``mnist.classifier``, ``mnist.vae``): their options.

Both train with the first of the config's seeds, on the rule's threads and on the config's ``device``,
and write a checkpoint and a JSON summary.
"""

from __future__ import annotations


def add_training_args(p, summary: str) -> None:
    """``--seed``, ``--threads``, ``--device`` (config ``device``), ``--model`` and ``--summary`` (``summary``: what it holds)."""
    p.add_argument("--seed", type=int, required=True, help="seed of the initialisation and batches (the first of the config's seeds)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (the rule's threads)")
    p.add_argument("--device", required=True,
                   help="config device: where torch trains: cpu, cuda (cuda:N) or auto (CUDA if available, else CPU)")
    p.add_argument("--model", required=True, help="the checkpoint to write (.pt)")
    p.add_argument("--summary", required=True, help=f"JSON summary to write ({summary})")

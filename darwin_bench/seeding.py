"""Seeds derived from a run seed and content, never from scheduling (neat-python's lesson)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import torch

#: Seed of every task's fixed data split and training order: the split is part of the task's
#: definition (and of its data hash), never a run's seed.
SPLIT_SEED = 0


def derive_seed(*parts: object) -> int:
    """Return a seed in ``[0, 2**31 - 1)`` determined only by ``parts``.

    Example: ``derive_seed(run_seed, architecture.hash)`` gives every candidate of a run its own
    training seed, identical whichever worker or order evaluates it.
    """
    text = "|".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") % (2**31 - 1)


@contextmanager
def torch_determinism(seed: int, threads: int = 1) -> Iterator[None]:
    """Seed torch's CPU generator and pin its thread count for the block, then restore both.

    A fixed thread count keeps floating-point reductions in the same order, so a training run
    with the same seed gives bit-identical weights on the same machine.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(previous)

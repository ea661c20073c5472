"""Torch's thread count while the agents' small torch policies run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads, then restore the previous setting.

    The agents' policies are small (a 64x64 MLP over a few thousand rows; SB3's orthogonal init of
    64x64 matrices): one thread is several times faster than two on this project's 2-core
    machines, and far faster when the other core is busy (torch's spinning workers contend). It
    also fixes the float results: with more threads, reductions (and the QR of the orthogonal
    init) may differ in the last bits.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

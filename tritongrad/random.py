"""The default random generator: a Philox key and a counter offset.

Every random kernel takes ``(seed, offset)`` and draws Philox4x32-10 streams
from counter ``offset + element index``; after each launch the offset advances
past the numbers consumed, so consecutive draws never overlap and
``manual_seed`` makes a program reproducible. This mirrors torch's
philox_seed/offset design, not its values: tritongrad's random numbers differ
from torch's for the same seed.
"""

from __future__ import annotations

import threading

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "philox_seed_and_offset"]

_DEFAULT_SEED = 67280421310721
_lock = threading.Lock()
_seed = _DEFAULT_SEED
_offset = 0


def manual_seed(seed: int) -> None:
    """Sets the seed of tritongrad's generator and resets its counter."""
    global _seed, _offset
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"manual_seed expected a value in [-2**63, 2**64), got {seed}")
    with _lock:
        _seed = seed % (2**64)
        _offset = 0


def seed() -> int:
    """Seeds the generator from the OS's entropy and returns the seed."""
    import os

    new_seed = int.from_bytes(os.urandom(8), "little") >> 1
    manual_seed(new_seed)
    return new_seed


def initial_seed() -> int:
    """The seed last set with ``manual_seed`` (or the default)."""
    return _seed


def get_rng_state() -> tuple[int, int]:
    """(seed, offset): enough to replay the generator."""
    return _seed, _offset


def set_rng_state(state: tuple[int, int]) -> None:
    """Restores a state from ``get_rng_state``."""
    global _seed, _offset
    with _lock:
        _seed, _offset = int(state[0]), int(state[1])


def philox_seed_and_offset(count: int) -> tuple[int, int]:
    """Reserves ``count`` Philox counters; returns the (seed, offset) a kernel should use.

    Offsets advance in multiples of 4 because one Philox call yields four 32-bit numbers.
    """
    global _offset
    with _lock:
        start = _offset
        _offset += (int(count) + 3) // 4 * 4
    return _seed, start

"""tritongrad.multiprocessing.spawn is torch's: fn(rank, *args) in fresh processes, writing into a
tensor in shared memory that the parent then reads; share_memory_() on a view moves the whole
storage, as torch's. Each spawned process imports tritongrad anew (seconds): two spawns only."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.multiprocessing as tmp


def _write_rank(rank: int, shared) -> None:
    """Each process writes rank + 1 (and its square) into its own slot, by tritongrad's kernels."""
    shared[rank] = float(rank + 1)
    shared[rank + 2] = shared[rank] * shared[rank]


def _fail(rank: int) -> None:
    raise ValueError(f"rank {rank} fails on purpose")


def test_spawn_two_processes_write_into_shared_memory():
    shared = tritongrad.zeros(4)
    view = shared[1:]  # torch's share_memory_ on a view moves the whole storage: `shared` goes too
    view.share_memory_()
    assert shared.is_shared() and view.is_shared()
    context = tmp.spawn(_write_rank, args=(shared,), nprocs=2, join=True)
    assert context is None  # (join=True: torch returns nothing once every process exited cleanly)
    assert shared.tolist() == [1.0, 2.0, 1.0, 4.0], shared.tolist()
    assert view.tolist() == [2.0, 1.0, 4.0]


def test_an_exception_in_a_spawned_process_reaches_the_parent_as_torchs():
    assert tmp.ProcessRaisedException is torch.multiprocessing.ProcessRaisedException
    with pytest.raises(tmp.ProcessRaisedException, match="rank 0 fails on purpose"):
        tmp.spawn(_fail, nprocs=1)


def test_spawn_names_are_torchs():
    for name in ("spawn", "start_processes", "ProcessContext", "ProcessExitedException", "SpawnContext"):
        assert getattr(tmp, name) is getattr(torch.multiprocessing, name), name


def _view_sharing(lib):
    """share_memory_ on a view: the base, the view and a second view all end up shared and still
    alias one another."""
    base = lib.arange(6.0)
    view, other = base[2:], base[:3]
    returned = view.share_memory_()
    view[0] = 10.0
    return [returned is view, base.is_shared(), view.is_shared(), other.is_shared(), base.tolist(), other.tolist()]


def test_share_memory_of_a_view_moves_the_whole_storage_as_torch():
    assert _view_sharing(tritongrad) == _view_sharing(torch)

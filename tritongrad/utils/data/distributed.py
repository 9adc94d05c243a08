"""Sharding a dataset across the processes of data-parallel training.

``DistributedSampler`` gives each process (rank) a disjoint, equally long slice of
the sample indices, reshuffled every epoch with a seed that all ranks share, so
together the ranks cover the dataset once per epoch. It follows
``torch.utils.data.DistributedSampler``: the shuffle is ``randperm`` with a
generator seeded ``seed + epoch``; when the dataset does not divide evenly the
first indices are repeated to pad it (or, with ``drop_last``, the tail is
dropped), and rank ``r`` takes every ``num_replicas``-th index starting at ``r``.

Example::

    >>> sampler = DistributedSampler(dataset, num_replicas=2, rank=0, seed=0)
    >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    >>> for epoch in range(epochs):
    ...     sampler.set_epoch(epoch)
    ...     for batch in loader: ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import TypeVar

from tritongrad import distributed
from tritongrad.ops.random import randperm
from tritongrad.random import Generator
from tritongrad.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]

_T_co = TypeVar("_T_co", covariant=True)


class DistributedSampler(Sampler[_T_co]):
    """The indices of one rank's shard of ``dataset`` (see the module docstring).

    Args:
        dataset: the dataset (only its length is used); a plain int (the number of samples) is
            accepted too.
        num_replicas: the number of ranks (default: the process group's world size).
        rank: this process's rank (default: its rank in the process group).
        shuffle: reshuffle the order every epoch (``set_epoch``).
        seed: the shuffle seed; must be the same on every rank.
        drop_last: drop the tail instead of padding when the size does not divide evenly.
    """

    def __init__(
        self,
        dataset: Sized | int,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        # torch's order and errors: the process group's ValueError when it is needed and not initialized, then
        # the rank check (which also refuses num_replicas < 1: no rank fits), then the dataset's length.
        if num_replicas is None:
            num_replicas = distributed.get_world_size()
        if rank is None:
            rank = distributed.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        size = dataset if isinstance(dataset, int) else len(dataset)
        if size < 0:
            raise ValueError(f"DistributedSampler: the dataset size must be non-negative, got {size}")
        self.dataset = dataset
        self.dataset_size = size
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0
        if drop_last:
            self.num_samples = size // num_replicas
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch's shuffle; call it at the start of every epoch, on every rank."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            generator = Generator().manual_seed(self.seed + self.epoch)
            order = randperm(self.dataset_size, generator=generator).tolist()
        else:
            order = list(range(self.dataset_size))
        if self.total_size > len(order) and order:
            # Pad by repeating from the start (as many times as needed for tiny datasets).
            repeats = math.ceil((self.total_size - len(order)) / len(order))
            order += (order * repeats)[: self.total_size - len(order)]
        order = order[: self.total_size]
        return iter(order[self.rank : self.total_size : self.num_replicas])

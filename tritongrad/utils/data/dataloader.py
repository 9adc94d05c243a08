"""``DataLoader`` with torch.utils.data's arguments, checks, attributes and iteration order.

Loading runs in the calling process: ``num_workers > 0`` is accepted and loads in-process too (one
"worker": ``worker_init_fn(0)`` runs at the start of each pass, ``get_worker_info()`` is None), and
``pin_memory`` is accepted and does nothing (batches are made on tritongrad's device already). The
arguments are still checked as torch checks them (``multiprocessing_context``, ``prefetch_factor``,
``timeout``) and torch's warnings are given (pinning without an accelerator, more workers than CPUs,
an IterableDataset that yields more than its reported length).

As torch's, ``iter(loader)`` is an iterator object with a length (the number of batches), and a loader
over an ``IterableDataset`` samples from an ``_InfiniteConstantSampler`` (batched by a ``BatchSampler``).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import torch.utils.data

from tritongrad import accelerator
from tritongrad.random import Generator
from tritongrad.utils.data._utils.collate import default_collate, default_convert
from tritongrad.utils.data._utils.worker import get_worker_info
from tritongrad.utils.data.dataset import Dataset, IterableDataset
from tritongrad.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

_T_co = TypeVar("_T_co", covariant=True)

# Streams: tritongrad's IterableDataset, or torch's (a dataset class written against real torch).
_STREAM_TYPES = (IterableDataset, torch.utils.data.IterableDataset)
# Attributes torch refuses to change once a DataLoader is built (its iterators depend on them).
_FROZEN_ATTRIBUTES = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class _DatasetKind:
    """torch's tags for the two dataset kinds (``loader._dataset_kind``)."""

    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler):
    """The sampler of a loader over an IterableDataset: None forever (the stream decides when to stop)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _cpu_count() -> int | None:
    """The CPUs this process may run on (the affinity mask where there is one), as torch counts them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader(Generic[_T_co]):
    """Iterates over ``dataset`` in batches.

    Args:
        dataset: a map-style ``Dataset`` (anything with ``__getitem__`` and ``__len__``) or an
            ``IterableDataset``.
        batch_size: samples per batch (None: no batching, samples are yielded one by one).
        shuffle: a new random order every pass (a ``RandomSampler`` with ``generator``).
        sampler: the order of indices (exclusive with ``shuffle``).
        batch_sampler: yields lists of indices (exclusive with batch_size, shuffle, sampler, drop_last).
        num_workers: accepted; loading always runs in this process (see the module docstring).
        collate_fn: list of samples -> batch (default: ``default_collate``).
        pin_memory: accepted; does nothing.
        drop_last: drop the last, incomplete batch.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers,
        pin_memory_device, in_order: accepted with torch's checks.
        generator: the ``tritongrad.Generator`` that shuffling draws from.

    Example::

        >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, drop_last=True)
        >>> len(loader)   # len(x) // 32
    """

    def __init__(
        self,
        dataset: Dataset | Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.num_workers = num_workers  # before multiprocessing_context, whose check reads it
        self.multiprocessing_context = multiprocessing_context
        iterable = isinstance(dataset, _STREAM_TYPES)
        self._dataset_kind = _DatasetKind.Iterable if iterable else _DatasetKind.Map
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, but got {name}={value}"
                    )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        # len(dataset) of an IterableDataset once len(loader) asked for it: iterating past it warns (torch's NOTE)
        self._IterableDataset_len_called: int | None = None
        self._initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self) -> Any:
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        """torch's checks; a start method's name becomes its context object (no process is started here)."""
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                    f"but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                start_methods = multiprocessing.get_all_start_methods()
                if context not in start_methods:
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in {start_methods!r}, "
                        f"but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string specifying the "
                    f"start method, but got multiprocessing_context={context}"
                )
        self._multiprocessing_context = context

    def check_worker_number_rationality(self) -> None:
        """torch's warning when more workers are asked for than this process has CPUs (the workers run
        in-process here, but the request is the same mistake)."""
        if not self.num_workers:
            return
        suggested = _cpu_count()
        if suggested is not None and self.num_workers <= suggested:
            return
        if suggested is None:
            suggestion = "DataLoader is not able to compute a suggested max number of worker in current system."
        else:
            checked = "" if hasattr(os, "sched_getaffinity") else " (`cpuset` is not taken into account)"
            suggestion = (
                f"Our suggested max number of worker in current system is {suggested}{checked}, which is smaller "
                "than what this DataLoader is going to create."
            )
        warnings.warn(
            f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} "
            "Please be aware that excessive worker creation might get DataLoader running slow or even freeze, "
            "lower the worker number to avoid potential slowness/freeze if necessary.",
            stacklevel=2,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_initialized", False) and name in _FROZEN_ATTRIBUTES:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Sampler | Iterable:
        """What one step of iteration draws: a list of indices when batching, one index when not."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _DataLoaderIter:
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # TypeError when the stream has no length, as torch's
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else -(-length // self.batch_size)
        return len(self._index_sampler)


class _DataLoaderIter:
    """One pass over a DataLoader (torch's ``_BaseDataLoaderIter``): ``next`` gives a batch, ``len``
    the number of batches, ``_num_yielded`` how many have been given."""

    def __init__(self, loader: DataLoader) -> None:
        if loader.num_workers == 0 and loader.timeout != 0:
            # torch's single-process iterator asserts this (workers are what a timeout is for)
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the device,"
                f"ignore pin_memory_device='{loader.pin_memory_device}'.",
                stacklevel=3,
            )
        if loader.pin_memory and not accelerator.is_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, "
                "then device pinned memory won't be used.",
                stacklevel=3,
            )
        if loader.num_workers > 0 and loader.prefetch_factor <= 0:
            # torch's multi-process iterator refuses it (0 passes the constructor's check)
            raise AssertionError("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
        if loader.num_workers > 0:
            loader.check_worker_number_rationality()
            if loader.worker_init_fn is not None:
                loader.worker_init_fn(0)
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._collate_fn = loader.collate_fn
        self._num_yielded = 0
        self._batches = self._fetch_stream() if self._dataset_kind == _DatasetKind.Iterable else self._fetch_indices()

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __next__(self) -> Any:
        data = next(self._batches)
        self._num_yielded += 1
        length = self._IterableDataset_len_called
        if self._dataset_kind == _DatasetKind.Iterable and length is not None and self._num_yielded > length:
            warnings.warn(
                f"Length of IterableDataset {self._dataset} was reported to be {length}"
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ",
                stacklevel=2,
            )
        return data

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", type(self).__name__)

    def _fetch_indices(self) -> Iterator:
        fetch_batch = getattr(self._dataset, "__getitems__", None)
        for index in self._index_sampler:
            if not self._auto_collation:
                yield self._collate_fn(self._dataset[index])
                continue
            samples = fetch_batch(index) if callable(fetch_batch) else [self._dataset[i] for i in index]
            yield self._collate_fn(samples)

    def _fetch_stream(self) -> Iterator:
        # the samplers only count here: the stream decides how many samples there are
        if not self._auto_collation:
            for sample in self._dataset:
                yield self._collate_fn(sample)
            return
        batch_size = self._index_sampler.batch_size
        batch: list = []
        for sample in self._dataset:
            batch.append(sample)
            if len(batch) == batch_size:
                yield self._collate_fn(batch)
                batch = []
        if batch and not self._drop_last:
            yield self._collate_fn(batch)

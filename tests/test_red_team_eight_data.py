"""The eighth red-team round's torch.utils.data findings (data items #3, #4, #6, #7-#20): collation
(the collate_fn_map registry, whole-batch number inference, numpy scalars, mapping and sequence
subclasses), the generic and abstract dataset bases, StackDataset, the DataLoader iterator and its
argument checks and warnings, each compared with torch: the value (a description of it that names
types, dtypes and attributes), or the exception type and message, and the warnings given."""

from __future__ import annotations

import collections
import importlib
import re
import warnings

import numpy as np
import pytest
import torch

import tritongrad


def _describe(value):
    """A library-independent picture of a result: tensors by dtype and values, containers by type name
    and contents (a defaultdict by its factory, a subclass by its attributes)."""
    if isinstance(value, (torch.Tensor, tritongrad.Tensor)):
        return ("tensor", str(value.dtype), tuple(value.shape), value.tolist())
    if isinstance(value, collections.abc.Mapping):
        extra = getattr(value, "default_factory", None), dict(getattr(value, "__dict__", {}))
        return (type(value).__name__, {key: _describe(item) for key, item in value.items()}, extra)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return (type(value).__name__, [_describe(item) for item in value], dict(getattr(value, "__dict__", {})))
    if isinstance(value, np.generic):
        return (type(value).__name__, value.item())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.tolist())
    return value


def _outcome(lib, case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("value", _describe(case(lib)))
        except Exception as error:  # noqa: BLE001 - torch's error is the oracle
            result = ("raises", type(error), str(error).strip().splitlines()[0] if str(error).strip() else "")
    # object addresses and module paths name the library, not the behaviour
    messages = sorted({re.sub(r" at 0x[0-9a-f]+", "", str(w.message)) for w in caught})
    return result, messages


def same(case, *, message: bool = True) -> None:
    """``case(torch)`` and ``case(tritongrad)`` give the same value, or raise the same exception type
    (with torch's message, unless ``message`` is False), and give the same warnings."""
    expected, expected_warnings = _outcome(torch, case)
    actual, actual_warnings = _outcome(tritongrad, case)
    if expected[0] == "raises" and not message:
        expected, actual = expected[:2], actual[:2]
    assert actual == expected
    assert actual_warnings == expected_warnings


class Config(dict):
    """A dict subclass whose constructor does not take a dict (data #3)."""

    def __init__(self, name, **values):
        super().__init__(**values)
        self.name = name


class Tagged(list):
    """A list subclass that carries an attribute (data #3)."""

    def __init__(self, items, tag="t"):
        super().__init__(items)
        self.tag = tag


# ----------------------------------------------------------------------------------------------
# data #3, #4, #7, #8, #20: default_collate / default_convert
# ----------------------------------------------------------------------------------------------

COLLATE_BATCHES = {
    # 3: mapping and sequence subclasses are copied and updated
    "dict subclass": lambda: [Config("n", x=1), Config("n", x=2)],
    "defaultdict": lambda: [collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)],
    "list subclass": lambda: [Tagged([1, 2.0]), Tagged([3, 4.0])],
    "OrderedDict": lambda: [collections.OrderedDict(b=1, a=2)] * 2,
    # 4: ints and bools infer over the whole batch
    "int then float": lambda: [1, 2.5],
    "bool then int": lambda: [True, 2],
    "bool then float": lambda: [True, 2.5],
    "bools": lambda: [True, False],
    "int then np.float64": lambda: [1, np.float64(2.5)],
    "dict int then float": lambda: [{"y": 1}, {"y": 2.5}],
    "int then complex": lambda: [1, 2j],
    "int then None": lambda: [1, None],
    "int then str": lambda: [1, "a"],
    "float then int": lambda: [1.5, 2],
    "ints": lambda: [1, 2, 3],
    # 8: numpy strings are strings; other numpy scalars by torch's table
    "np.str_": lambda: [np.str_("a"), np.str_("b")],
    "np.datetime64": lambda: [np.datetime64("2020-01-01")] * 2,
    "np.float32 then str": lambda: [np.float32(1), "a"],
    "np scalars": lambda: [np.float32(1.5), np.float32(2)],
    "np bool scalars": lambda: [np.bool_(True), np.bool_(False)],
    "structured array": lambda: [np.zeros(2, dtype=[("a", "f4")])] * 2,
    "str array": lambda: [np.array(["a"]), np.array(["b"])],
    "pairs with strings": lambda: [("a", 1), ("b", 2)],
    "unequal lists": lambda: [[1, 2], [3]],
}


@pytest.mark.parametrize("name", COLLATE_BATCHES)
def test_default_collate(name):
    same(lambda lib: lib.utils.data.default_collate(COLLATE_BATCHES[name]()))


CONVERT_INPUTS = {
    "dict subclass": lambda: Config("n", x=np.arange(2)),
    "defaultdict": lambda: collections.defaultdict(list, a=np.arange(2)),
    "list subclass": lambda: Tagged([np.arange(2), 1]),
    "np.float32": lambda: np.float32(1.5),
    "np.int64": lambda: np.int64(2),
    "np.bool_": lambda: np.bool_(True),
    "np.str_": lambda: np.str_("a"),
    "str array": lambda: np.array(["a", "b"]),
    "structured array": lambda: np.zeros(2, dtype=[("a", "f4")]),
    "np.datetime64": lambda: np.datetime64("2020-01-01"),
    "tuple of scalars": lambda: (np.float32(1.5), 2),
}


@pytest.mark.parametrize("name", CONVERT_INPUTS)
def test_default_convert(name):
    same(lambda lib: lib.utils.data.default_convert(CONVERT_INPUTS[name]()))


def test_unbatched_loader_converts_numpy_scalars():
    same(lambda lib: list(lib.utils.data.DataLoader([np.float32(1.5), np.int64(2)], batch_size=None)))


def test_loader_batches_a_float_after_an_int_target():
    same(lambda lib: list(lib.utils.data.DataLoader([{"y": 1}, {"y": 2.5}], batch_size=2)))


# ----------------------------------------------------------------------------------------------
# data #11: torch.utils.data._utils (collate registry, worker info)
# ----------------------------------------------------------------------------------------------


def _collate_module(lib):
    return importlib.import_module(f"{lib.__name__}.utils.data._utils.collate")


UTILS_CASES = {
    "collate with a map": lambda lib: _collate_module(lib).collate(
        [1, 2], collate_fn_map={int: lambda batch, collate_fn_map=None: sum(batch)}
    ),
    "collate without a map": lambda lib: _collate_module(lib).collate([[1, 2], [3, 4]]),
    "collate_tensor_fn": lambda lib: _collate_module(lib).collate_tensor_fn([lib.ones(2), lib.zeros(2)]),
    "err format": lambda lib: _collate_module(lib).default_collate_err_msg_format,
    "str pattern": lambda lib: _collate_module(lib).np_str_obj_array_pattern.pattern,
    "map types": lambda lib: sorted(str(key) for key in _collate_module(lib).default_collate_fn_map if key in (int,)),
    "worker info": lambda lib: importlib.import_module(f"{lib.__name__}.utils.data._utils.worker").get_worker_info(),
    "status interval": lambda lib: lib.utils.data._utils.MP_STATUS_CHECK_INTERVAL,
    "through the attribute": lambda lib: lib.utils.data._utils.collate.default_collate([1, 2]),
    "dataset kind": lambda lib: (lib.utils.data._DatasetKind.Map, lib.utils.data._DatasetKind.Iterable),
}


@pytest.mark.parametrize("name", UTILS_CASES)
def test_data_utils_modules(name):
    same(UTILS_CASES[name])


class Point:
    def __init__(self, x):
        self.x = x


def _collate_points(batch, *, collate_fn_map=None):
    return [point.x for point in batch]


def _collate_with_registered_type(lib):
    collate_fn_map = _collate_module(lib).default_collate_fn_map
    collate_fn_map[Point] = _collate_points
    try:
        return lib.utils.data.default_collate([(Point(1), 1.0), (Point(2), 2.0)])
    finally:
        del collate_fn_map[Point]


def test_registering_a_type_in_default_collate_fn_map_extends_default_collate():
    same(_collate_with_registered_type)
    same(lambda lib: lib.utils.data.default_collate([Point(1)]), message=False)  # unregistered again


# ----------------------------------------------------------------------------------------------
# data #6 (TensorDataset side), #20: TensorDataset's checks
# ----------------------------------------------------------------------------------------------

TENSOR_DATASETS = {
    "size mismatch": lambda lib: lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4)),
    "one tensor": lambda lib: len(lib.utils.data.TensorDataset(lib.ones(3, 2))),
    "0-d": lambda lib: lib.utils.data.TensorDataset(lib.tensor(1.0)),
    "then 0-d": lambda lib: lib.utils.data.TensorDataset(lib.ones(2), lib.tensor(1.0)),
}


@pytest.mark.parametrize("name", TENSOR_DATASETS)
def test_tensor_dataset_checks(name):
    same(lambda lib: type(TENSOR_DATASETS[name](lib)).__name__)


# ----------------------------------------------------------------------------------------------
# data #9, #12, #16, #17, #20: the dataset and sampler bases
# ----------------------------------------------------------------------------------------------


def _typed_map_dataset(lib):
    class Numbers(lib.utils.data.Dataset[int]):
        def __getitem__(self, index):
            return index

        def __len__(self):
            return 2

    return list(lib.utils.data.DataLoader(Numbers()))


def _typed_stream(lib):
    class Stream(lib.utils.data.IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    return list(lib.utils.data.DataLoader(Stream(), batch_size=2))


def _typed_sampler(lib):
    class Backwards(lib.utils.data.Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    return list(lib.utils.data.DataLoader([10, 20, 30], sampler=Backwards(3)))


def _sampler_with_super_init(lib):
    class Forwards(lib.utils.data.Sampler):
        def __init__(self, data):
            super().__init__(data)

    return Forwards([1, 2])


def _iterable_without_iter(lib):
    class Empty(lib.utils.data.IterableDataset):
        pass

    return Empty()


def _chain_of_a_list(lib):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(2))

        def __len__(self):
            return 2

    return len(lib.utils.data.ChainDataset([Stream(), [1, 2]]))


BASE_CASES = {
    "Dataset[int]": _typed_map_dataset,
    "IterableDataset[int]": _typed_stream,
    "Sampler[int]": _typed_sampler,
    "generic aliases": lambda lib: [
        alias.__origin__.__name__
        for alias in (
            lib.utils.data.DataLoader[int],
            lib.utils.data.Subset[int],
            lib.utils.data.DistributedSampler[int],
            lib.utils.data.ConcatDataset[int],
        )
    ],
    "Sampler(data)": lambda lib: lib.utils.data.Sampler([1, 2]),
    "Sampler subclass super().__init__(data)": _sampler_with_super_init,
    "IterableDataset()": lambda lib: lib.utils.data.IterableDataset(),
    "IterableDataset subclass without __iter__": _iterable_without_iter,
    "ChainDataset len of a list": _chain_of_a_list,
    "cummulative_sizes": lambda lib: lib.utils.data.ConcatDataset([[1], [2, 3]]).cummulative_sizes,
}


@pytest.mark.parametrize("name", BASE_CASES)
def test_dataset_and_sampler_bases(name):
    same(BASE_CASES[name])


# ----------------------------------------------------------------------------------------------
# data #10: StackDataset
# ----------------------------------------------------------------------------------------------

STACK_CASES = {
    "tuple": lambda lib: (len(s := lib.utils.data.StackDataset(lib.arange(3), lib.arange(3) * 2)), s[1]),
    "dict": lambda lib: lib.utils.data.StackDataset(a=lib.arange(3), b=[5, 6, 7])[1],
    "module path": lambda lib: lib.utils.data.dataset.StackDataset(lib.arange(2))[0],
    "size mismatch": lambda lib: lib.utils.data.StackDataset(lib.arange(3), [1]),
    "none": lambda lib: lib.utils.data.StackDataset(),
    "both": lambda lib: lib.utils.data.StackDataset(lib.arange(3), b=lib.arange(3)),
    "loader tuple": lambda lib: list(
        lib.utils.data.DataLoader(lib.utils.data.StackDataset(lib.arange(3), [5, 6, 7]), batch_size=2)
    ),
    "loader dict over a TensorDataset": lambda lib: list(
        lib.utils.data.DataLoader(
            lib.utils.data.StackDataset(x=lib.utils.data.TensorDataset(lib.arange(3.0)), y=[5, 6, 7]), batch_size=2
        )
    ),
    "getitems tuple": lambda lib: lib.utils.data.StackDataset(
        lib.utils.data.Subset(lib.arange(4), [3, 2, 1]), [5, 6, 7]
    ).__getitems__([0, 2]),
    "in __all__": lambda lib: "StackDataset" in lib.utils.data.__all__,
}


@pytest.mark.parametrize("name", STACK_CASES)
def test_stack_dataset(name):
    same(STACK_CASES[name])


# ----------------------------------------------------------------------------------------------
# data #13, #14, #18: the loader's iterator and its samplers over an IterableDataset
# ----------------------------------------------------------------------------------------------


def _stream_class(lib, count: int, length: int | None):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(count))

        def __repr__(self):  # the extra-samples warning names the dataset
            return "Stream"

    if length is not None:
        Stream.__len__ = lambda self: length
    return Stream()


def _iterator_progress(lib, **loader_arguments):
    iterator = iter(lib.utils.data.DataLoader(list(range(5)), **loader_arguments))
    length = len(iterator)
    first = next(iterator)
    return length, iterator._num_yielded, first, list(iterator), iterator._num_yielded


def _stream_loader_attributes(lib, batch_size):
    loader = lib.utils.data.DataLoader(_stream_class(lib, 5, None), batch_size=batch_size)
    return (
        type(loader.sampler).__name__,
        type(loader.batch_sampler).__name__,
        type(loader._index_sampler).__name__,
        loader._dataset_kind,
        loader._auto_collation,
        list(loader),
    )


def _overlong_stream(lib, batch_size):
    loader = lib.utils.data.DataLoader(_stream_class(lib, 5, 2), batch_size=batch_size)
    return len(loader), list(loader), list(loader)


ITERATOR_CASES = {
    "len(iter) batched": lambda lib: _iterator_progress(lib, batch_size=2),
    "len(iter) drop_last": lambda lib: _iterator_progress(lib, batch_size=2, drop_last=True),
    "len(iter) unbatched": lambda lib: _iterator_progress(lib, batch_size=None),
    "len(iter) of a stream without length": lambda lib: len(
        iter(lib.utils.data.DataLoader(_stream_class(lib, 5, None), batch_size=2))
    ),
    "map-style attributes": lambda lib: (
        (loader := lib.utils.data.DataLoader([1, 2], batch_size=None))._dataset_kind,
        type(loader._index_sampler).__name__,
    ),
    "stream samplers batched": lambda lib: _stream_loader_attributes(lib, 2),
    "stream samplers unbatched": lambda lib: _stream_loader_attributes(lib, None),
    "overlong stream batch 1": lambda lib: _overlong_stream(lib, 1),
    "overlong stream batch 2": lambda lib: _overlong_stream(lib, 2),
    "stream without len() asked": lambda lib: list(lib.utils.data.DataLoader(_stream_class(lib, 5, 2))),
}


@pytest.mark.parametrize("name", ITERATOR_CASES)
def test_loader_iterator(name):
    same(ITERATOR_CASES[name])


# ----------------------------------------------------------------------------------------------
# data #15, #19: DataLoader's argument checks and warnings
# ----------------------------------------------------------------------------------------------

LOADER_ARGUMENTS = {
    "context without workers": dict(multiprocessing_context="spawn"),
    "bogus context": dict(num_workers=1, multiprocessing_context="bogus"),
    "context of a wrong type": dict(num_workers=1, multiprocessing_context=3),
    "negative prefetch": dict(num_workers=1, prefetch_factor=-1),
    "zero prefetch": dict(num_workers=1, prefetch_factor=0),
    "timeout without workers": dict(timeout=5),
    "timeout with workers": dict(num_workers=1, timeout=5),
    "pin_memory": dict(pin_memory=True),
    "pin_memory_device": dict(pin_memory=True, pin_memory_device="cuda"),
}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # torch's half-built iterator's __del__
@pytest.mark.parametrize("name", LOADER_ARGUMENTS)
def test_loader_arguments(name):
    same(lambda lib: list(lib.utils.data.DataLoader([lib.ones(2)], **LOADER_ARGUMENTS[name])))


LOADER_ATTRIBUTES = {
    "spawn context": lambda lib: (
        type(
            lib.utils.data.DataLoader([1], num_workers=1, multiprocessing_context="spawn").multiprocessing_context
        ).__name__
    ),
    "context object": lambda lib: (
        type(
            lib.utils.data.DataLoader(
                [1], num_workers=1, multiprocessing_context=__import__("multiprocessing").get_context("fork")
            ).multiprocessing_context
        ).__name__
    ),
    "default prefetch with workers": lambda lib: lib.utils.data.DataLoader([1], num_workers=1).prefetch_factor,
    "default prefetch without workers": lambda lib: lib.utils.data.DataLoader([1]).prefetch_factor,
    # the warning comes at construction too: built only, so that torch starts no 64 processes
    "many workers": lambda lib: lib.utils.data.DataLoader([1], num_workers=64).num_workers,
}


@pytest.mark.parametrize("name", LOADER_ATTRIBUTES)
def test_loader_attributes(name):
    same(LOADER_ATTRIBUTES[name])


# ----------------------------------------------------------------------------------------------
# data #20: DistributedSampler's errors
# ----------------------------------------------------------------------------------------------

DISTRIBUTED_CASES = {
    "bad rank": dict(num_replicas=3, rank=3),
    "negative rank": dict(num_replicas=3, rank=-1),
    "no replicas": dict(num_replicas=0, rank=0),
    "no process group": dict(),
    "no process group for the rank": dict(num_replicas=2),
    "no process group for the replicas": dict(rank=0),
}


@pytest.mark.parametrize("name", DISTRIBUTED_CASES)
def test_distributed_sampler_errors(name):
    same(lambda lib: list(lib.utils.data.DistributedSampler([1, 2, 3], **DISTRIBUTED_CASES[name])))

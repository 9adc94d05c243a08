"""tritongrad.utils.data against torch.utils.data on the same datasets: batch shapes and contents,
sequential orders, drop_last lengths, collate structures, samplers, random_split, reproducible
shuffles from tritongrad's generators (orders differ from torch's), and torch's errors."""

from __future__ import annotations

import collections
import math
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data

import tritongrad
import tritongrad.utils.data as data
from tests.utils import from_torch, to_torch

Point = collections.namedtuple("Point", "x y")


def _as_torch(value):
    """A collated batch with tritongrad tensors replaced by torch ones (structure kept)."""
    if isinstance(value, tritongrad.Tensor):
        return to_torch(value)
    if isinstance(value, dict):
        return {key: _as_torch(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_as_torch(item) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_as_torch(item) for item in value)
    return value


def _assert_same_batch(ours, theirs, where: str) -> None:
    """Same structure (types, keys, lengths), same tensors (shape, dtype, values)."""
    ours = _as_torch(ours)
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} vs torch's {type(theirs).__name__}"
    if isinstance(theirs, torch.Tensor):
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype), (
            f"{where}: {ours.shape} {ours.dtype} vs torch's {theirs.shape} {theirs.dtype}"
        )
        assert torch.equal(ours, theirs), f"{where}: values differ"
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{where}: keys"
        for key in theirs:
            _assert_same_batch(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{where}: lengths"
        for i, (mine, reference) in enumerate(zip(ours, theirs)):
            _assert_same_batch(mine, reference, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} vs torch's {theirs!r}"


def _tensor_pair(n: int):
    features = torch.randn(n, 3, 2)
    labels = torch.randint(0, 10, (n,))
    return (
        data.TensorDataset(from_torch(features), from_torch(labels)),
        torch_data.TensorDataset(features, labels),
    )


# ---------------------------------------------------------------------------------------------
# Import paths
# ---------------------------------------------------------------------------------------------


def test_utils_data_is_a_package_and_an_attribute():
    import tritongrad.utils.data as imported

    assert tritongrad.utils.data is imported is data
    for name in ("DataLoader", "TensorDataset", "Dataset", "random_split", "default_collate", "DistributedSampler"):
        assert hasattr(tritongrad.utils.data, name), name
    assert tritongrad.data.DistributedSampler is data.DistributedSampler  # the old path is an alias
    assert data.distributed.DistributedSampler is data.DistributedSampler


def test_torch_from_import_loader_collates_tritongrad_tensors():
    # `import tritongrad as torch; from torch.utils.data import DataLoader` binds torch's own loader:
    # it must still batch tritongrad tensors (with tritongrad's stack).
    features = tritongrad.randn(7, 3)
    loader = torch_data.DataLoader(torch_data.TensorDataset(features, tritongrad.randn(7)), batch_size=3)
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(3, 3), (3, 3), (1, 3)]
    assert all(isinstance(x, tritongrad.Tensor) and isinstance(y, tritongrad.Tensor) for x, y in batches)
    assert torch.equal(to_torch(batches[1][0]), to_torch(features)[3:6])


# ---------------------------------------------------------------------------------------------
# DataLoader: batches and lengths against torch
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 16])  # empty, single, prime, divisible
@pytest.mark.parametrize("batch_size", [1, 3, 16, 20])  # one, odd, == n, > n
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(n, batch_size, drop_last):
    ours_set, theirs_set = _tensor_pair(n)
    ours = data.DataLoader(ours_set, batch_size=batch_size, drop_last=drop_last)
    theirs = torch_data.DataLoader(theirs_set, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    ours_batches, theirs_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(theirs_batches) == len(ours)
    for i, (mine, reference) in enumerate(zip(ours_batches, theirs_batches)):
        _assert_same_batch(mine, reference, f"batch {i}")


def test_batch_size_none_yields_samples_like_torch():
    ours_set, theirs_set = _tensor_pair(4)
    for mine, reference in zip(
        data.DataLoader(ours_set, batch_size=None), torch_data.DataLoader(theirs_set, batch_size=None)
    ):
        _assert_same_batch(mine, reference, "sample")
    assert list(data.DataLoader(range(5), batch_size=None)) == list(torch_data.DataLoader(range(5), batch_size=None))
    assert len(data.DataLoader(range(5), batch_size=None)) == 5


class _Squares(data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, index):
        return {"x": np.full(2, index, dtype=np.float32), "y": index * index, "name": f"s{index}"}


class _TorchSquares(torch_data.Dataset):
    __len__ = _Squares.__len__
    __getitem__ = _Squares.__getitem__


def test_dict_samples_with_numpy_numbers_and_strings_match_torch():
    ours = list(data.DataLoader(_Squares(), batch_size=4))
    theirs = list(torch_data.DataLoader(_TorchSquares(), batch_size=4))
    assert len(ours) == len(theirs) == 2
    for i, (mine, reference) in enumerate(zip(ours, theirs)):
        _assert_same_batch(mine, reference, f"batch {i}")


@pytest.mark.parametrize(
    "samples",
    [
        [(1, 2.5), (3, 4.5)],  # tuples of ints and floats -> a list of int64 / float64 tensors
        [[1, 2], [3, 4], [5, 6]],  # lists transpose too
        [True, False, True],  # bools -> bool tensor
        [Point(1, 2.0), Point(3, 4.0)],  # namedtuples keep their type
        [{"a": (1, 2), "b": [0.5]}, {"a": (3, 4), "b": [1.5]}],  # nested
        [np.float32(1.5), np.float32(2.5)],  # numpy scalars keep their dtype
        [np.int32(3), np.int32(4)],
        [np.arange(6).reshape(2, 3), np.ones((2, 3), dtype=np.int64)],  # numpy arrays are stacked
        ["a", "b"],  # strings stay a list
    ],
)
def test_default_collate_structures_match_torch(samples):
    _assert_same_batch(data.default_collate(samples), torch_data.default_collate(samples), "collate")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.bool])
def test_default_collate_stacks_tensors_of_every_dtype(dtype):
    samples = [torch.randn(2, 3).to(dtype) for _ in range(5)]
    samples[1] = samples[1].t().contiguous().t()  # a non-contiguous sample
    theirs = torch_data.default_collate(samples)
    ours = data.default_collate([from_torch(s) for s in samples])
    _assert_same_batch(ours, theirs, f"{dtype}")


@pytest.mark.parametrize(
    "samples, error",
    [
        ([[1, 2], [3]], RuntimeError),  # ragged lists
        ([object(), object()], TypeError),  # nothing collate knows
    ],
)
def test_default_collate_errors_match_torch(samples, error):
    with pytest.raises(error):
        torch_data.default_collate(samples)
    with pytest.raises(error):
        data.default_collate(samples)


def test_default_collate_rejects_tensors_of_different_shapes():
    with pytest.raises(RuntimeError):
        torch_data.default_collate([torch.ones(2), torch.ones(3)])
    with pytest.raises(RuntimeError):
        data.default_collate([tritongrad.ones(2), tritongrad.ones(3)])


def test_custom_collate_fn_and_sampler_and_batch_sampler():
    dataset = list(range(10))
    batches = list(data.DataLoader(dataset, batch_size=3, collate_fn=lambda batch: sum(batch)))
    assert batches == [3, 12, 21, 9]
    order = [9, 0, 4, 4]
    ours = [b.tolist() for b in data.DataLoader(dataset, batch_size=2, sampler=order)]
    theirs = [b.tolist() for b in torch_data.DataLoader(dataset, batch_size=2, sampler=order)]
    assert ours == theirs == [[9, 0], [4, 4]]
    groups = [[1, 2, 3], [0], [7, 7]]
    ours = [b.tolist() for b in data.DataLoader(dataset, batch_sampler=groups)]
    assert ours == [b.tolist() for b in torch_data.DataLoader(dataset, batch_sampler=groups)]
    assert len(data.DataLoader(dataset, batch_sampler=groups)) == 3


def test_num_workers_and_pin_memory_are_accepted_and_load_in_process():
    dataset, _ = _tensor_pair(5)
    seen = []
    loader = data.DataLoader(dataset, batch_size=2, num_workers=2, pin_memory=True, worker_init_fn=seen.append)
    assert [tuple(x.shape) for x, _ in loader] == [(2, 3, 2), (2, 3, 2), (1, 3, 2)]
    assert seen == [0]
    assert data.get_worker_info() is None


# ---------------------------------------------------------------------------------------------
# Shuffling: a permutation per epoch, reproducible from tritongrad's generators
# ---------------------------------------------------------------------------------------------


def _epoch_order(loader) -> list[int]:
    return [i for batch in loader for i in batch.tolist()]


def test_shuffle_gives_a_permutation_per_epoch_and_reproduces_with_manual_seed():
    dataset = list(range(23))
    loader = data.DataLoader(dataset, batch_size=5, shuffle=True)
    tritongrad.manual_seed(5)
    first, second = _epoch_order(loader), _epoch_order(loader)
    assert sorted(first) == sorted(second) == dataset
    assert first != second, "each epoch must reshuffle"
    assert first != dataset, "shuffle=True returned the sequential order"
    tritongrad.manual_seed(5)
    assert _epoch_order(loader) == first, "manual_seed must make the shuffle reproducible"
    assert len(loader) == 5


def test_shuffle_with_a_generator_reproduces_and_leaves_the_default_generator_alone():
    dataset = list(range(40))
    state = tritongrad.get_rng_state().tolist()
    orders = [
        _epoch_order(
            data.DataLoader(dataset, batch_size=8, shuffle=True, generator=tritongrad.Generator().manual_seed(3))
        )
        for _ in range(2)
    ]
    assert orders[0] == orders[1] and sorted(orders[0]) == dataset
    assert tritongrad.get_rng_state().tolist() == state
    other = _epoch_order(
        data.DataLoader(dataset, batch_size=8, shuffle=True, generator=tritongrad.Generator().manual_seed(4))
    )
    assert other != orders[0]


def test_shuffled_first_positions_are_uniform():
    # Which sample comes first, over many epochs of a 6-sample dataset: uniform (chi-square < 6 sigma).
    n, epochs = 6, 600
    loader = data.DataLoader(
        list(range(n)), batch_size=n, shuffle=True, generator=tritongrad.Generator().manual_seed(0)
    )
    counts = collections.Counter(next(iter(loader)).tolist()[0] for _ in range(epochs))
    expected = epochs / n
    statistic = sum((counts.get(i, 0) - expected) ** 2 / expected for i in range(n))
    assert statistic < (n - 1) + 6 * math.sqrt(2 * (n - 1)) + 10, f"counts {dict(counts)}"


# ---------------------------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------------------------


def test_sequential_and_batch_samplers_match_torch():
    assert list(data.SequentialSampler(range(5))) == list(torch_data.SequentialSampler(range(5)))
    for drop_last in (False, True):
        ours = data.BatchSampler(data.SequentialSampler(range(7)), 3, drop_last)
        theirs = torch_data.BatchSampler(torch_data.SequentialSampler(range(7)), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 23), (True, None), (True, 50)])
def test_random_sampler(replacement, num_samples):
    n = 10
    generator = tritongrad.Generator().manual_seed(1)
    sampler = data.RandomSampler(range(n), replacement=replacement, num_samples=num_samples, generator=generator)
    theirs = torch_data.RandomSampler(range(n), replacement=replacement, num_samples=num_samples)
    indices = list(sampler)
    assert len(indices) == len(sampler) == len(theirs) == len(list(theirs))
    assert all(0 <= i < n for i in indices)
    if not replacement:
        # Whole permutations, then part of one: no index twice within a pass over the data.
        for start in range(0, len(indices), n):
            chunk = indices[start : start + n]
            assert len(set(chunk)) == len(chunk), f"repeated index without replacement: {chunk}"
    again = list(
        data.RandomSampler(range(n), replacement, num_samples, generator=tritongrad.Generator().manual_seed(1))
    )
    assert again == indices


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [3, 10, 11, 40, 2]
    ours = list(data.SubsetRandomSampler(indices, generator=tritongrad.Generator().manual_seed(2)))
    assert sorted(ours) == sorted(indices) and len(data.SubsetRandomSampler(indices)) == 5


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_random_sampler(replacement):
    weights = [0.0, 1.0, 3.0, 0.0, 4.0]
    num_samples = 4000 if replacement else 3
    sampler = data.WeightedRandomSampler(
        weights, num_samples, replacement, generator=tritongrad.Generator().manual_seed(8)
    )
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == num_samples
    assert set(drawn) <= {1, 2, 4}, "zero-weight indices were drawn"
    if replacement:
        counts = collections.Counter(drawn)
        for index, p in ((1, 0.125), (2, 0.375), (4, 0.5)):
            assert abs(counts[index] - num_samples * p) < 6 * math.sqrt(num_samples * p * (1 - p)), dict(counts)
    else:
        assert sorted(drawn) == [1, 2, 4]


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.BatchSampler(range(3), 0, False),
        lambda m: m.BatchSampler(range(3), 2, 1),
        lambda m: m.RandomSampler(range(3), num_samples=0),
        lambda m: m.RandomSampler(range(3), replacement=1),
        lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
        lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    ],
)
def test_sampler_errors_match_torch(make):
    with pytest.raises(Exception) as expected:
        make(torch_data)
    with pytest.raises(expected.type):
        make(data)


# ---------------------------------------------------------------------------------------------
# Datasets and random_split
# ---------------------------------------------------------------------------------------------


def test_tensor_dataset_subset_concat_match_torch():
    ours_set, theirs_set = _tensor_pair(6)
    assert len(ours_set) == len(theirs_set) == 6
    _assert_same_batch(ours_set[4], theirs_set[4], "TensorDataset[4]")
    _assert_same_batch(ours_set[-1], theirs_set[-1], "TensorDataset[-1]")
    ours_subset, theirs_subset = data.Subset(ours_set, [5, 0, 2]), torch_data.Subset(theirs_set, [5, 0, 2])
    assert len(ours_subset) == 3
    _assert_same_batch(ours_subset[0], theirs_subset[0], "Subset[0]")
    ours_concat = data.ConcatDataset([list(range(3)), list(range(10, 15))])
    theirs_concat = torch_data.ConcatDataset([list(range(3)), list(range(10, 15))])
    assert len(ours_concat) == len(theirs_concat) == 8
    assert [ours_concat[i] for i in range(-8, 8)] == [theirs_concat[i] for i in range(-8, 8)]
    assert ours_concat.cumulative_sizes == theirs_concat.cumulative_sizes
    both = ours_set + ours_set
    assert isinstance(both, data.ConcatDataset) and len(both) == 12
    batches = list(data.DataLoader(ours_subset, batch_size=2))
    _assert_same_batch(batches[0], next(iter(torch_data.DataLoader(theirs_subset, batch_size=2))), "Subset batch")


def test_iterable_dataset_batches_like_torch():
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    class TorchStream(torch_data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    for drop_last in (False, True):
        ours = [b.tolist() for b in data.DataLoader(Stream(), batch_size=3, drop_last=drop_last)]
        theirs = [b.tolist() for b in torch_data.DataLoader(TorchStream(), batch_size=3, drop_last=drop_last)]
        assert ours == theirs
    # A stream written against torch's IterableDataset is a stream for tritongrad's loader too.
    assert [b.tolist() for b in data.DataLoader(TorchStream(), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6]]
    chained = list(data.ChainDataset([Stream(), Stream()]))
    assert chained == list(range(7)) * 2
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        data.DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize(
    "lengths",
    [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [10], [1.0], [5, 0, 5]],
)
def test_random_split_sizes_and_disjointness_match_torch(lengths):
    n = 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-length splits warn (in both)
        ours = data.random_split(range(n), lengths, generator=tritongrad.Generator().manual_seed(0))
        theirs = torch_data.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert all(isinstance(s, data.Subset) for s in ours)
    everything = [s[i] for s in ours for i in range(len(s))]
    assert sorted(everything) == list(range(n)), "splits must be disjoint and cover the dataset"
    again = data.random_split(range(n), lengths, generator=tritongrad.Generator().manual_seed(0))
    assert [list(s.indices) for s in again] == [list(s.indices) for s in ours], "the same generator, the same split"


def test_random_split_default_generator_is_seeded_by_manual_seed():
    tritongrad.manual_seed(17)
    first = [list(s.indices) for s in data.random_split(range(12), [6, 6])]
    tritongrad.manual_seed(17)
    assert [list(s.indices) for s in data.random_split(range(12), [6, 6])] == first


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.random_split(range(10), [3, 3]),  # lengths do not add up
        lambda m: m.random_split(range(10), [0.5, 0.7]),
        lambda m: m.TensorDataset(m_ones(m, 3), m_ones(m, 2)),  # size mismatch (AssertionError)
        lambda m: m.ConcatDataset([]),
    ],
)
def test_dataset_errors_match_torch(make):
    with pytest.raises(Exception) as expected:
        make(torch_data)
    with pytest.raises(expected.type):
        make(data)


def m_ones(module, n: int):
    return torch.ones(n) if module is torch_data else tritongrad.ones(n)


# ---------------------------------------------------------------------------------------------
# DataLoader argument errors (torch's)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_sampler": [[0]], "shuffle": True},
        {"batch_sampler": [[0]], "drop_last": True},
        {"batch_sampler": [[0]], "sampler": [0]},
        {"sampler": [0], "shuffle": True},
        {"batch_size": None, "drop_last": True},
        {"num_workers": -1},
        {"timeout": -1},
        {"prefetch_factor": 2},
        {"persistent_workers": True},
    ],
)
def test_loader_argument_errors_match_torch(kwargs):
    with pytest.raises(ValueError) as expected:
        torch_data.DataLoader(range(3), **kwargs)
    with pytest.raises(ValueError) as ours:
        data.DataLoader(range(3), **kwargs)
    assert str(ours.value) == str(expected.value)


def test_loader_attributes_are_frozen_like_torch():
    loader = data.DataLoader(range(3))
    for name, value in (("batch_size", 3), ("sampler", None), ("dataset", [])):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(loader, name, value)
    loader.collate_fn = data.default_collate  # other attributes may change


def test_tutorial_style_training_loop_is_reproducible():
    # The shape of "What is torch.nn really?": TensorDataset + shuffled DataLoader + Linear + SGD,
    # written against `torch` = tritongrad. Two runs from the same seed see the same batches.
    torch_ = tritongrad
    nn, F = tritongrad.nn, tritongrad.nn.functional

    def fit() -> list[float]:
        torch_.manual_seed(0)
        x_train = torch_.randn(24, 5)
        y_train = torch_.randint(0, 3, (24,))
        train_dl = torch_.utils.data.DataLoader(
            torch_.utils.data.TensorDataset(x_train, y_train), batch_size=8, shuffle=True
        )
        model = nn.Linear(5, 3)
        opt = tritongrad.optim.SGD(model.parameters(), lr=0.5)
        losses = []
        for _ in range(2):
            for xb, yb in train_dl:
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
                losses.append(loss.item())
        return losses

    first = fit()
    assert len(first) == 6 and all(math.isfinite(v) for v in first)
    assert fit() == first
    assert sum(first[3:]) < sum(first[:3]), f"training on the loader's batches did not lower the loss: {first}"

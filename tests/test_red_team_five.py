"""The fifth red-team round's findings (session 14), each compared with torch by ``agree``: the value,
the dtype, or the exception type and the head of its message."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.test_hardening import agree


def _values(lib):
    return lib.arange(1.0, 7.0) / 4


def _raised(call) -> str:
    """The type and message of what ``call`` raised (it must raise)."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - compared with torch's
        return f"{type(error).__name__}: {error}"
    raise AssertionError("no exception")


def _long(lib, n):
    return lib.zeros(n, dtype=lib.long)


# out= that overlaps an input: the selections and gathers refuse partial overlap (the gathers also
# full aliasing), the scans and sort's full aliasing write through it, as torch's.
OUT_OVERLAP = {
    "max(dim) values into the input": lambda lib, y: lib.max(y.view(2, 3), 1, out=(y[:2], _long(lib, 2))),
    "min(dim) values into the input": lambda lib, y: lib.min(y.view(2, 3), 1, out=(y[:2], _long(lib, 2))),
    "topk values into the input": lambda lib, y: lib.topk(y, 3, out=(y[:3], _long(lib, 3))),
    "sort into itself": lambda lib, y: lib.sort(y, out=(y, _long(lib, 6))),
    "sort into a shifted part": lambda lib, y: lib.sort(y[:3], out=(y[1:4], _long(lib, 3))),
    "kthvalue into the input": lambda lib, y: lib.kthvalue(y.view(2, 3), 2, 1, out=(y[:2], _long(lib, 2))),
    "mode into the input": lambda lib, y: lib.mode(y.view(2, 3), 1, out=(y[:2], _long(lib, 2))),
    "median(dim) into the input": lambda lib, y: lib.median(y.view(2, 3), 1, out=(y[:2], _long(lib, 2))),
    "cummax into itself": lambda lib, y: lib.cummax(y, 0, out=(y, _long(lib, 6))),
    "aminmax into the input": lambda lib, y: lib.aminmax(y.view(2, 3), dim=1, out=(y[:2], y[2:4])),
    "aminmax out=": lambda lib, y: (lambda a, b: [lib.aminmax(y.view(2, 3), dim=1, out=(a, b)), a, b])(
        lib.zeros(2), lib.zeros(2)
    ),
    "take into itself": lambda lib, y: lib.take(y, lib.tensor([5, 4, 3, 2, 1, 0]), out=y),
    "masked_select into itself": lambda lib, y: lib.masked_select(y, y > 0, out=y),
    "index_select into itself": lambda lib, y: lib.index_select(y, 0, lib.tensor([5, 4, 3, 2, 1, 0]), out=y),
    "gather into itself": lambda lib, y: lib.gather(y, 0, lib.tensor([5, 4, 3, 2, 1, 0]), out=y),
    "take_along_dim into itself": lambda lib, y: lib.take_along_dim(y, lib.tensor([5, 4, 3, 2, 1, 0]), 0, out=y),
    "renorm into a shifted part": lambda lib, y: lib.renorm(y[:4].view(2, 2), 2, 0, 1.0, out=y[2:6].view(2, 2)),
    "renorm into itself": lambda lib, y: lib.renorm(y.view(2, 3), 2, 0, 1.0, out=y.view(2, 3)),
    "renorm out of another dtype": lambda lib, y: lib.renorm(y.view(2, 3), 2, 0, 1.0, out=lib.zeros(2, 3).double()),
    "renorm out= of an input that requires grad": lambda lib, y: lib.renorm(
        y.view(2, 3).requires_grad_(), 2, 0, 1.0, out=lib.zeros(2, 3)
    ),
    "cat into an expanded out": lambda lib, y: lib.cat([y[:1], y[:1]], out=lib.zeros(1).expand(2)),
    "cumsum into itself": lambda lib, y: lib.cumsum(y, 0, out=y),
}


@pytest.mark.parametrize("name", list(OUT_OVERLAP))
def test_out_overlapping_an_input_as_torch(name):
    agree(name, lambda lib: (lambda y: [OUT_OVERLAP[name](lib, y), y])(_values(lib)), [], message=True)


def _cat_with_empty_leaf(lib):
    empty, matrix = lib.ones(0, requires_grad=True), lib.arange(6.0).view(2, 3).requires_grad_()
    joined = lib.cat([empty, matrix, empty])
    (joined * lib.arange(6.0).view(2, 3)).sum().backward()
    return [joined, empty.grad, matrix.grad]


CASES = {
    "einsum with a zero-size dim": lambda lib: [
        lib.einsum(equation, *[lib.ones(shape) for shape in shapes])
        for equation, shapes in (
            ("ij,jk->ik", [(2, 0), (0, 3)]),
            ("ij,jk->ik", [(0, 2), (2, 3)]),
            ("i,i->", [(0,), (0,)]),
            ("bij,bjk->bik", [(2, 3, 0), (2, 0, 4)]),
            ("bij,bjk->bik", [(0, 3, 2), (0, 2, 4)]),
        )
    ],
    "cat skips an empty 1-D leaf but gives it an empty gradient": _cat_with_empty_leaf,
    "anomaly flags at the top level": lambda lib: [
        type(lib.autograd.set_detect_anomaly(True)).__name__,
        lib.is_anomaly_enabled(),
        lib.is_anomaly_check_nan_enabled(),
        type(lib.autograd.set_detect_anomaly(False)).__name__,
        lib.is_anomaly_enabled(),
    ],
    "index_put_ takes only tensors as indices": lambda lib: (
        [
            _raised(lambda index=index: lib.zeros(3, 3).index_put_(index, lib.tensor(1.0)))
            for index in ((None, lib.tensor([0])), (lib.tensor([0]), 1), ([0, 1],))
        ]
        + [lib.zeros(3, 3).index_put_([lib.tensor([0, 2])], lib.tensor(1.0))]
    ),
    "integer division of an empty tensor by zero": lambda lib: [
        lib.ones(0, dtype=lib.long) // 0,
        lib.remainder(lib.ones(3, 0, dtype=lib.long), lib.zeros(3, 1, dtype=lib.long)),
    ],
    "numpy arrays as indices: uint8 is a mask, floats and int16 are positions": lambda lib: [
        lib.arange(12.0).view(3, 4)[array]
        for array in (
            np.array([1, 0, 1], dtype=np.uint8),
            np.array([1.0, 0.0]),
            np.array([1, 0], dtype=np.int16),
            np.array([True, False, True]),
        )
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    agree(name, CASES[name], [], message=True)


def _made_in_inference_mode(lib):
    with lib.inference_mode():
        ones = lib.ones(3)
        doubled = ones * 2
    return ones, doubled


def _inside_and_nested(lib):
    ones, _ = _made_in_inference_mode(lib)
    with lib.inference_mode():
        inside = [lib.is_inference_mode_enabled(), ones.add_(1), lib.ones(1).is_inference()]
        with lib.inference_mode(False):
            inside += [lib.ones(2).is_inference(), lib.is_grad_enabled(), lib.is_inference_mode_enabled()]
    return inside + [lib.is_inference_mode_enabled(), lib.is_grad_enabled()]


def _decorated(lib):
    @lib.inference_mode()
    def double(x):
        return x * 2

    return [double(lib.ones(2)).is_inference(), lib.is_grad_enabled()]


def _made_under_no_grad(lib):
    with lib.no_grad():
        ones = lib.ones(2)
    return [ones.is_inference(), lib.is_grad_enabled()]


INFERENCE = {
    "an inference tensor saved for backward": lambda lib: (
        (_made_in_inference_mode(lib)[1] * lib.ones(3, requires_grad=True)).sum().backward()
    ),
    "an inference tensor in an op that saves nothing of it": lambda lib: (
        lambda x: [(_made_in_inference_mode(lib)[1] + x).sum().backward(), x.grad]
    )(lib.ones(3, requires_grad=True)),
    "in place into an inference tensor outside": lambda lib: _made_in_inference_mode(lib)[0].add_(1),
    "zero_, fill_, copy_ into an inference tensor outside": lambda lib: [
        _raised(lambda: _made_in_inference_mode(lib)[0].zero_()),
        _raised(lambda: _made_in_inference_mode(lib)[0].fill_(2)),
        _raised(lambda: _made_in_inference_mode(lib)[0].copy_(lib.ones(3))),
    ],
    "requires_grad on an inference tensor outside": lambda lib: _made_in_inference_mode(lib)[0].requires_grad_(),
    "which tensors are inference tensors": lambda lib: (
        lambda ones, doubled: [
            ones.is_inference(),
            doubled.is_inference(),
            lib.is_inference(doubled),
            ones.view(3).is_inference(),
            ones.detach().is_inference(),
            ones[0].is_inference(),
            (ones + 1).is_inference(),
            ones.clone().is_inference(),
            ones.requires_grad_(False).is_inference(),
        ]
    )(*_made_in_inference_mode(lib)),
    "inside inference mode and inference_mode(False) within it": _inside_and_nested,
    "inference_mode as a decorator": _decorated,
    "no_grad makes no inference tensors": _made_under_no_grad,
}


@pytest.mark.parametrize("name", list(INFERENCE))
def test_inference_tensors_as_torch(name):
    agree(name, INFERENCE[name], [], message=True)


def _loaded_with_assign(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
    old_weight = model[0].weight
    state = {key: value.clone() for key, value in model.state_dict().items()}
    state["0.weight"] = lib.ones(2, 2, dtype=lib.float64)
    result = model.load_state_dict(state, assign=True)
    weight, mean = model[0].weight, model[1].running_mean
    model[0].weight.requires_grad_(False)
    model.load_state_dict(dict(model.state_dict()), assign=True)
    return [
        str(result),
        weight is old_weight,
        type(weight).__name__,
        weight.requires_grad,
        weight.dtype,
        weight.data_ptr() == state["0.weight"].data_ptr(),
        mean.data_ptr() == state["1.running_mean"].data_ptr(),
        [name for name, _ in model.named_parameters()],
        model[0].weight.requires_grad,
    ]


def test_load_state_dict_assign_as_torch():
    agree("load_state_dict(assign=True)", _loaded_with_assign, [], message=True)


MODULE_MISUSE = {
    "MultiheadAttention key_padding_mask of the wrong length": lambda lib: lib.nn.MultiheadAttention(4, 2)(
        lib.ones(3, 2, 4), lib.ones(5, 2, 4), lib.ones(5, 2, 4), key_padding_mask=lib.zeros(2, 4, dtype=lib.bool)
    ),
    "MultiheadAttention key_padding_mask of the wrong batch": lambda lib: lib.nn.MultiheadAttention(4, 2)(
        lib.ones(3, 2, 4), lib.ones(5, 2, 4), lib.ones(5, 2, 4), key_padding_mask=lib.zeros(3, 5, dtype=lib.bool)
    ),
    "MultiheadAttention unbatched key_padding_mask": lambda lib: lib.nn.MultiheadAttention(4, 2)(
        lib.ones(3, 4), lib.ones(5, 4), lib.ones(5, 4), key_padding_mask=lib.zeros(4, dtype=lib.bool)
    ),
    "MultiheadAttention key of the wrong kdim": lambda lib: lib.nn.MultiheadAttention(4, 2, kdim=3, vdim=5)(
        lib.ones(2, 1, 4), lib.ones(3, 1, 4), lib.ones(3, 1, 5)
    ),
    "MultiheadAttention value of the wrong vdim": lambda lib: lib.nn.MultiheadAttention(4, 2, kdim=3, vdim=5)(
        lib.ones(2, 1, 4), lib.ones(3, 1, 3), lib.ones(3, 1, 4)
    ),
    "TransformerEncoderLayer src_key_padding_mask of the wrong batch": lambda lib: lib.nn.TransformerEncoderLayer(
        4, 2, 8, dropout=0.0
    )(lib.ones(3, 2, 4), src_key_padding_mask=lib.zeros(3, 2, dtype=lib.bool)),
    "AdaptiveAvgPool2d with a tuple size of a 2-D input": lambda lib: lib.nn.AdaptiveAvgPool2d((2, 2))(lib.ones(5, 7)),
    "AdaptiveAvgPool2d with an int size of a 2-D input": lambda lib: lib.nn.AdaptiveAvgPool2d(2)(lib.ones(5, 7)),
    "AdaptiveMaxPool2d with a tuple size of a 2-D input": lambda lib: lib.nn.AdaptiveMaxPool2d((2, 2))(lib.ones(5, 7)),
    "adaptive_avg_pool3d with a tuple size of a 3-D input": lambda lib: lib.nn.functional.adaptive_avg_pool3d(
        lib.ones(5, 7, 3), (2, 2, 2)
    ),
    "adaptive_max_pool3d with a tuple size of a 3-D input": lambda lib: lib.nn.functional.adaptive_max_pool3d(
        lib.ones(5, 7, 3), (2, 2, 2)
    ),
    "Dropout2d of a 1-D input": lambda lib: lib.nn.Dropout2d()(lib.ones(3)),
}


@pytest.mark.parametrize("name", list(MODULE_MISUSE))
def test_module_misuse_as_torch(name):
    agree(name, MODULE_MISUSE[name], [], message=True)


def _dropout2d_structure(lib, shape):
    """Shape, warnings and mask structure of dropout2d (torch's draws differ: the structure does not)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = lib.nn.functional.dropout2d(lib.ones(shape), 0.5, True)
    per_channel = result.reshape(shape[0], shape[1], -1)
    return [
        tuple(result.shape),
        bool((per_channel.amax(-1) == per_channel.amin(-1)).all()),
        set(result.flatten().tolist()) <= {0.0, 2.0},
        [str(w.message)[:60] for w in caught],
    ]


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5), (2, 3, 4, 5), (2, 3, 4, 5, 6)], ids=str)
def test_dropout2d_drops_dims_0_and_1_of_any_rank_as_torch(shape):
    agree(f"dropout2d of {shape}", lambda lib: _dropout2d_structure(lib, shape), [], message=True)


NAN, INF = float("nan"), float("inf")
SEQUENCES_WITH_NAN = [
    [1.0, 2.0, NAN, NAN],
    [NAN, NAN],
    [1.0, 2.0, NAN],
    [NAN],
    [1.0] + [NAN] * 6,
    [-INF, 0.0, 1.0, NAN, NAN],
]


@pytest.mark.parametrize("sequence", SEQUENCES_WITH_NAN, ids=str)
def test_searchsorted_and_bucketize_walk_a_sequence_with_nan_as_torch(sequence):
    """torch's binary search probes a few entries; with NaN among them its answer depends on which."""

    def search(lib):
        boundaries, values = lib.tensor(sequence), lib.tensor([0.5, 1.5, 2.5, -INF, INF, NAN, 1.0, 2.0])
        return [
            lib.searchsorted(boundaries, values),
            lib.searchsorted(boundaries, values, right=True),
            lib.searchsorted(boundaries, values, side="right", out_int32=True),
            lib.bucketize(values, boundaries),
            lib.searchsorted(boundaries, 1.5),
            lib.searchsorted(boundaries.half(), values.half()),
        ]

    agree(f"searchsorted in {sequence}", search, [], message=True)


def test_searchsorted_of_rows_with_nan_and_a_sorter_as_torch():
    agree(
        "searchsorted of 2-D rows holding NaN, with and without a sorter",
        lambda lib: [
            lib.searchsorted(lib.tensor([[1.0, NAN, NAN], [0.0, 1.0, 2.0]]), lib.tensor([[0.5, 1.5], [1.5, 3.0]])),
            lib.searchsorted(
                lib.tensor([[NAN, 1.0, 2.0], [2.0, 0.0, 1.0]]),
                lib.tensor([[0.5, 1.5], [1.5, 3.0]]),
                sorter=lib.tensor([[1, 2, 0], [1, 2, 0]]),
            ),
        ],
        [],
        message=True,
    )


def _second_derivative(function, with_nan: bool):
    """The first derivative (with create_graph) and the gradient of its weighted sum, at kinks,
    infinities and (``with_nan``) NaN. (torch's first derivative of hardtanh, relu6 and the shrinks
    at NaN depends on whether NaN lands in a vector lane: ops/activation.py; not compared here.)"""

    def run(lib):
        values = [0.0, -1.0, 1.5, -0.3, INF, -INF, NAN if with_nan else 0.5, 7.0]
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad(function(lib, x).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * lib.arange(1.0, 9.0, dtype=lib.float64)).sum(), x)
        return [first, first.requires_grad, second]

    return run


SECOND_DERIVATIVES = {
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "elu alpha 2": lambda lib, x: lib.nn.functional.elu(x, 2.0),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "celu alpha 0.5": lambda lib, x: lib.nn.functional.celu(x, 0.5),
    "elu in place (from its output)": lambda lib, x: lib.nn.functional.elu(x * 1, inplace=True),
    "relu": lambda lib, x: lib.nn.functional.relu(x),
    "relu in place": lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True),
    "ReLU module": lambda lib, x: lib.nn.ReLU()(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 20.0),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
}


@pytest.mark.parametrize("name", list(SECOND_DERIVATIVES))
def test_second_derivative_at_kinks_and_non_finite_inputs_as_torch(name):
    with_nan = name not in ("relu6", "hardtanh", "hardshrink", "softshrink")
    agree(f"d2 {name}", _second_derivative(SECOND_DERIVATIVES[name], with_nan), [], message=True)


def _relu_critic_gradient_penalty(lib):
    """A WGAN-GP penalty through a critic whose only path to its input is a ReLU of a constant layer."""
    x = lib.tensor([[0.5, -1.0, 2.0], [-0.25, 0.75, -1.5]], requires_grad=True)
    (first,) = lib.autograd.grad(lib.nn.functional.relu(x * 2.0).sum(), x, create_graph=True)
    penalty = ((first.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    return [first, penalty, x.grad]


def test_gradient_penalty_through_a_relu_as_torch():
    agree("gradient penalty through relu", _relu_critic_gradient_penalty, [], message=True)


def _retained_then_written(write):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        write(h)
        (h * h).sum().backward()
        return [h.grad, x.grad]

    return run


RETAINED = {
    "mul_": lambda h: h.mul_(3),
    "add_ then mul_": lambda h: h.add_(1).mul_(2),
    "mul_ through a view": lambda h: h[0].mul_(3),
    "no write": lambda h: None,
}


@pytest.mark.parametrize("name", list(RETAINED))
def test_retain_grad_follows_in_place_writes_as_torch(name):
    agree(f"retain_grad then {name}", _retained_then_written(RETAINED[name]), [], message=True)


@pytest.mark.parametrize("eps", [None, 1e-6, 0.2])
def test_logit_second_derivative_as_torch(eps):
    def run(lib):
        p = lib.tensor([0.3, 0.5, 0.0, 1.0, 0.9, 1e-7], dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad(p.logit(eps).pow(2).sum(), p, create_graph=True)
        (second,) = lib.autograd.grad(first.sum(), p)
        q = lib.tensor([0.3, 0.0, 1.0, -0.0, 1.5, -0.5, NAN], dtype=lib.float64, requires_grad=True)
        q.logit(eps).backward(lib.tensor([1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0], dtype=lib.float64))
        return [first, second, q.grad]

    agree(f"logit(eps={eps}) first and second derivatives", run, [], message=True)


# Writes whose operand is a part of the target: torch refuses copy_ and the arithmetic, and reads a
# 0-d fill value before it writes.
SELF_VIEW_WRITES = {
    "copy_ of its first element": lambda lib, x: x.copy_(x[0]),
    "copy_ of its first slice": lambda lib, x: x.copy_(x[:1]),
    "copy_ of itself": lambda lib, x: x.copy_(x),
    "copy_ of itself flipped": lambda lib, x: x.copy_(x.flip(0)),
    "shifted copy_": lambda lib, x: x[1:].copy_(x[:-1]),
    "masked_fill_ with its first element": lambda lib, x: x.masked_fill_(x > 3, x[0]),
    "index_fill_ with its first element": lambda lib, x: x.index_fill_(0, lib.tensor([1, 2]), x[0]),
    "fill_ with its first element": lambda lib, x: x.fill_(x[0]),
    "add_ of its first element": lambda lib, x: x.add_(x[0]),
    "clamp_ to its first element": lambda lib, x: x.clamp_(min=x[0]),
    "cross into an input": lambda lib, x: lib.cross(x.view(2, 3), lib.ones(2, 3), dim=1, out=x.view(2, 3)),
    "where into an input": lambda lib, x: lib.where(x > 2, x, lib.zeros(6), out=x),
}


@pytest.mark.parametrize("name", list(SELF_VIEW_WRITES))
def test_writes_from_a_part_of_the_target_as_torch(name):
    agree(name, lambda lib: (lambda x: [SELF_VIEW_WRITES[name](lib, x), x])(lib.arange(1.0, 7.0)), [], message=True)


ERROR_CLASSES = {
    "index_add_ of a 1-d input out of range": lambda lib: lib.zeros(3).index_add_(0, lib.tensor([3]), lib.ones(1)),
    "index_add_ of a 1-d input, negative": lambda lib: lib.zeros(3).index_add_(0, lib.tensor([-1]), lib.ones(1)),
    "index_add of a 1-d input with alpha": lambda lib: lib.zeros(3).index_add(0, lib.tensor([5]), lib.ones(1), alpha=2),
    "index_add_ of a 2-d input out of range": lambda lib: lib.zeros(3, 2).index_add_(
        0, lib.tensor([3]), lib.ones(1, 2)
    ),
    "index_select of an empty 1-d input": lambda lib: lib.zeros(0).index_select(0, lib.tensor([0])),
    "index_select of an empty dim of a 2-d input": lambda lib: lib.zeros(0, 3).index_select(0, lib.tensor([0])),
    "embedding with an empty weight": lambda lib: lib.nn.functional.embedding(lib.tensor([0]), lib.zeros(0, 3)),
    "embedding of no indices with an empty weight": lambda lib: lib.nn.functional.embedding(
        lib.tensor([], dtype=lib.long), lib.zeros(0, 3)
    ),
    "count_nonzero of a stride-0 view past 2^31 elements": lambda lib: lib.count_nonzero(
        lib.ones(()).expand(2**31 + 5)
    ),
    "count_nonzero over expanded dims": lambda lib: [
        lib.count_nonzero(lib.tensor([[0.0, 1.0, 2.0]]).expand(4, 3), dim) for dim in (None, 0, 1, (0, 1), -2)
    ],
}


@pytest.mark.parametrize("name", list(ERROR_CLASSES))
def test_index_errors_and_counts_as_torch(name):
    agree(name, ERROR_CLASSES[name], [], message=True)


def _gradients_over_iterables(lib):
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.arange(6.0).view(2, 3) / 6)
        model.bias.copy_(lib.tensor([0.1, -0.2]))
    x = lib.arange(3.0) / 3
    by_generator = lib.autograd.grad((model(x) ** 2).sum(), model.parameters(), create_graph=True)
    listed = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))])
    by_parameter_list = lib.autograd.grad(sum((p * p).sum() for p in listed), listed)
    leaves = {"a": lib.ones(2, requires_grad=True)}
    by_dict_values = lib.autograd.grad((leaves["a"] * 3).sum(), leaves.values())
    (model(x) ** 2).sum().backward(inputs=model.parameters())
    by_iterators = lib.autograd.grad(
        iter([(model(x) ** 2).sum()]), map(lambda p: p, model.parameters()), grad_outputs=iter([lib.tensor(2.0)])
    )
    return [by_generator, by_parameter_list, by_dict_values, model.weight.grad, by_iterators]


def test_autograd_grad_takes_any_iterable_as_torch():
    """MAML's ``autograd.grad(loss, model.parameters())``: inputs, outputs and grad_outputs may be any iterable."""
    agree("autograd.grad over generators and containers", _gradients_over_iterables, [], message=True)
    agree("autograd.grad w.r.t. a number", lambda lib: lib.autograd.grad(lib.ones(2, requires_grad=True).sum(), 3), [])


IN_PLACE_CHAINS = {
    "div_ then mul_": lambda lib, x, d, m: (x - 1).div_(d).mul_(m),
    "div_ then add_": lambda lib, x, d, m: (x - 1).div_(d).add_(m),
    "mul_ then mul_": lambda lib, x, d, m: (x - 1).mul_(d).mul_(m),
    "sqrt_ then mul_ (torch refuses)": lambda lib, x, d, m: (x * 1).sqrt_().mul_(m),
    "div_ by a constant then mul_": lambda lib, x, d, m: (x - 1).div_(d.detach()).mul_(m),
    "number divided by a tensor, then mul_": lambda lib, x, d, m: (2.0 / d).mul_(m),
}


@pytest.mark.parametrize("name", list(IN_PLACE_CHAINS))
def test_in_place_chains_backward_as_torch(name):
    """fast.ai's RunningBatchNorm: ``(x - m).div_(s).mul_(w).add_(b)``."""

    def run(lib):
        leaves = [lib.tensor(v, requires_grad=True) for v in ([1.0, 2.0, 3.0], [2.0, 4.0, 8.0], [0.5, 1.5, 2.5])]
        result = IN_PLACE_CHAINS[name](lib, *leaves)
        result.sum().backward()
        return [result] + [leaf.grad for leaf in leaves]

    agree(name, run, [], message=True)


OUT_ARGUMENTS = {
    "sinc out= float32": lambda lib: lib.sinc(lib.ones(2), out=lib.zeros(2)),
    "sinc out= float64 of a float32 input": lambda lib: lib.sinc(lib.ones(2), out=lib.zeros(2, dtype=lib.float64)),
    "sinc out= float32 of a float64 input": lambda lib: lib.sinc(lib.ones(2, dtype=lib.float64), out=lib.zeros(2)),
    "sinc out= int64": lambda lib: lib.sinc(lib.ones(2, dtype=lib.long), out=lib.zeros(2, dtype=lib.long)),
    "sinc out= of an input that requires grad": lambda lib: lib.sinc(lib.ones(2, requires_grad=True), out=lib.zeros(2)),
    "float_power out= float32": lambda lib: lib.float_power(lib.ones(2), 2, out=lib.zeros(2)),
    "float_power out= float64": lambda lib: lib.float_power(lib.ones(2) * 3, 2, out=lib.zeros(2, dtype=lib.float64)),
    "float_power of a number, out= resized": lambda lib: lib.float_power(
        2, lib.arange(2.0), out=lib.zeros(0, dtype=lib.float64)
    ),
    "searchsorted out= int64": lambda lib: lib.searchsorted(
        lib.arange(3.0), lib.ones(2), out=lib.zeros(2, dtype=lib.long)
    ),
    "searchsorted out= int32 without out_int32": lambda lib: lib.searchsorted(
        lib.arange(3.0), lib.ones(2), out=lib.zeros(2, dtype=lib.int32)
    ),
    "searchsorted out= int32 with out_int32": lambda lib: lib.searchsorted(
        lib.arange(3.0), lib.ones(2), out_int32=True, out=lib.zeros(2, dtype=lib.int32)
    ),
    "searchsorted into its own values": lambda lib: (lambda x: lib.searchsorted(x, x, out=x))(lib.arange(3)),
}


@pytest.mark.parametrize("name", list(OUT_ARGUMENTS))
def test_out_arguments_as_torch(name):
    agree(name, OUT_ARGUMENTS[name], [], message=True)

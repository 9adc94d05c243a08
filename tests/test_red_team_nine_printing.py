"""The ninth red-team round's printing findings (items 1-4, 8, 9, 11-13, 16, 17a, 17c), each compared
with torch on the same input: the printed text, the values, or the exception type and message."""

from __future__ import annotations

import pickle
import re
import time
import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree


@pytest.fixture(autouse=True)
def _default_print_options():
    yield
    torch.set_printoptions(profile="default")
    tritongrad.set_printoptions(profile="default")


def _both_reprs(make, **options):
    """repr of ``make(lib)`` in torch and in tritongrad, under the same print options."""
    texts = []
    for lib in (torch, tritongrad):
        lib.set_printoptions(**options)
        texts.append(repr(make(lib)))
        lib.set_printoptions(profile="default")
    return texts


# ----------------------------------------------------------------------------------------------
# 1: a summarised print reads only the edge items; an empty tensor reads nothing
# ----------------------------------------------------------------------------------------------

SUMMARISED = {
    "1d": lambda lib: lib.arange(30.0) / 7,
    "2d": lambda lib: lib.arange(80).reshape(8, 10),
    "3d_sci": lambda lib: (lib.arange(2 * 9 * 7.0) ** 3).reshape(2, 9, 7),
    "5d": lambda lib: lib.arange(3 * 1 * 8 * 2 * 9.0).reshape(3, 1, 8, 2, 9) - 100,
    "short_dims": lambda lib: lib.arange(60.0).reshape(2, 3, 10),
    "bool": lambda lib: lib.arange(40).reshape(5, 8) % 3 == 0,
    "half": lambda lib: (lib.arange(30.0) / 9).to(lib.float16),
    "complex": lambda lib: lib.complex(lib.arange(24.0), -lib.arange(24.0)).reshape(4, 6),
    "expanded": lambda lib: lib.tensor([[1.5, -2.0]]).expand(9, 2),
    "transposed": lambda lib: (lib.arange(70.0).reshape(7, 10) / 3).t(),
    "requires_grad": lambda lib: lib.arange(20.0, requires_grad=True) * 2,
}


@pytest.mark.parametrize("edgeitems", [1, 2, 3, 0, 5])
@pytest.mark.parametrize("name", list(SUMMARISED))
def test_summarised_repr_matches_torch(name, edgeitems):
    ours, theirs = _both_reprs(SUMMARISED[name], threshold=6, edgeitems=edgeitems)[::-1]
    assert ours == theirs


@pytest.mark.parametrize("options", [{"threshold": 5, "edgeitems": -1}, {"threshold": float("nan")}, {"linewidth": 30}])
def test_odd_print_options_still_match_torch(options):
    ours, theirs = _both_reprs(SUMMARISED["1d"], **options)[::-1]  # (torch's 2-d print fails at edgeitems -1)
    assert ours == theirs


HUGE = {
    "expanded_2d": lambda lib: lib.zeros(1, 1).expand(10**5, 10**5),
    "expanded_1d": lambda lib: lib.arange(3.0)[:1].expand(10**8),
    "empty_rows": lambda lib: lib.empty(10**9, 0),
    "empty_expanded": lambda lib: lib.zeros(1, 0).expand(10**9, 0),
    "empty_3d": lambda lib: lib.empty(0, 10**6, 10**6).expand(0, 10**6, 10**6),
}


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_tensor_prints_at_once(name):
    tensor = HUGE[name](tritongrad)
    started = time.perf_counter()
    text = repr(tensor)
    assert time.perf_counter() - started < 2.0
    assert text == repr(HUGE[name](torch))


# ----------------------------------------------------------------------------------------------
# 2, 3, 17c: __format__, subclass and Parameter-subclass reprs, tensor_contents
# ----------------------------------------------------------------------------------------------


def _subclass(lib):
    return type("MyT", (lib.Tensor,), {})


def _parameter_subclass(lib):
    return type("MyP", (lib.nn.Parameter,), {})


FORMATTED = {
    "parameter": lambda lib: lib.nn.Parameter(lib.tensor(1.5)),
    "subclass": lambda lib: lib.tensor(2.5).as_subclass(_subclass(lib)),
    "meta": lambda lib: lib.tensor(1.0, device="meta"),
    "plain": lambda lib: lib.tensor(2.5),
    "plain_int": lambda lib: lib.tensor(7),
    "plain_requires_grad": lambda lib: lib.tensor(2.5, requires_grad=True),
    "vector": lambda lib: lib.ones(2),
}


@pytest.mark.parametrize("spec", ["", ".3f", ">8", "e"])
@pytest.mark.parametrize("name", list(FORMATTED))
def test_format_follows_torch(name, spec):
    def run(lib):
        return format(FORMATTED[name](lib), spec)

    try:
        expected = run(torch)
    except TypeError as error:
        with pytest.raises(TypeError) as raised:
            run(tritongrad)
        assert str(raised.value) == str(error).replace("torch.", "tritongrad.")
        return
    assert run(tritongrad) == expected


REPRS = {
    "subclass": lambda lib: lib.ones(2, 3).as_subclass(_subclass(lib)),
    "subclass_0d": lambda lib: lib.tensor(2.5).as_subclass(_subclass(lib)),
    "parameter_subclass": lambda lib: _parameter_subclass(lib)(lib.ones(2)),
    "parameter_subclass_wrapped": lambda lib: _parameter_subclass(lib)(lib.arange(30.0).reshape(3, 10) / 7),
    "parameter": lambda lib: lib.nn.Parameter(lib.arange(12.0).reshape(3, 4)),
    "parameter_int_no_grad": lambda lib: lib.nn.Parameter(lib.arange(3), requires_grad=False),
    "distribution": lambda lib: lib.distributions.Normal(lib.nn.Parameter(lib.tensor([0.0, 1.0])), 1.0),
}


@pytest.mark.parametrize("name", list(REPRS))
def test_subclass_and_parameter_reprs_match_torch(name):
    assert repr(REPRS[name](tritongrad)) == repr(REPRS[name](torch))
    assert str(REPRS[name](tritongrad)) == str(REPRS[name](torch))


CONTENTS = {
    "plain": lambda lib: lib.ones(2),
    "empty": lambda lib: lib.ones(2, 0),
    "meta": lambda lib: lib.ones(2, device="meta"),
    "requires_grad": lambda lib: lib.ones(2, requires_grad=True),
    "int32": lambda lib: lib.ones(2, dtype=lib.int32),
    "subclass": lambda lib: lib.ones(2).as_subclass(_subclass(lib)),
}


@pytest.mark.parametrize("name", list(CONTENTS))
def test_repr_tensor_contents(name):
    assert CONTENTS[name](tritongrad).__repr__(tensor_contents="ABC") == CONTENTS[name](torch).__repr__(
        tensor_contents="ABC"
    )


# ----------------------------------------------------------------------------------------------
# 4: linspace's values are torch's CPU kernel's, bit for bit
# ----------------------------------------------------------------------------------------------

LINSPACE_RANGES = [(0, 1), (0.1, 0.9), (-3.7, 2.2), (5, -5), (1e3, -0.3), (-1, -2), (2, 2), (-100, 100.5)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.uint8])  # fmt: skip
@pytest.mark.parametrize("bounds", LINSPACE_RANGES, ids=str)
def test_linspace_values_are_torchs(bounds, dtype):
    for steps in (0, 1, 2, 3, 7, 100, 1000):
        try:
            expected = torch.linspace(*bounds, steps, dtype=dtype)
        except RuntimeError as error:  # (a bound the dtype cannot hold: torch's overflow error)
            with pytest.raises(RuntimeError, match=re.escape(str(error))):
                tritongrad.linspace(*bounds, steps, dtype=dtype)
            continue
        actual = tritongrad.linspace(*bounds, steps, dtype=dtype)
        assert actual.tolist() == expected.tolist(), (bounds, steps, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_linspace_prints_as_torch(dtype):
    assert repr(tritongrad.linspace(0, 1, 7, dtype=dtype)) == repr(torch.linspace(0, 1, 7, dtype=dtype))


# ----------------------------------------------------------------------------------------------
# 11: return types pickle, construct from one sequence, and answer the structseq API
# ----------------------------------------------------------------------------------------------

RESULTS = {
    "max": lambda lib: lib.tensor([3.0, 1.0, 2.0]).max(0),
    "sort": lambda lib: lib.tensor([3.0, 1.0, 2.0]).sort(),
    "aminmax": lambda lib: lib.aminmax(lib.tensor([3.0, 1.0, 2.0])),
    "qr": lambda lib: lib.linalg.qr(lib.eye(2)),
    "svd": lambda lib: lib.linalg.svd(lib.eye(2)),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_return_type_pickles_and_counts_fields(name):
    def run(lib):
        result = RESULTS[name](lib)
        again = pickle.loads(pickle.dumps(result))
        assert type(again) is type(result) and repr(again) == repr(result)
        return type(result).__name__, result.n_fields, result.n_sequence_fields, result.n_unnamed_fields

    assert run(tritongrad) == run(torch)


@pytest.mark.parametrize("arguments", [((1, 2),), ([1, 2],), ((1, 2, 3),), ((1,),), (1,)], ids=str)
def test_return_types_max_constructs_from_a_sequence(arguments):
    agree(f"return_types.max{arguments}", lambda lib: tuple(lib.return_types.max(*arguments)), [])


def test_return_types_max_repr():
    def run(lib):
        return repr(lib.return_types.max((lib.ones(1), lib.zeros(1, dtype=lib.int64))))

    assert run(tritongrad) == run(torch)


# ----------------------------------------------------------------------------------------------
# 12, 13: an unknown print profile is ignored; torch._tensor_str's print options
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["bogus", "", 3])
def test_unknown_print_profile_is_ignored(profile):
    ours, theirs = _both_reprs(lambda lib: lib.tensor([1.23456789]), profile=profile, precision=2)[::-1]
    assert ours == theirs


def test_tensor_str_printoptions():
    def run(lib):
        with lib._tensor_str.printoptions(precision=2):
            inside = repr(lib.tensor([1.2345])), lib._tensor_str.PRINT_OPTS.precision
        lib.set_printoptions(threshold=7)
        options = lib._tensor_str.PRINT_OPTS.threshold, lib._tensor_str.get_printoptions()["threshold"]
        lib.set_printoptions(profile="default")
        return inside, lib._tensor_str.PRINT_OPTS.precision, options

    assert run(tritongrad) == run(torch)


# ----------------------------------------------------------------------------------------------
# 16: "Only Tensors of floating point ..." where torch capitalises it
# ----------------------------------------------------------------------------------------------

GRAD_DTYPE_ERRORS = {
    "parameter": lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.int64)),
    "parameter_bool": lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.bool)),
    "parameter_list": lambda lib: lib.nn.ParameterList([lib.ones(2, dtype=lib.int64)]),
    "ones": lambda lib: lib.ones(2, dtype=lib.int64, requires_grad=True),
    "tensor": lambda lib: lib.tensor([1], requires_grad=True),
    "full": lambda lib: lib.full((2,), 1, requires_grad=True),
    "arange": lambda lib: lib.arange(3, requires_grad=True),
    "requires_grad_": lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(),
    "setter": lambda lib: setattr(lib.ones(2, dtype=lib.int64), "requires_grad", True),
    "parameter_then_requires_grad_": lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.int64), False).requires_grad_(),
    "float_parameter": lambda lib: lib.nn.Parameter(lib.ones(2)).dtype,
}


@pytest.mark.parametrize("name", list(GRAD_DTYPE_ERRORS))
def test_requires_grad_dtype_messages(name):
    def outcome(lib):
        try:
            return GRAD_DTYPE_ERRORS[name](lib)
        except RuntimeError as error:
            return str(error)

    assert outcome(tritongrad) == outcome(torch)


# ----------------------------------------------------------------------------------------------
# 17a: warnings (TransformerEncoder's nested-tensor note, F.upsample, non-leaf .grad)
# ----------------------------------------------------------------------------------------------


def _layer(lib, **options):
    return lib.nn.TransformerEncoderLayer(4, options.pop("nhead", 2), 8, **options)


WARNING_CASES = {
    "encoder_default": lambda lib: lib.nn.TransformerEncoder(_layer(lib), 1),
    "encoder_batch_first": lambda lib: lib.nn.TransformerEncoder(_layer(lib, batch_first=True), 1),
    "encoder_norm_first": lambda lib: lib.nn.TransformerEncoder(_layer(lib, batch_first=True, norm_first=True), 1),
    "encoder_odd_heads": lambda lib: lib.nn.TransformerEncoder(_layer(lib, nhead=1, batch_first=True), 1),
    "encoder_no_bias": lambda lib: lib.nn.TransformerEncoder(_layer(lib, batch_first=True, bias=False), 1),
    "encoder_tanh": lambda lib: lib.nn.TransformerEncoder(_layer(lib, batch_first=True, activation=lib.tanh), 1),
    "encoder_gelu": lambda lib: lib.nn.TransformerEncoder(_layer(lib, batch_first=True, activation="gelu"), 1),
    "encoder_gelu_module": lambda lib: lib.nn.TransformerEncoder(
        _layer(lib, batch_first=True, activation=lib.nn.GELU()), 1
    ),
    "encoder_not_nested": lambda lib: lib.nn.TransformerEncoder(_layer(lib), 1, enable_nested_tensor=False),
    "transformer": lambda lib: lib.nn.Transformer(4, 2, 1, 1, 8),
    "upsample": lambda lib: lib.nn.functional.upsample(lib.ones(1, 1, 2, 2), scale_factor=2),
    "non_leaf_grad": lambda lib: (lib.ones(2, requires_grad=True) * 2).grad,
}


@pytest.mark.parametrize("name", list(WARNING_CASES))
def test_warnings_match_torch(name):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = WARNING_CASES[name](lib)
        # (torch's C++ warnings end in "(Triggered internally at ...)", which tritongrad leaves out)
        texts = [(w.category, re.sub(r" \(Triggered internally at .*\)$", "", str(w.message))) for w in caught]
        return texts, getattr(result, "use_nested_tensor", None)

    assert run(tritongrad) == run(torch)


# ----------------------------------------------------------------------------------------------
# 8, 9: grad_fn's saved values and metadata; a custom Function's node repr
# ----------------------------------------------------------------------------------------------

SAVED = {
    "x*x": lambda x, w: x * x,
    "x*3": lambda x, w: x * 3,
    "3*x": lambda x, w: 3 * x,
    "x*3.5": lambda x, w: x * 3.5,
    "x*True": lambda x, w: x * True,
    "x*w": lambda x, w: x * w,
    "w*x": lambda x, w: w * x,
    "x/3": lambda x, w: x / 3,
    "x/w": lambda x, w: x / w,
    "w/x": lambda x, w: w / x,
    "x+w": lambda x, w: x + w,
    "x-3": lambda x, w: x - 3,
    "x+w*2": lambda x, w: x.add(w, alpha=2),
    "sum": lambda x, w: x.sum(),
    "view": lambda x, w: x.view(2),
    "sum_dim": lambda x, w: x.sum(0),
}
SAVED_NAMES = ["_saved_self", "_saved_other", "_saved_alpha", "_saved_self_sym_sizes", "metadata"]


@pytest.mark.parametrize("name", list(SAVED))
def test_grad_fn_saved_values(name):
    def run(lib):
        x, w = lib.ones(2, requires_grad=True), lib.full((2,), 2.0)
        node = SAVED[name](x, w).grad_fn
        found = {}
        for attribute in SAVED_NAMES:
            try:
                found[attribute] = repr(getattr(node, attribute))
            except AttributeError:
                pass
        return found

    assert run(tritongrad) == run(torch)


def test_grad_fn_metadata_is_the_nodes_own():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        y.grad_fn.metadata["note"] = 1
        leaf = x.sum().grad_fn.next_functions[0][0]
        return y.grad_fn.metadata, (x * 2).grad_fn.metadata, leaf.metadata

    assert run(tritongrad) == run(torch)


def test_custom_function_node_repr():
    def run(lib):
        class Fn(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        output = Fn.apply(lib.ones(2, requires_grad=True))
        return [re.sub("0x[0-9a-f]+", "0x", repr(node)) for node in (output.grad_fn, (output * 2).grad_fn)]

    assert run(tritongrad) == run(torch)


# grad_fn names printed after torch's own ops: .T is a permute, .H mH's transpose, zero_/fill_ their nodes
GRAD_FN_NAMES = {
    "T": lambda lib, x: x.T,
    "T_of_T": lambda lib, x: x.T.T,
    "H_real": lambda lib, x: x.H,
    "zero_": lambda lib, x: (x * 2).zero_(),
    "fill_number": lambda lib, x: (x * 2).fill_(1.5),
    "fill_tensor": lambda lib, x: (x * 2).fill_(lib.tensor(2.0)),
}


@pytest.mark.parametrize("case", GRAD_FN_NAMES, ids=list(GRAD_FN_NAMES))
def test_grad_fn_names_of_transposes_and_fills(case):
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        y = GRAD_FN_NAMES[case](lib, x)
        y.sum().backward()
        edges = [type(node).__name__ if node is not None else None for node, _ in y.grad_fn.next_functions]
        return type(y.grad_fn).__name__, edges, x.grad

    expected, got = run(torch), run(tritongrad)
    assert got[:2] == expected[:2], (got[:2], expected[:2])
    assert got[2].tolist() == expected[2].tolist()

"""The ninth red-team round's nn.Module API findings (nnapi #1-#9, #11, #14-#16, #18), each compared
with torch by ``agree``: the value, or the exception type and the head of its message."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# ----------------------------------------------------------------------------------------------
# #1: half()/float()/double()/bfloat16() cast floating-point tensors only (complex ones stay)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cast", ["half", "float", "double", "bfloat16"])
def test_named_casts_leave_complex_and_integer_tensors(cast):
    def run(lib):
        m = lib.nn.Module()
        m.register_buffer("c", lib.tensor([1 + 2j]))
        m.register_buffer("i", lib.tensor([3]))
        m.register_buffer("f", lib.tensor([1.5], dtype=lib.float64))
        m.p = lib.nn.Parameter(lib.ones(1, dtype=lib.complex64))
        getattr(m, cast)()
        return m.c, m.i, m.f.dtype, m.p.dtype, m.p.detach()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "discards the imaginary part" warning)
        agree(cast, run, [])


# ----------------------------------------------------------------------------------------------
# #2, #3: train() and the conversions go through each child's train/_apply (overrides run)
# ----------------------------------------------------------------------------------------------


def _frozen_bn_model(lib, calls):
    class Frozen(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = lib.nn.BatchNorm1d(1)

        def train(self, mode=True):
            calls.append(mode)
            super().train(mode)
            self.bn.eval()
            return self

    return lib.nn.Sequential(Frozen(), lib.nn.Dropout())


@pytest.mark.parametrize("action", ["train", "eval", "train(False)"])
def test_train_calls_each_child_train(action):
    def run(lib):
        calls = []
        model = _frozen_bn_model(lib, calls)
        {"train": model.train, "eval": model.eval, "train(False)": lambda: model.train(False)}[action]()
        return calls, model[0].bn.training, model[0].training, model[1].training, model.training

    agree(action, run, [])


def _cached_model(lib):
    class Cached(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)
            self.cache = lib.ones(2)

        def _apply(self, fn, recurse=True):
            super()._apply(fn, recurse)
            self.cache = fn(self.cache)
            return self

    return lib.nn.Sequential(Cached())


@pytest.mark.parametrize(
    "convert",
    ["double", "half", "float", "bfloat16", "cpu", "to(float64)", "to(cpu)", "type(float64)", "_apply(double)"],
)
def test_conversions_run_the_child_apply_override(convert):
    def run(lib):
        model = _cached_model(lib)
        {
            "double": model.double, "half": model.half, "float": model.float, "bfloat16": model.bfloat16,
            "cpu": model.cpu, "to(float64)": lambda: model.to(lib.float64), "to(cpu)": lambda: model.to("cpu"),
            "type(float64)": lambda: model.type(lib.float64),
            "_apply(double)": lambda: model._apply(lambda t: t.double()),
        }[convert]()  # fmt: skip
        return model[0].cache.dtype, model[0].lin.weight.dtype, model[0].lin.bias.dtype

    agree(convert, run, [])


def test_apply_keeps_parameter_and_grad_objects_and_tied_weights():
    def run(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        model[1].weight = model[0].weight
        model(lib.ones(1, 2)).sum().backward()
        weight, grad = model[0].weight, model[0].weight.grad
        model.double()
        return (
            model[0].weight is weight, model[0].weight.grad is grad, grad.dtype, model[1].weight is model[0].weight,
            len(list(model.parameters())), weight.dtype,
        )  # fmt: skip

    agree("tied", run, [])


def test_apply_recurse_false_and_to_empty():
    def run(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2))
        model.register_buffer("b", lib.ones(1))
        model._apply(lambda t: t.double(), recurse=False)
        model.to_empty(device="cpu", recurse=False)
        return model.b.dtype, model[0].weight.dtype

    agree("recurse=False", run, [])


# ----------------------------------------------------------------------------------------------
# #4, #5: Module.to's arguments as torch's _parse_to, memory_format honoured for 4-d/5-d tensors
# ----------------------------------------------------------------------------------------------

TO_CALLS = {
    "dtype, non_blocking": lambda lib, m: m.to(lib.float64, True),
    "device, dtype, non_blocking": lambda lib, m: m.to("cpu", lib.float64, True),
    "tensor, non_blocking": lambda lib, m: m.to(lib.zeros(1, dtype=lib.float64), True),
    "python float": lambda lib, m: m.to(float),
    "keywords": lambda lib, m: m.to(device="cpu", dtype=lib.float64, non_blocking=False),
    "copy keyword": lambda lib, m: m.to(lib.float64, copy=True),
    "copy positional": lambda lib, m: m.to(lib.float64, False, True),
    "unknown keyword": lambda lib, m: m.to(foo=1),
    "non_blocking int": lambda lib, m: m.to(non_blocking=1),
    "memory_format int": lambda lib, m: m.to(memory_format=5),
    "dtype, device": lambda lib, m: m.to(lib.float16, "cpu"),
    "five positionals": lambda lib, m: m.to("cpu", lib.float32, True, True, 5),
    "device=dtype": lambda lib, m: m.to(device=lib.float16),
    "int dtype": lambda lib, m: m.to(lib.int64),
}


@pytest.mark.parametrize("call", list(TO_CALLS))
def test_module_to_argument_parsing(call):
    def run(lib):
        m = lib.nn.Linear(2, 1)
        m.register_buffer("steps", lib.tensor([1]))
        result = TO_CALLS[call](lib, m)
        return result is m, m.weight.dtype, m.steps.dtype

    agree(call, run, [])


MEMORY_FORMATS = {
    "conv2d channels_last": (lambda lib: lib.nn.Conv2d(2, 3, 2), "channels_last", None),
    "conv2d channels_last float64": (lambda lib: lib.nn.Conv2d(2, 3, 2), "channels_last", "float64"),
    "conv3d channels_last_3d": (lambda lib: lib.nn.Conv3d(2, 3, 2), "channels_last_3d", None),
    "conv3d channels_last": (lambda lib: lib.nn.Conv3d(2, 3, 2), "channels_last", None),
    "linear channels_last": (lambda lib: lib.nn.Linear(2, 3), "channels_last", None),
    "conv2d contiguous": (lambda lib: lib.nn.Conv2d(2, 3, 2), "contiguous_format", None),
}


@pytest.mark.parametrize("case", list(MEMORY_FORMATS))
def test_module_to_memory_format(case):
    build, memory_format, dtype = MEMORY_FORMATS[case]

    def run(lib):
        m = build(lib)
        if memory_format == "contiguous_format":
            m.to(memory_format=lib.channels_last)
        args = () if dtype is None else (getattr(lib, dtype),)
        m.to(*args, memory_format=getattr(lib, memory_format))
        return m.weight.stride(), m.bias.stride(), m.weight.dtype

    agree(case, run, [])


# ----------------------------------------------------------------------------------------------
# #6, #7: PackedSequence computes unsorted_indices; its tensor-like methods
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sorted_indices", [[1, 0], [0, 1], None])
def test_packed_sequence_inverts_sorted_indices(sorted_indices):
    def run(lib):
        rnn = lib.nn.utils.rnn
        order = None if sorted_indices is None else lib.tensor(sorted_indices)
        packed = rnn.PackedSequence(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([2, 1]), order)
        return packed.unsorted_indices, rnn.pad_packed_sequence(packed), rnn.unpack_sequence(packed)

    agree(str(sorted_indices), run, [])


@pytest.mark.parametrize(
    "permutation", [[2, 0, 1], [0], [], [3, 1, 0, 2]], ids=["three", "one", "empty", "four"]
)  # fmt: skip
def test_invert_permutation(permutation):
    agree(
        str(permutation),
        lambda lib: lib.nn.utils.rnn.invert_permutation(lib.tensor(permutation, dtype=lib.int64)),
        [],
    )
    assert tritongrad.nn.utils.rnn.invert_permutation(None) is None


@pytest.mark.parametrize(
    "method", ["double", "float", "half", "long", "int", "short", "char", "byte", "cpu", "to(float64)", "is_pinned"]
)
def test_packed_sequence_tensor_methods(method):
    def run(lib):
        seqs = [lib.tensor([1.0, 2.0]), lib.tensor([3.0]), lib.tensor([4.0, 5.0, 6.0])]
        packed = lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
        if method == "is_pinned":
            return packed.is_pinned(), packed.is_cuda
        result = packed.to(lib.float64) if method == "to(float64)" else getattr(packed, method)()
        return (
            type(result).__name__, result.data, result.batch_sizes, result.sorted_indices, result.unsorted_indices,
            result is packed,
        )  # fmt: skip

    agree(method, run, [])


@pytest.mark.parametrize("form", ["list batch_sizes", "pair", "replace"])
def test_packed_sequence_construction_forms(form):
    def run(lib):
        rnn = lib.nn.utils.rnn
        if form == "list batch_sizes":
            return rnn.PackedSequence(lib.ones(3), [2, 1])
        if form == "pair":
            packed = rnn.PackedSequence((lib.ones(3), lib.tensor([2, 1])))
        else:
            packed = rnn.pack_sequence([lib.tensor([1.0, 2.0]), lib.tensor([3.0])])._replace(data=lib.zeros(3))
        return tuple(packed)

    agree(form, run, [])


# ----------------------------------------------------------------------------------------------
# #8, #8b: Module.__setstate__; deepcopy of an uninitialized lazy module / UninitializedParameter
# ----------------------------------------------------------------------------------------------


def test_super_setstate_in_deepcopy():
    def run(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(1, 1)

            def __setstate__(self, state):
                super().__setstate__(state)
                self.extra = 1

        m = M()
        m.register_buffer("hidden", lib.zeros(1), persistent=False)
        copied = copy.deepcopy(m)
        return copied.extra, sorted(copied.state_dict()), sorted(copied._non_persistent_buffers_set)

    agree("deepcopy", run, [])


def test_setstate_fills_the_tables_an_old_pickle_lacks():
    def run(lib):
        m = lib.nn.Linear(1, 1)
        state = dict(pickle.loads(pickle.dumps(m)).__dict__)
        del state["_non_persistent_buffers_set"], state["_forward_pre_hooks"]
        fresh = lib.nn.Linear.__new__(lib.nn.Linear)
        fresh.__setstate__(state)
        return fresh._non_persistent_buffers_set, len(fresh._forward_pre_hooks), fresh(lib.ones(1, 1)).shape

    agree("setstate", run, [])


@pytest.mark.parametrize("lazy", ["LazyLinear", "LazyConv1d", "UninitializedParameter"])
def test_deepcopy_of_uninitialized_lazy(lazy):
    def run(lib):
        if lazy == "UninitializedParameter":
            p = lib.nn.UninitializedParameter()
            copied = copy.deepcopy(p)
            return type(copied).__name__, copied.requires_grad, copied is p
        m = getattr(lib.nn, lazy)(3) if lazy == "LazyLinear" else lib.nn.LazyConv1d(3, 2)
        copied = copy.deepcopy(m)
        x = lib.ones(1, 2) if lazy == "LazyLinear" else lib.ones(1, 2, 4)
        return tuple(copied(x).shape), type(copied.weight).__name__, type(m.weight).__name__

    agree(lazy, run, [])


# ----------------------------------------------------------------------------------------------
# #8d: zero_grad(set_to_none=False) zeroes a view grad in place (Module and Optimizer)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", ["module", "optimizer"])
@pytest.mark.parametrize("grad_kind", ["view", "plain", "with graph"])
def test_zero_grad_of_a_view_grad(owner, grad_kind):
    def run(lib):
        p = lib.nn.Parameter(lib.ones(2))
        base = lib.ones(3, 2)
        if grad_kind == "view":
            p.grad = base[1]
        elif grad_kind == "plain":
            p.grad = lib.full((2,), 3.0)
        else:
            leaf = lib.ones(2, requires_grad=True)
            p.grad = leaf * 2
        if owner == "module":
            m = lib.nn.Module()
            m.p = p
            m.zero_grad(set_to_none=False)
        else:
            lib.optim.SGD([p], lr=1.0).zero_grad(set_to_none=False)
        return base, p.grad, p.grad.requires_grad, p.grad.grad_fn is None

    agree(f"{owner} {grad_kind}", run, [])


# ----------------------------------------------------------------------------------------------
# #9: weight_norm's dim range (both versions); #11 requires_grad_; #14 calculate_gain's int
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["parametrizations", "hook"])
@pytest.mark.parametrize("dim", [3, -3, 2, -2, 1, 0, -1, None])
def test_weight_norm_dim_range(version, dim):
    def run(lib):
        m = lib.nn.Linear(3, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            if version == "hook":
                lib.nn.utils.weight_norm(m, dim=dim)
                return m.weight_g.shape, m.weight.shape
            lib.nn.utils.parametrizations.weight_norm(m, dim=dim)
        return m.parametrizations.weight.original0.shape, m.weight.shape

    agree(f"{version} {dim}", run, [])


def test_weight_norm_of_a_missing_bias():
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            lib.nn.utils.weight_norm(lib.nn.Linear(2, 2, bias=False), name="bias")

    agree("bias None", run, [])


@pytest.mark.parametrize("value", [0, 1, 1.0, None, True, False])
def test_module_requires_grad_refuses_non_bool(value):
    def run(lib):
        m = lib.nn.Linear(1, 1)
        m.requires_grad_(value)
        return m.weight.requires_grad

    agree(repr(value), run, [])
    assert tritongrad.nn.Module().requires_grad_(0) is not None  # (no parameter: nothing refuses, as torch's)


@pytest.mark.parametrize(
    "nonlinearity",
    ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
     "tanh", "relu", "leaky_relu", "selu"],
)  # fmt: skip
def test_calculate_gain_types(nonlinearity):
    ours, theirs = tritongrad.nn.init.calculate_gain(nonlinearity), torch.nn.init.calculate_gain(nonlinearity)
    assert (type(ours), ours) == (type(theirs), theirs)


# ----------------------------------------------------------------------------------------------
# #16, #18: assignment before Module.__init__(); torch.typename in the assignment TypeErrors
# ----------------------------------------------------------------------------------------------

BEFORE_INIT = {
    "register_buffer": lambda lib, self: self.register_buffer("x", lib.zeros(1)),
    "register_parameter": lambda lib, self: self.register_parameter("x", None),
    "parameter": lambda lib, self: setattr(self, "w", lib.nn.Parameter(lib.ones(1))),
    "module": lambda lib, self: setattr(self, "l", lib.nn.ReLU()),
    "buffer": lambda lib, self: setattr(self, "b", lib.nn.Buffer(lib.zeros(1))),
    "plain attribute": lambda lib, self: setattr(self, "x", 1),
}


@pytest.mark.parametrize("what", list(BEFORE_INIT))
def test_assignment_before_module_init(what):
    def run(lib):
        class Early(lib.nn.Module):
            def __init__(self):
                BEFORE_INIT[what](lib, self)
                super().__init__()
                self.y = 2

        m = Early()
        return m.y, getattr(m, "x", None)

    agree(what, run, [])


def _spelled_as_torch(text: str) -> str:
    return text.replace("tritongrad", "torch")


ASSIGNMENTS = {
    "tensor as parameter": lambda lib, m: setattr(m, "weight", lib.zeros(3, 2)),
    "double tensor as parameter": lambda lib, m: setattr(m, "weight", lib.zeros(1, dtype=lib.float64)),
    "int as parameter": lambda lib, m: setattr(m, "weight", 3),
    "int as buffer": lambda lib, m: (m.register_buffer("b", lib.zeros(1)), setattr(m, "b", 3)),
    "ReLU as parameter": lambda lib, m: setattr(m, "weight", lib.nn.ReLU()),
    "int as child": lambda lib, m: (setattr(m, "c", lib.nn.ReLU()), setattr(m, "c", 3)),
    "tensor as child": lambda lib, m: (setattr(m, "c", lib.nn.ReLU()), setattr(m, "c", lib.zeros(1))),
    "register_buffer int": lambda lib, m: m.register_buffer("q", 3),
    "register_parameter tensor": lambda lib, m: m.register_parameter("q", lib.zeros(1)),
    "add_module tensor": lambda lib, m: m.add_module("q", lib.zeros(1)),
    "add_module OrderedDict": lambda lib, m: m.add_module("q", OrderedDict()),
    "add_module int name and value": lambda lib, m: m.add_module(3, 3),
    "register_parameter name": lambda lib, m: m.register_parameter(3, None),
}


@pytest.mark.parametrize("case", list(ASSIGNMENTS))
def test_assignment_type_errors_name_torch_typename(case):
    errors = []
    for lib in (torch, tritongrad):
        with pytest.raises((TypeError, KeyError, AttributeError)) as raised:
            ASSIGNMENTS[case](lib, lib.nn.Linear(2, 3))
        errors.append((type(raised.value), _spelled_as_torch(str(raised.value))))
    assert errors[1] == errors[0]


# ----------------------------------------------------------------------------------------------
# #15: RemovableHandle, nn.utils.stateless, _get_name, consume_prefix..., _non_persistent_buffers_set
# ----------------------------------------------------------------------------------------------


def test_removable_handle_ids_and_removal():
    def run(lib):
        a, b = lib.nn.Linear(1, 1), lib.nn.ReLU()
        calls = []
        first = a.register_forward_hook(lambda *args: calls.append("a"))
        second = b.register_forward_pre_hook(lambda *args: calls.append("b"))
        third = a.register_forward_hook(lambda *args: calls.append("always"), always_call=True)
        with b.register_forward_hook(lambda *args: calls.append("ctx")) as fourth:
            b(lib.ones(1))
        b(lib.ones(1))
        second.remove()
        third.remove()
        a(lib.ones(1))
        b(lib.ones(1))
        return (
            second.id - first.id, third.id - second.id, fourth.id - third.id, calls,
            isinstance(first, lib.utils.hooks.RemovableHandle), len(a._forward_hooks_always_called),
        )  # fmt: skip

    agree("handles", run, [])


def test_stateless_functional_call_warns_and_calls():
    def run(lib):
        m = lib.nn.Linear(2, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(
                m, {"weight": lib.ones(1, 2), "bias": lib.zeros(1)}, (lib.tensor([[1.0, 2.0]]),)
            )
        return out, [w.category.__name__ for w in caught], m.weight.shape

    agree("stateless", run, [])


def test_get_name_and_repr_override():
    def run(lib):
        class Named(lib.nn.Linear):
            def _get_name(self):
                return "Renamed"

        return lib.nn.Linear(1, 1)._get_name(), repr(Named(1, 2)), repr(lib.nn.Sequential(Named(1, 1)))

    agree("_get_name", run, [])


@pytest.mark.parametrize("prefix", ["module.", "other.", ""])
def test_consume_prefix_in_state_dict(prefix):
    def run(lib):
        model = lib.nn.Sequential(OrderedDict(module=lib.nn.Sequential(lib.nn.Linear(1, 1))))
        state = model.state_dict()
        lib.nn.modules.utils.consume_prefix_in_state_dict_if_present(state, prefix)
        return list(state), list(state._metadata)

    agree(prefix, run, [])


def test_non_persistent_buffers_set_name():
    def run(lib):
        m = lib.nn.Module()
        m.register_buffer("a", lib.zeros(1), persistent=False)
        m.register_buffer("b", lib.zeros(1))
        m.b = lib.nn.Buffer(lib.zeros(1), persistent=False)
        return sorted(m._non_persistent_buffers_set), list(m.state_dict())

    agree("set", run, [])


# ----------------------------------------------------------------------------------------------
# #10: nn.init on complex tensors (real and imaginary parts each filled; normal's std / sqrt(2) a part)
# ----------------------------------------------------------------------------------------------

COMPLEX_INITS = {
    "uniform_": lambda lib, x: lib.nn.init.uniform_(x, 1.0, 2.0),
    "normal_": lambda lib, x: lib.nn.init.normal_(x, 0.5, 2.0),
    "xavier_uniform_": lambda lib, x: lib.nn.init.xavier_uniform_(x),
    "xavier_normal_": lambda lib, x: lib.nn.init.xavier_normal_(x),
    "kaiming_uniform_": lambda lib, x: lib.nn.init.kaiming_uniform_(x),
    "kaiming_normal_": lambda lib, x: lib.nn.init.kaiming_normal_(x),
    "sparse_": lambda lib, x: lib.nn.init.sparse_(x, 0.5),
    "uniform_ a>b": lambda lib, x: lib.nn.init.uniform_(x, 2.0, 1.0),
}


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("init", list(COMPLEX_INITS))
def test_init_fills_complex_tensors(init, dtype):
    def run(lib):
        x = lib.zeros(4, 6, dtype=getattr(lib, dtype))
        result = COMPLEX_INITS[init](lib, x)
        parts = lib.view_as_real(x)
        filled = bool((parts[..., 1] != 0).any()) and bool((parts[..., 0] != 0).any())
        in_range = bool(((parts >= 1.0) & (parts <= 2.0)).all()) if init == "uniform_" else None
        zeros_per_column = (x == 0).sum(0).tolist() if init == "sparse_" else None
        return result is x, x.dtype, filled, in_range, zeros_per_column

    agree(f"{init} {dtype}", run, [])


def test_complex_normal_part_spread():
    x = tritongrad.zeros(20000, dtype=tritongrad.complex128)
    tritongrad.nn.init.normal_(x, 1.0, 2.0)
    parts = tritongrad.view_as_real(x)
    for part in (parts[:, 0], parts[:, 1]):
        assert abs(float(part.mean()) - 1.0) < 0.05
        assert abs(float(part.std()) - 2.0 / 2**0.5) < 0.05


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 2)])
def test_eye_of_complex(shape):
    agree(str(shape), lambda lib: lib.nn.init.eye_(lib.full(shape, 5 + 1j, dtype=lib.complex64)), [])


@pytest.mark.parametrize("layer", ["Linear", "Conv1d", "Bilinear"])
def test_complex_layers_build(layer):
    def run(lib):
        build = {
            "Linear": lambda: lib.nn.Linear(2, 3, dtype=lib.complex64),
            "Conv1d": lambda: lib.nn.Conv1d(1, 2, 2, dtype=lib.complex64),
            "Bilinear": lambda: lib.nn.Bilinear(2, 2, 1, dtype=lib.complex64),
        }[layer]
        module = build()
        return [(name, p.dtype, tuple(p.shape)) for name, p in module.named_parameters()]

    agree(layer, run, [])


CONTAINER_WRITES = {
    "module_list_int": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()]).__setitem__(0, 3),
    "module_list_negative_index": lambda lib: len(_written(lib.nn.ModuleList([lib.nn.ReLU()]), -1, lib.nn.Tanh())),
    "module_list_none": lambda lib: repr(_written(lib.nn.ModuleList([lib.nn.ReLU()]), 0, None)),
    "module_list_out_of_range": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()]).__setitem__(3, lib.nn.Tanh()),
    "sequential_int": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).__setitem__(0, 3),
    "module_dict_int": lambda lib: lib.nn.ModuleDict({"a": lib.nn.ReLU()}).__setitem__("a", 3),
}


def _written(container, index, value):
    container[index] = value
    return container


@pytest.mark.parametrize("case", CONTAINER_WRITES, ids=list(CONTAINER_WRITES))
def test_container_item_assignment_as_torch(case):
    agree(case, CONTAINER_WRITES[case], [])

"""The tenth red-team round's Tensor-surface findings (scripts4b #6, #10; autograd2 #8-#12, #22;
scripts4a #9), each compared with torch by ``agree``: the value, or the exception type and the head of
its message (where a case checks more of torch's wording, it says so)."""

from __future__ import annotations

import contextlib
import inspect
import re
import warnings

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tritongrad.dtypes import tensor_type_name

# ----------------------------------------------------------------------------------------------
# scripts4b #6: Tensor methods take no out= (so numpy's reductions called on a tensor raise as torch's)
# ----------------------------------------------------------------------------------------------

# (call, whether torch's message is the plain "got an unexpected keyword argument" form tritongrad gives)
METHOD_OUT_CASES = {
    "exp(out=buffer)": (lambda lib, x: x.exp(out=lib.empty(2)), False),
    "mean(0, out=None)": (lambda lib, x: x.mean(0, out=None), True),
    "add(1, out=None)": (lambda lib, x: x.add(1, out=None), True),
    "matmul(x, out=None)": (lambda lib, x: x.matmul(x, out=None), True),
    "cumsum(0, out=None)": (lambda lib, x: x.cumsum(0, out=None), True),
    "argmax(out=None)": (lambda lib, x: x.argmax(out=None), True),
    "sum(out=None)": (lambda lib, x: x.sum(out=None), False),
    "clamp(0, 1, out=None)": (lambda lib, x: x.clamp(0, 1, out=None), False),
    "sort(out=None)": (lambda lib, x: x.sort(out=None), False),
    "min(out=None)": (lambda lib, x: x.min(out=None), False),
    "std(out=None)": (lambda lib, x: x.std(out=None), False),
    "all(out=None)": (lambda lib, x: x.all(out=None), False),
    "norm(out=None)": (lambda lib, x: x.norm(out=None), True),
    "norm(2, None, False, None, None)": (lambda lib, x: x.norm(2, None, False, None, None), True),
    "lu(out=None)": (lambda lib, x: x.reshape(2, 1).lu(out=None), True),
    "lu(True, False, None)": (lambda lib, x: x.reshape(2, 1).lu(True, False, None), True),
}


@pytest.mark.parametrize("case", list(METHOD_OUT_CASES))
def test_a_method_refuses_out(case):
    call, plain_message = METHOD_OUT_CASES[case]
    agree(case, lambda lib: call(lib, lib.tensor([1.0, 2.0])), [], message=plain_message)


NUMPY_CALLS = {
    "np.sum": lambda x: np.sum(x),
    "np.mean": lambda x: np.mean(x),
    "np.max": lambda x: np.max(x),
    "np.min": lambda x: np.min(x),
    "np.prod": lambda x: np.prod(x),
    "np.any": lambda x: np.any(x),
    "np.all": lambda x: np.all(x),
    "np.amax": lambda x: np.amax(x),
    "np.sum(axis=1)": lambda x: np.sum(x.reshape(1, 2), axis=1),
    # numpy retries these through an array when the method raises TypeError: both give a tensor back
    "np.cumsum": lambda x: np.cumsum(x),
    "np.argmax": lambda x: np.argmax(x),
}


@pytest.mark.parametrize("name", list(NUMPY_CALLS))
def test_numpy_functions_on_a_tensor(name):
    # (torch's messages name whichever keyword its parser meets first: the type is what is compared)
    agree(name, lambda lib: NUMPY_CALLS[name](lib.tensor([1.0, 2.0])), [], message=False)


FUNCTION_FORMS_WITH_OUT = {
    "exp": lambda lib, x, out: lib.exp(x, out=out),
    "add": lambda lib, x, out: lib.add(x, 1, out=out),
    "norm": lambda lib, x, out: lib.norm(x, 2, 0, True, out=out[:1]),
    "sum": lambda lib, x, out: lib.sum(x, 0, keepdim=True, out=out[:1]),
}


@pytest.mark.parametrize("name", list(FUNCTION_FORMS_WITH_OUT))
def test_function_forms_keep_out(name):
    def run(lib):
        out = lib.zeros(2)
        result = FUNCTION_FORMS_WITH_OUT[name](lib, lib.tensor([3.0, 4.0]), out)
        return result, out

    agree(name, run, [])


def test_norm_method_takes_dtype_in_fourth_place():
    def run(lib):
        return lib.tensor([[1.0, 2.0], [3.0, 4.0]]).norm(2, 1, True, lib.float64)

    agree("x.norm(2, 1, True, float64)", run, [])


def test_method_signature_has_no_out():
    for name in ("sum", "exp", "add", "norm", "lu", "sort"):
        assert "out" not in inspect.signature(getattr(tritongrad.Tensor, name)).parameters, name


# ----------------------------------------------------------------------------------------------
# autograd2 #8, #9: inference tensors outside inference_mode: every write that would move a version
# is refused (in-place view ops, set_, resize_, out=), except through detach()/.data made outside
# ----------------------------------------------------------------------------------------------


def _inference(lib, *shape):
    with lib.inference_mode():
        return lib.ones(*shape)


INFERENCE_WRITES = {
    "resize_": lambda lib, a: a.resize_(4),
    "resize_ to its size": lambda lib, a: a.resize_(3),
    "resize_as_ of its size": lambda lib, a: a.resize_as_(lib.ones(3)),
    "unsqueeze_": lambda lib, a: a.unsqueeze_(0),
    "squeeze_ (no change)": lambda lib, a: a.squeeze_(),
    "t_": lambda lib, a: a.t_(),
    "transpose_": lambda lib, a: a.transpose_(0, 0),
    "swapaxes_": lambda lib, a: a.swapaxes_(0, 0),
    "swapdims_": lambda lib, a: a.swapdims_(0, 0),
    "as_strided_": lambda lib, a: a.as_strided_((3,), (1,)),
    "set_(tensor)": lambda lib, a: a.set_(lib.ones(4)),
    "set_()": lambda lib, a: a.set_(),
    "out= add": lambda lib, a: lib.add(lib.ones(3), 1, out=a),
    "out= exp": lambda lib, a: lib.exp(lib.ones(3), out=a),
    "out= mm": lambda lib, a: lib.mm(lib.ones(3, 1), lib.ones(1, 1), out=a.view(3, 1)),
    "out= cat": lambda lib, a: lib.cat([lib.ones(1), lib.ones(2)], out=a),
    "out= clamp": lambda lib, a: lib.clamp(lib.ones(3), 0, 1, out=a),
    "out= where": lambda lib, a: lib.where(lib.ones(3) > 0, lib.ones(3), lib.ones(3), out=a),
    "out= sort": lambda lib, a: lib.sort(lib.ones(3), out=(a, lib.empty(3, dtype=lib.int64))),
    "out= resized": lambda lib, a: lib.add(lib.ones(4), 1, out=a),
    "add_": lambda lib, a: a.add_(1),
    "fill_": lambda lib, a: a.fill_(2),
    "copy_": lambda lib, a: a.copy_(lib.zeros(3)),
    "setitem": lambda lib, a: a.__setitem__(0, 5.0),
    "detach().add_": lambda lib, a: a.detach().add_(1),
    "data.add_": lambda lib, a: a.data.add_(1),
    "detach().detach().add_": lambda lib, a: a.detach().detach().add_(1),
    "detach()._version": lambda lib, a: a.detach()._version,
    "detach().is_inference()": lambda lib, a: a.detach().is_inference(),
    "data.is_inference()": lambda lib, a: a.data.is_inference(),
    "detach().unsqueeze_": lambda lib, a: a.detach().unsqueeze_(0),
    "detach().resize_": lambda lib, a: a.detach().resize_(2),
    "detach() as out=": lambda lib, a: lib.add(lib.ones(3), 1, out=a.detach()),
    "detach().view(3).add_": lambda lib, a: a.detach().view(3).add_(1),
    "detach()[0] = 5": lambda lib, a: a.detach().__setitem__(0, 5.0),
    "detach().requires_grad_()": lambda lib, a: a.detach().requires_grad_(),
    "view(3).add_": lambda lib, a: a.view(3).add_(1),
    "_version": lambda lib, a: a._version,
    "requires_grad_(False)": lambda lib, a: a.requires_grad_(False),
    "detach_": lambda lib, a: a.detach_(),
    "data =": lambda lib, a: setattr(a, "data", lib.zeros(3)),
}


@pytest.mark.parametrize("case", list(INFERENCE_WRITES))
def test_writes_into_an_inference_tensor_outside_the_mode(case):
    agree(case, lambda lib: INFERENCE_WRITES[case](lib, _inference(lib, 3)), [])


@pytest.mark.parametrize("case", ["detach() made inside the mode", "view made inside the mode"])
def test_aliases_made_inside_the_mode_stay_unwritable(case):
    def run(lib):
        with lib.inference_mode():
            a = lib.ones(3)
            alias = a.detach() if case.startswith("detach") else a.view(3)
        return alias.add_(1)

    agree(case, run, [])


@pytest.mark.parametrize("case", ["out= add", "out= resized", "unsqueeze_", "resize_", "set_(tensor)"])
def test_a_refused_write_that_bumps_afterwards_has_happened(case):
    # torch moves the version after the write (out=, the in-place view ops): the error comes with the change made
    def run(lib):
        a = _inference(lib, 3)
        with contextlib.suppress(RuntimeError), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (out= resized: the deprecation warning)
            INFERENCE_WRITES[case](lib, a)
        return tuple(a.shape), a[:3].clone() if case != "resize_" else tuple(a[:3].shape)

    agree(case, run, [])


def test_writes_inside_the_mode_are_allowed():
    def run(lib):
        with lib.inference_mode():
            a = lib.ones(3)
            a.unsqueeze_(0)
            lib.add(lib.ones(1, 3), 1, out=a)
            a.resize_(4)
            return tuple(a.shape), a[:3].clone()

    agree("inside", run, [])


# ----------------------------------------------------------------------------------------------
# autograd2 #10: nn.Parameter(inference tensor)
# ----------------------------------------------------------------------------------------------

PARAMETER_CASES = {
    "Parameter(a)": lambda lib, a: lib.nn.Parameter(a),
    "Parameter(a, False).is_inference()": lambda lib, a: lib.nn.Parameter(a, requires_grad=False).is_inference(),
    "Parameter(a, False).add_": lambda lib, a: lib.nn.Parameter(a, requires_grad=False).add_(1).detach(),
    "Parameter(a, False).requires_grad_()": lambda lib, a: lib.nn.Parameter(a, requires_grad=False).requires_grad_(),
    "Parameter(a, 1)": lambda lib, a: lib.nn.Parameter(lib.ones(2), 1),
    "Parameter(a, None)": lambda lib, a: lib.nn.Parameter(lib.ones(2), None),
    "Parameter(a, np.bool_)": lambda lib, a: lib.nn.Parameter(lib.ones(2), np.bool_(True)),
}


@pytest.mark.parametrize("case", list(PARAMETER_CASES))
def test_parameter_of_an_inference_tensor(case):
    agree(case, lambda lib: PARAMETER_CASES[case](lib, _inference(lib, 3)), [])


def test_parameter_inside_the_mode_and_of_a_normal_tensor():
    def run(lib):
        x = lib.ones(3)
        with lib.inference_mode():
            inside = lib.nn.Parameter(lib.ones(2))
            of_normal = lib.nn.Parameter(x)
        p = lib.nn.Parameter(x)
        x.add_(1)  # (the Parameter shares x's version counter, as torch's alias does)
        return inside.requires_grad, inside.is_inference(), of_normal.is_inference(), p._version

    agree("Parameter in the mode", run, [])


# ----------------------------------------------------------------------------------------------
# autograd2 #11: the requires_grad setter and requires_grad_()
# ----------------------------------------------------------------------------------------------


def _non_leaf(lib):
    return lib.ones(2, requires_grad=True) * 2


REQUIRES_GRAD_CASES = {
    "non-leaf.requires_grad = True": lambda lib: setattr(_non_leaf(lib), "requires_grad", True),
    "non-leaf.requires_grad = False": lambda lib: setattr(_non_leaf(lib), "requires_grad", False),
    "non-leaf.requires_grad = None": lambda lib: setattr(_non_leaf(lib), "requires_grad", None),
    "non-leaf.requires_grad_()": lambda lib: _non_leaf(lib).requires_grad_(),
    "non-leaf.requires_grad_(True)": lambda lib: _non_leaf(lib).requires_grad_(True),
    "non-leaf.requires_grad_(False)": lambda lib: _non_leaf(lib).requires_grad_(False),
    "non-leaf.requires_grad_(None)": lambda lib: _non_leaf(lib).requires_grad_(None),
    "requires_grad = 'yes'": lambda lib: setattr(lib.ones(2), "requires_grad", "yes"),
    "requires_grad = None": lambda lib: setattr(lib.ones(2), "requires_grad", None),
    "requires_grad = 1": lambda lib: setattr(lib.ones(2), "requires_grad", 1),
    "requires_grad = np.bool_": lambda lib: setattr(lib.ones(2), "requires_grad", np.bool_(True)),
    "requires_grad = tensor": lambda lib: setattr(lib.ones(2), "requires_grad", lib.tensor(True)),
    "int.requires_grad = 'yes'": lambda lib: setattr(lib.ones(2, dtype=lib.int64), "requires_grad", "yes"),
    "leaf.requires_grad = False": lambda lib: setattr(lib.ones(2, requires_grad=True), "requires_grad", False),
    "requires_grad_(None)": lambda lib: lib.ones(2).requires_grad_(None),
    "requires_grad_(1)": lambda lib: lib.ones(2).requires_grad_(1),
    "requires_grad_(0)": lambda lib: lib.ones(2).requires_grad_(0),
    "requires_grad_('yes')": lambda lib: lib.ones(2).requires_grad_("yes"),
    "requires_grad_(np.bool_)": lambda lib: lib.ones(2).requires_grad_(np.bool_(True)),
    "requires_grad_(tensor)": lambda lib: lib.ones(2).requires_grad_(lib.tensor(True)),
    "requires_grad_(requires_grad=1)": lambda lib: lib.ones(2).requires_grad_(requires_grad=1),
    "requires_grad_(requires_grad=False)": lambda lib: lib.ones(2).requires_grad_(requires_grad=False).requires_grad,
    "requires_grad_(x=True)": lambda lib: lib.ones(2).requires_grad_(x=True),
    "requires_grad_(True, True)": lambda lib: lib.ones(2).requires_grad_(True, True),
    "int.requires_grad_(None)": lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(None),
    "int.requires_grad_(False)": lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(False).requires_grad,
    "int.requires_grad_()": lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(),
}


@pytest.mark.parametrize("case", list(REQUIRES_GRAD_CASES))
def test_requires_grad_arguments(case):
    agree(case, REQUIRES_GRAD_CASES[case], [])


@pytest.mark.parametrize("value", [True, False])
def test_non_leaf_requires_grad_message_in_full(value):
    messages = []
    for lib in (torch, tritongrad):
        with pytest.raises(RuntimeError) as raised:
            _non_leaf(lib).requires_grad = value
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


# ----------------------------------------------------------------------------------------------
# autograd2 #12: .grad assignment
# ----------------------------------------------------------------------------------------------


def _leaf(lib):
    return lib.ones(2, 3, requires_grad=True)


def _assign(tensor, grad):
    tensor.grad = grad
    return tensor.grad


def _delete(tensor, grad):
    if grad is not None:
        tensor.grad = grad
    del tensor.grad
    return tensor.grad


GRAD_CASES = {
    "x.grad = x": lambda lib: (lambda x: _assign(x, x))(_leaf(lib)),
    "int x.grad = x": lambda lib: (lambda x: _assign(x, x))(lib.ones(2, dtype=lib.int64)),
    "x.grad = x.detach()": lambda lib: (lambda x: _assign(x, x.detach()))(_leaf(lib)),
    "del x.grad": lambda lib: _delete(_leaf(lib), lib.ones(2, 3)),
    "del x.grad (None)": lambda lib: _delete(_leaf(lib), None),
    "meta grad": lambda lib: _assign(_leaf(lib), lib.ones(2, 3, device="meta")),
    "meta grad of another size": lambda lib: _assign(_leaf(lib), lib.ones(3, device="meta")),
    "grad of a meta tensor": lambda lib: _assign(lib.ones(2, 3, device="meta", requires_grad=True), lib.ones(2, 3)),
    "float64 grad of another size": lambda lib: _assign(_leaf(lib), lib.ones(3, dtype=lib.float64)),
    "float64 meta grad": lambda lib: _assign(_leaf(lib), lib.ones(3, dtype=lib.float64, device="meta")),
    "grad of another size": lambda lib: _assign(_leaf(lib), lib.ones(3)),
    "numpy grad": lambda lib: _assign(_leaf(lib), np.ones((2, 3))),
    "list grad": lambda lib: _assign(_leaf(lib), [1.0]),
    "float grad": lambda lib: _assign(_leaf(lib), 3.0),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_grad_assignment(case):
    agree(case, GRAD_CASES[case], [])


@pytest.mark.parametrize("case", ["x.grad = x", "meta grad", "numpy grad"])
def test_grad_assignment_message_in_full(case):
    messages = []
    for lib in (torch, tritongrad):
        with pytest.raises((RuntimeError, TypeError)) as raised:
            GRAD_CASES[case](lib)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


# ----------------------------------------------------------------------------------------------
# scripts4a #9 and scripts4b #10: the scalar-of-requires-grad warning (grad mode on only), and
# index_reduce's beta warning. Both are once per process; set_warn_always gives them every time.
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _warn_always(lib):
    previous = lib.is_warn_always_enabled()
    lib.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        lib.set_warn_always(previous)


def _warning_texts(caught) -> list[str]:
    # (torch's C++ warnings end with where they were triggered; tritongrad's do not)
    return [re.sub(r" \(Triggered internally at .*\)$", "", str(w.message), flags=re.S) for w in caught]


SCALAR_READS = {
    "float": lambda lib, y, x: float(y),
    "complex": lambda lib, y, x: complex(y),
    "tensor([x[0], x[0]])": lambda lib, y, x: lib.tensor([x[0], x[0]]),
    "np.float64": lambda lib, y, x: np.float64(y),
    "int": lambda lib, y, x: int(y),
    "item": lambda lib, y, x: y.item(),
}


@pytest.mark.parametrize("grad_mode", [True, False])
@pytest.mark.parametrize("read", list(SCALAR_READS))
def test_scalar_of_requires_grad_warning(read, grad_mode):
    texts = []
    for lib in (torch, tritongrad):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 2).sum()
        with _warn_always(lib) as caught, lib.set_grad_enabled(grad_mode):
            SCALAR_READS[read](lib, y, x)
        texts.append(_warning_texts(caught))
    assert texts[1] == texts[0]


@pytest.mark.parametrize("in_place", [True, False])
@pytest.mark.parametrize("index", [[0, 0], [0, 9]])
def test_index_reduce_beta_warning(in_place, index):
    texts, errors = [], []
    for lib in (torch, tritongrad):
        x = lib.zeros(3, 4)
        with _warn_always(lib) as caught:
            try:
                op = x.index_reduce_ if in_place else x.index_reduce
                op(0, lib.tensor(index), lib.ones(2, 4), "amax")
                errors.append(None)
            except IndexError as error:
                errors.append(str(error))
        texts.append(_warning_texts(caught))
    assert texts[1] == texts[0] and errors[1] == errors[0]


def test_index_reduce_bad_reduce_does_not_warn():
    texts = []
    for lib in (torch, tritongrad):
        with _warn_always(lib) as caught, pytest.raises(RuntimeError, match="Expected reduce"):
            lib.zeros(3, 4).index_reduce_(0, lib.tensor([0, 0]), lib.ones(2, 4), "bad")
        texts.append(_warning_texts(caught))
    assert texts[1] == texts[0] == []


# ----------------------------------------------------------------------------------------------
# autograd2 #22: torch's C++ type names (the version-counter error) for bfloat16 and complex
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.complex64, torch.complex128, torch.float16, torch.float32])
def test_aten_type_name_is_torchs_version_error_name(dtype):
    x = torch.ones(3, dtype=dtype, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as raised:
        (y.abs() if dtype.is_complex else y).sum().backward()
    torch_name = re.search(r"modified by an inplace operation: \[(\S+) \[3\]\]", str(raised.value)).group(1)
    assert tensor_type_name(dtype, torch.device("cpu"), aten=True) == torch_name
    assert tensor_type_name(dtype, torch.device("cpu")) == torch.ones(1, dtype=dtype).type()

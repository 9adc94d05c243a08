"""The seventh red-team round's view findings (views #2, #4, #6, #7, #11 and the exception items of
sections C/D; autograd #4, #6, #16), each compared with torch by ``agree``: the value, or the
exception type and the head of its message."""

from __future__ import annotations

import re
import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# ----------------------------------------------------------------------------------------------
# views #2: detach() / .data / torch.detach share the storage, not the sizes
# ----------------------------------------------------------------------------------------------


def _resize_through_alias(lib, alias: str, resize: str, through_alias: bool):
    x = lib.arange(6.0)
    y = {"detach": x.detach, "data": lambda: x.data, "torch.detach": lambda: lib.detach(x)}[alias]()
    target = y if through_alias else x
    if resize == "grow":
        target.resize_(10)
    elif resize == "empty":
        target.resize_(0)
    elif resize == "as":
        target.resize_as_(lib.ones(3, 2))
    else:
        target.resize_(2, 3)
    return tuple(x.shape), tuple(y.shape), x[:6] if x.numel() >= 6 else x, x.untyped_storage().nbytes()


@pytest.mark.parametrize("alias", ["detach", "data", "torch.detach"])
@pytest.mark.parametrize("resize", ["2x3", "grow", "empty", "as"])
@pytest.mark.parametrize("through_alias", [True, False])
def test_resize_through_an_alias_keeps_the_other_sizes(alias, resize, through_alias):
    agree(
        f"{alias} {resize} {through_alias}",
        lambda lib: _resize_through_alias(lib, alias, resize, through_alias),
        [],
    )


def test_resize_of_a_parameter_data_leaves_the_parameter():
    def run(lib):
        p = lib.nn.Parameter(lib.arange(6.0))
        p.data.resize_(2, 3)
        return tuple(p.shape), p.detach()

    agree("Parameter.data.resize_", run, [])


# ----------------------------------------------------------------------------------------------
# views #6: in-place view ops bump the version and take torch's in-place node names
# ----------------------------------------------------------------------------------------------

IN_PLACE_VIEWS = {
    "t_": (lambda y: y.t_(), (3,)),
    "unsqueeze_": (lambda y: y.unsqueeze_(0), (3,)),
    "squeeze_()": (lambda y: y.squeeze_(), (1, 3)),
    "squeeze_(0)": (lambda y: y.squeeze_(0), (1, 3)),
    "squeeze_((0,))": (lambda y: y.squeeze_((0,)), (1, 3)),
    "transpose_": (lambda y: y.transpose_(0, 1), (2, 3)),
    "swapdims_": (lambda y: y.swapdims_(0, 1), (2, 3)),
    "swapaxes_": (lambda y: y.swapaxes_(0, 1), (2, 3)),
    "as_strided_": (lambda y: y.as_strided_((2,), (2,)), (3,)),
}


def _in_place_view(lib, name: str):
    op, shape = IN_PLACE_VIEWS[name]
    x = lib.arange(1.0, 1.0 + len(lib.ones(shape).flatten()), requires_grad=True)
    y = (x * 2).reshape(shape)
    op(y)
    (y * lib.arange(1.0, 1.0 + y.numel()).reshape(y.shape)).sum().backward()
    return y, type(y.grad_fn).__name__, y._version, x.grad


@pytest.mark.parametrize("name", list(IN_PLACE_VIEWS))
def test_in_place_view_ops_bump_the_version_and_name_their_node(name):
    agree(name, lambda lib: _in_place_view(lib, name), [])


def _saved_then_viewed_in_place(lib, no_grad: bool):
    a = lib.ones(3, requires_grad=True)
    b = a * 2
    c = b * b
    if no_grad:
        with lib.no_grad():
            b.unsqueeze_(0)
    else:
        b.t_()
    c.sum().backward()
    return a.grad


@pytest.mark.parametrize("no_grad", [True, False])
def test_in_place_view_of_a_saved_tensor_is_a_version_error(no_grad):
    # (the message differs after its head: torch says "output 0 of Mul", tritongrad the node's name)
    agree(f"no_grad={no_grad}", lambda lib: _saved_then_viewed_in_place(lib, no_grad), [], message=False)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _saved_then_viewed_in_place(tritongrad, no_grad)


def _versions_after(lib, steps):
    x = lib.ones(2, 3)
    versions = []
    for step in steps:
        step(x)
        versions.append(x._version)
    return versions, tuple(x.shape), x.stride()


RESIZE_VERSIONS = {
    "same sizes": [lambda x: x.resize_(2, 3)],
    "new sizes": [lambda x: x.resize_(3, 2), lambda x: x.resize_(6)],
    "shrink, grow": [lambda x: x.resize_(2), lambda x: x.resize_(8)],
    "resize_as_ same": [lambda x: x.resize_as_(x.new_ones(2, 3))],
    "view ops": [lambda x: x.t_(), lambda x: x.unsqueeze_(0), lambda x: x.squeeze_(0)],
}


@pytest.mark.parametrize("case", list(RESIZE_VERSIONS))
def test_versions_of_resizes_and_in_place_views(case):
    agree(case, lambda lib: _versions_after(lib, RESIZE_VERSIONS[case]), [])


# ----------------------------------------------------------------------------------------------
# views #4 / #14: set_ is torch's (offset from the source's own, contiguity, overloads, storages)
# ----------------------------------------------------------------------------------------------

SET_CASES = {
    "offset 1 into x[2:]": lambda x: (lambda: x[2:], 1, (2,)),
    "offset 0 into x[2:]": lambda x: (lambda: x[2:], 0, (2,)),
    "x[2:] with strides": lambda x: (lambda: x[2:], 0, (2,), (2,)),
    "x[::2] with a size": lambda x: (lambda: x[::2], 0, (2,)),
    "transposed with a size": lambda x: (lambda: x.reshape(2, 3).t(), 0, (2,)),
    "x[::2] alone": lambda x: (lambda: x[::2],),
    "transposed alone": lambda x: (lambda: x.reshape(2, 3).t(),),
    "stride None": lambda x: (lambda: x, 0, (2,), None),
    "growing the storage": lambda x: (lambda: x, 2, (5,)),
    "negative offset": lambda x: (lambda: x, -1, (2,)),
    "strides of another length": lambda x: (lambda: x, 0, (2,), (1, 2)),
    "no size (no such overload)": lambda x: (lambda: x, 1),
    "size None (no such overload)": lambda x: (lambda: x, 0, None, (1,)),
    "untyped storage with geometry": lambda x: (lambda: x.untyped_storage(), 2, (2, 2), (1, 2)),
    "untyped storage": lambda x: (lambda: x.untyped_storage(), 1, (2,)),
    "typed storage": lambda x: (lambda: x.storage(), 1, (2,)),
    "storage, negative offset": lambda x: (lambda: x.untyped_storage(), -1, (2,)),
    "an int source": lambda x: (lambda: 3,),
}


def _set(lib, case: str):
    x = lib.arange(6.0)
    source, *rest = SET_CASES[case](x)
    y = lib.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (TypedStorage is deprecated)
        y.set_(source(), *rest)
    return y[:4] if case == "growing the storage" else y, y.storage_offset(), y.stride(), y._version


@pytest.mark.parametrize("case", list(SET_CASES))
def test_set_as_torch(case):
    agree(case, lambda lib: _set(lib, case), [])


SET_AUTOGRAD = {
    "leaf requiring grad": lambda lib: lib.empty(0, requires_grad=True).set_(lib.arange(6.0)),
    "leaf requiring grad, no source": lambda lib: lib.empty(0, requires_grad=True).set_(),
    "another dtype": lambda lib: lib.empty(0).set_(lib.arange(6)),
    "half into int": lambda lib: lib.empty(0, dtype=lib.int32).set_(lib.ones(2, dtype=lib.float16)),
}


@pytest.mark.parametrize("case", list(SET_AUTOGRAD))
def test_set_refusals_as_torch(case):
    agree(case, SET_AUTOGRAD[case], [])


def _set_under_no_grad_and_on_a_non_leaf(lib):
    z = lib.empty(0, requires_grad=True)
    with lib.no_grad():
        z.set_(lib.arange(6.0))
    w = lib.ones(2, requires_grad=True) * 1
    w.set_(lib.arange(3.0))
    return z, z.requires_grad, type(w.grad_fn).__name__, w._version


def test_set_on_leaves_and_non_leaves_as_torch():
    agree("set_ under no_grad / non-leaf", _set_under_no_grad_and_on_a_non_leaf, [])

    def backward(lib):
        w = lib.ones(2, requires_grad=True) * 1
        w.set_(lib.arange(3.0))
        w.sum().backward()

    agree("backward through set_", backward, [])


# ----------------------------------------------------------------------------------------------
# views #11: as_strided of a non-contiguous input (the storage's offsets and strides)
# ----------------------------------------------------------------------------------------------

AS_STRIDED_INPUTS = {
    "x[::2]": (lambda x: x[::2], (2,), (2,), None),
    "transposed": (lambda x: x.reshape(2, 3).t(), (6,), (1,), None),
    "a column slice": (lambda x: x.reshape(2, 3)[:, 1:], (2,), (1,), None),
    "x[::2] with an offset": (lambda x: x[::2], (2, 2), (1, 2), 1),
    "a view of a view": (lambda x: x.as_strided((3,), (2,), 1), (2,), (1,), None),
    "reaching before the input": (lambda x: x[4:], (3,), (1,), 0),
}


def _as_strided(lib, case: str, requires_grad: bool):
    view, size, stride, offset = AS_STRIDED_INPUTS[case]
    x = lib.arange(1.0, 9.0, dtype=lib.float64, requires_grad=requires_grad)
    result = view(x * 1 if requires_grad else x).as_strided(size, stride, offset)
    if requires_grad:
        (result * lib.arange(1.0, 1.0 + result.numel(), dtype=lib.float64).reshape(size)).sum().backward()
    return result


@pytest.mark.parametrize("case", list(AS_STRIDED_INPUTS))
@pytest.mark.parametrize("requires_grad", [False, True])
def test_as_strided_of_a_non_contiguous_input(case, requires_grad):
    agree(case, lambda lib: _as_strided(lib, case, requires_grad), [])


def test_as_strided_of_an_expanded_input():
    agree("expanded, no grad", lambda lib: lib.arange(6.0).expand(2, 6).as_strided((3,), (1,), 2), [])
    x = tritongrad.arange(6.0, requires_grad=True)
    y = x.expand(2, 6).as_strided((3,), (1,), 2)
    with pytest.raises(NotImplementedError, match="share memory"):
        y.sum().backward()


def _as_strided_double_backward(lib):
    x = lib.arange(12.0, dtype=lib.float64, requires_grad=True)
    y = (x * 1).reshape(3, 4).t().as_strided((3, 3), (2, 1), 2)
    (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
    (g2,) = lib.autograd.grad((g * lib.arange(12.0, dtype=lib.float64)).sum(), x)
    return y, g, g2


def test_as_strided_of_a_transposed_input_twice_differentiated():
    agree("double backward", _as_strided_double_backward, [])


# ----------------------------------------------------------------------------------------------
# views #7: resize_ / resize_as_ with a memory format
# ----------------------------------------------------------------------------------------------

MEMORY_FORMATS = {
    "channels_last, same sizes": lambda lib, x: x.resize_(1, 2, 3, 4, memory_format=lib.channels_last),
    "channels_last, new sizes": lambda lib, x: x.resize_(2, 2, 3, 4, memory_format=lib.channels_last),
    "channels_last of rank 2": lambda lib, x: x.resize_(3, 8, memory_format=lib.channels_last),
    "channels_last of rank 5": lambda lib, x: x.resize_(1, 2, 3, 4, 1, memory_format=lib.channels_last),
    "channels_last_3d of rank 4": lambda lib, x: x.resize_(1, 2, 3, 4, memory_format=lib.channels_last_3d),
    "channels_last_3d": lambda lib, x: x.resize_(2, 3, 4, 5, 6, memory_format=lib.channels_last_3d),
    "preserve_format": lambda lib, x: x.resize_(2, 3, memory_format=lib.preserve_format),
    "contiguous_format": lambda lib, x: x.resize_(1, 2, 3, 4, memory_format=lib.contiguous_format),
    "resize_as_ channels_last": lambda lib, x: x.resize_as_(lib.ones(2, 2, 3, 1), memory_format=lib.channels_last),
    "resize_as_ preserve": lambda lib, x: x.resize_as_(
        lib.ones(1, 3, 2, 2).to(memory_format=lib.channels_last), memory_format=lib.preserve_format
    ),
    "resize_as_ of rank 1": lambda lib, x: x.resize_as_(lib.ones(3), memory_format=lib.channels_last),
}


def _resize_with_format(lib, case: str):
    x = lib.arange(24.0).reshape(1, 2, 3, 4)
    if case == "contiguous_format":
        x = x.to(memory_format=lib.channels_last)
    MEMORY_FORMATS[case](lib, x)
    return tuple(x.shape), x.stride(), x._version


@pytest.mark.parametrize("case", list(MEMORY_FORMATS))
def test_resize_with_a_memory_format(case):
    agree(case, lambda lib: _resize_with_format(lib, case), [])


# ----------------------------------------------------------------------------------------------
# autograd #4 (flatten returns self), #6 (inference mode), #16 (CopySlices in the repr)
# ----------------------------------------------------------------------------------------------

FLATTEN = {
    "1-d": ((3,), ()),
    "1-d flatten(0)": ((3,), (0,)),
    "flatten(1)": ((2, 3), (1,)),
    "flatten(-1)": ((2, 3), (-1,)),
    "flatten(0, 0)": ((2, 3), (0, 0)),
    "2-d": ((2, 3), ()),
    "0-d": ((), ()),
    "(2, 1, 3) flatten(1, 2)": ((2, 1, 3), (1, 2)),
}


def _flatten(lib, case: str):
    shape, arguments = FLATTEN[case]
    x = lib.ones(shape, requires_grad=True)
    y = x.flatten(*arguments)
    identity, leaf, base = y is x, y.is_leaf, y._base is x
    y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the .grad of a non-leaf)
        return identity, leaf, base, y.grad, lib.flatten(x, *arguments) is x


@pytest.mark.parametrize("case", list(FLATTEN))
def test_flatten_returns_self_when_nothing_changes(case):
    agree(case, lambda lib: _flatten(lib, case), [])


def _repr_after_setitem(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 1
    y[0] = 5
    z = x * 2
    return repr(y), repr(z), type(y.grad_fn).__name__, y.grad_fn.name()


def test_repr_prints_the_node_class_name():
    agree("CopySlices repr", _repr_after_setitem, [])


INFERENCE_VIEWS = {
    "slice": lambda y: y[1:],
    "detach": lambda y: y.detach(),
    "data": lambda y: y.data,
    "reshape": lambda y: y.reshape(3),
    "unbind": lambda y: y.unbind(0)[0],
    "as_strided": lambda y: y.as_strided((2,), (1,)),
    "expand": lambda y: y.expand(2, 3),
    "flatten": lambda y: y.flatten(),
    "clone": lambda y: y.clone(),
}


def _inference_view(lib, case: str, normal_base: bool):
    y = lib.ones(3)
    with lib.inference_mode():
        base = y if normal_base else lib.ones(3)
        view = INFERENCE_VIEWS[case](base)
    return view.is_inference(), view._version if not view.is_inference() else "inference"


@pytest.mark.parametrize("case", list(INFERENCE_VIEWS))
@pytest.mark.parametrize("normal_base", [True, False])
def test_views_taken_in_inference_mode(case, normal_base):
    agree(case, lambda lib: _inference_view(lib, case, normal_base), [])


@pytest.mark.parametrize("inside", [True, False])
def test_version_of_an_inference_tensor_is_torch_error(inside):
    def run(lib):
        with lib.inference_mode():
            i = lib.ones(2)
            if inside:
                return i._version
        return i[1:]._version

    agree(f"inside={inside}", run, [])


# ----------------------------------------------------------------------------------------------
# Exception types and messages (sections C/D)
# ----------------------------------------------------------------------------------------------

ERRORS = {
    "view()": lambda lib: lib.arange(6.0).view(),
    "view(())": lambda lib: lib.arange(6.0).view(()),
    "squeeze((0, 0))": lambda lib: lib.ones(1, 2, 1, 3).squeeze((0, 0)),
    "squeeze((1, 0, -4))": lambda lib: lib.ones(1, 2, 1, 3).squeeze((1, 0, -4)),
    "torch.squeeze([2, 2])": lambda lib: lib.squeeze(lib.ones(1, 2, 1, 3), [2, 2]),
    "squeeze_((0, 0))": lambda lib: lib.ones(1, 2, 1, 3).squeeze_((0, 0)),
    "unflatten float": lambda lib: lib.ones(2, 3).unflatten(0, (1.0, 2)),
    "unflatten bool": lambda lib: lib.ones(2, 3).unflatten(0, [True, 2]),
    "unflatten 0-d tensor size": lambda lib: lib.ones(2, 3).unflatten(0, (lib.tensor(1), 2)).shape,
    "movedim repeated source": lambda lib: lib.ones(2, 3, 4).movedim((0, 0), (1, 2)),
    "movedim repeated destination": lambda lib: lib.ones(2, 3, 4).movedim((0, 1), (1, 1)),
    "movedim negative source": lambda lib: lib.movedim(lib.ones(2, 3, 4), (0, -3), (1, 2)),
    "movedim negative destination": lambda lib: lib.moveaxis(lib.ones(2, 3, 4), (0, 1), (2, -1)),
    "expand -1 leading": lambda lib: lib.ones(2, 3).expand(-1, 2, 3),
    "expand -1 second leading": lambda lib: lib.ones(2, 3).expand(2, -1, 2, 3),
    "t_ of 3-d": lambda lib: lib.ones(2, 3, 4).t_(),
    "t of 3-d": lambda lib: lib.ones(2, 3, 4).t(),
    "diagonal(0, -2, 1)": lambda lib: lib.ones(2, 3, 4).diagonal(0, -2, 1),
    "diagonal(0, -1, 2)": lambda lib: lib.diagonal(lib.ones(2, 3, 4), 0, -1, 2),
    "diag_embed(0, 1, -3)": lambda lib: lib.diag_embed(lib.ones(2, 3, 4), 0, 1, -3),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_as_torch(case):
    agree(case, ERRORS[case], [])


def test_view_with_no_arguments_is_torch_type_error_text():
    with pytest.raises(TypeError) as theirs:
        torch.arange(6.0).view()
    with pytest.raises(TypeError, match=re.escape(str(theirs.value))):
        tritongrad.arange(6.0).view()

"""Forward-mode AD (torch.autograd.forward_ad): dual tensors carry a tangent through every op.

Inside ``with dual_level():``, ``make_dual(primal, tangent)`` returns a view of ``primal`` that carries
``tangent``; each op applied to it gives outputs whose tangent is the op's Jacobian applied to the
inputs' tangents, and ``unpack_dual(output).tangent`` reads it. Leaving the level drops every tangent
made in it. As torch's, one level at a time, and grad mode (no_grad) does not stop tangents.

How a tangent moves: every op runs through ``Function.apply``, which, while a level is open, hands the
call to ``_apply_with_tangents`` here (``function.forward_hook``). A call without a dual argument runs as
usual. For one with dual arguments the op runs as usual, and its outputs get tangents:

- a view op (its output shares the memory of its one dual input, laid out as that input's tangent)
  applies itself to the tangent: the output's tangent is a view of the input's, as torch's, so an
  in-place write through the view moves both;
- a user's Function calls its ``jvp(ctx, *tangents)`` with the ctx its forward filled (torch's rule:
  without a ``jvp`` it refuses);
- any other op gets J @ t from the backward it already has, by the double-vjp trick: on detached copies
  of its inputs, u -> J^T u is recorded with create_graph and differentiated w.r.t. u with grad_output
  t. That costs the op's forward again and two backward passes (this is tutorial-scale forward AD,
  not a fast path); the random state is restored after the copies' run, so a random op draws the same
  numbers for its copies as for its real inputs. An in-place op's tangent is written into the
  tangent its input already has, so it stays the same tensor, as torch's.

Left as torch does otherwise: tangents do not carry a history of their own for backward AD (a tangent
is computed from detached copies), and a write through a view into a base without a tangent does not
give the base one.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from tritongrad import creation, random
from tritongrad.autograd import function as _function
from tritongrad.autograd.engine import grad as _autograd_grad
from tritongrad.autograd.grad_mode import _GradModeContext, enable_grad, is_grad_enabled
from tritongrad.tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]


class _Level:
    """One forward-AD level: a tangent is read only while the level it was made in is open."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.open = True


_current: _Level | None = None


class _Bypass(threading.local):
    """Set while this thread runs an op (or a tangent's computation) on the hook's behalf: the ops it
    calls inside get no tangents of their own."""

    active = False


_bypass = _Bypass()


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal (a view without the tangent) and the tangent (or None)."""

    primal: Tensor
    tangent: Tensor | None


# ------------------------------------------------------------------------------------------------ levels
def enter_dual_level() -> int:
    """Opens a forward-AD level and returns its index (0: torch has no nesting)."""
    global _current
    if _current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current = _Level(0)
    _function.forward_hook = _apply_with_tangents
    return _current.index


def exit_dual_level(*, level: int | None = None) -> None:
    """Closes the open level: every tangent made in it is dropped."""
    global _current
    if _current is None or (level is not None and level != _current.index):
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    _current.open = False
    _current = None
    _function.forward_hook = None


class dual_level(_GradModeContext):
    """``with dual_level():`` (or ``@dual_level()``): a forward-AD level open inside."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc_info) -> None:
        exit_dual_level()

    def __call__(self, function):
        def wrapper(*args, **kwargs):
            with dual_level():
                return function(*args, **kwargs)

        return wrapper


def _tangent_of(tensor) -> Tensor | None:
    """``tensor``'s tangent at the open level, or None."""
    entry = tensor._forward_grad
    if entry is None or not entry[0].open:
        return None
    return entry[1]


# ---------------------------------------------------------------------------------------- dual tensors
def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (kept as it is when laid out as ``tensor``, else copied
    into that layout, as torch's)."""
    if _current is None and level is None:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if _current is None or (level is not None and level != _current.index):
        raise RuntimeError("Invalid level given to _make_dual")
    current = _current
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )
    if _tangent_of(tensor) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the same level "
            f"{current.index} is not supported."
        )
    with _bypassing():
        if tangent.stride() != tensor.stride():
            tangent = creation.empty_like(tensor, dtype=tangent.dtype).copy_(tangent)
        watched = tensor if tensor.requires_grad else tensor.detach().requires_grad_(True)
        with enable_grad():
            dual = _Dual.apply(watched)
    dual._forward_grad = (current, tangent)
    return dual


class _Dual(_function.Function):
    """The dual tensor: an alias of the primal that records (it requires grad), so that each op applied
    to it, and to what is computed from it, runs through ``Function.apply``, where its tangent is formed
    (tritongrad's ops go around ``apply`` when nothing records). Gradients reach the primal when it
    requires grad itself."""

    _backward_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, primal):
        return primal  # (apply returns a new tensor sharing its memory)

    @staticmethod
    def backward(ctx, grad):
        return grad


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent): at an open level the primal is a view of ``tensor`` without the tangent; with
    no level open it is ``tensor`` itself and the tangent None."""
    if _current is None:
        return UnpackedDualTensor(tensor, None)
    tangent = _tangent_of(tensor)
    if level is not None and level != _current.index:
        if tangent is not None:  # (torch's check, made only for a tensor with a tangent)
            raise RuntimeError("Invalid level given to _fw_primal")
        tangent = None
    with _bypassing():
        primal = tensor[...]
    return UnpackedDualTensor(primal, tangent)


# -------------------------------------------------------------------------------------- the op hook
class _bypassing:
    def __enter__(self) -> None:
        self._previous, _bypass.active = _bypass.active, True

    def __exit__(self, *exc_info) -> None:
        _bypass.active = self._previous


def _apply_with_tangents(cls: type, args: tuple, kwargs: dict) -> Any:
    """``cls.apply(*args, **kwargs)`` with tangents on its outputs; ``NOT_HANDLED`` when no argument
    carries one (Function.apply then runs the call itself)."""
    if _bypass.active:
        return _function.NOT_HANDLED
    tangents = [_tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return _function.NOT_HANDLED
    level = _current
    with _bypassing():
        if cls.jvp is not _function.Function.jvp:  # a user's rule, or one of tritongrad's linear bookkeeping ops
            outputs, output_tangents = _run_jvp_rule(cls, args, kwargs, tangents)
        elif cls._external:
            raise NotImplementedError(
                "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
            )
        else:
            snapshot = _Snapshot(args, kwargs, tangents)  # (before the op runs: it may write its inputs)
            outputs = cls.apply(*args, **kwargs)
            output_tangents = _view_tangents(cls, args, kwargs, tangents, outputs)
            if output_tangents is None:
                output_tangents = snapshot.jacobian_vector_products(cls)
        _attach(outputs, output_tangents, args, level)
    return outputs


def _view_tangents(cls, args, kwargs, tangents, outputs) -> list | None:
    """When ``outputs`` is one new view of the one dual input, whose tangent is laid out as that input:
    the same op applied to the tangent, a view of it (views are linear in their input, so this is
    exact). Else None."""
    duals = [i for i, t in enumerate(tangents) if t is not None]
    if len(duals) != 1 or not isinstance(outputs, Tensor) or outputs._base is None:
        return None
    index = duals[0]
    primal, tangent = args[index], tangents[index]
    if any(outputs is a for a in args):  # an in-place op (a view one too): its tangent is computed
        return None
    if outputs._base is not (primal._base if primal._base is not None else primal):
        return None
    if tangent.stride() != primal.stride() or tangent.storage_offset() != primal.storage_offset():
        return None
    return [cls.apply(*args[:index], tangent, *args[index + 1 :], **kwargs)]


class _Snapshot:
    """Detached copies of an op's arguments (those with tangents watched by autograd) and the random
    state, taken before the op runs: the op is run again on them to form J @ t from its backward."""

    def __init__(self, args: tuple, kwargs: dict, tangents: list) -> None:
        self.rng_state = random.get_rng_state()
        copies: dict[int, Tensor] = {}
        self.leaves, self.leaf_tangents = [], []

        def copy_of(value, tangent):
            if not isinstance(value, Tensor):
                return value
            if id(value) not in copies:  # (one copy per tensor: an op given x twice still sees one tensor)
                copy = value.detach().clone()
                if tangent is not None:
                    copy.requires_grad_(True)
                    self.leaves.append(copy)
                    self.leaf_tangents.append(tangent.to(copy.dtype))
                    copy = copy.clone()  # (not a leaf: an in-place op may write it)
                copies[id(value)] = copy
            return copies[id(value)]

        self.args = [copy_of(a, t) for a, t in zip(args, tangents, strict=True)]
        self.kwargs = {k: copy_of(v, None) for k, v in kwargs.items()}

    def jacobian_vector_products(self, cls) -> list:
        """J @ t for each output of ``cls.apply`` on the copies (None for one that depends on no tangent)."""
        after = random.get_rng_state()
        random.set_rng_state(self.rng_state)  # the copies draw what the op drew
        try:
            with enable_grad():
                outputs = cls.apply(*self.args, **self.kwargs)
        finally:
            random.set_rng_state(after)
        output_list = [outputs] if isinstance(outputs, Tensor) else list(outputs)
        found: list = [None] * len(output_list)
        differentiable = [(i, o) for i, o in enumerate(output_list) if isinstance(o, Tensor) and o.requires_grad]
        if not differentiable:
            return found
        with enable_grad():
            dummies = [creation.zeros_like(o).requires_grad_(True) for _, o in differentiable]
            transposed = _autograd_grad([o for _, o in differentiable], self.leaves, grad_outputs=dummies,
                                        create_graph=True, allow_unused=True)  # fmt: skip
            pairs = []
            for product, tangent in zip(transposed, self.leaf_tangents, strict=True):
                if product is None:
                    continue
                if product.requires_grad:
                    pairs.append((product, tangent))
                elif bool(product.ne(0).any()):
                    raise NotImplementedError(
                        f"forward-mode AD through {cls.__name__}: its backward is not differentiable, so its "
                        "Jacobian-vector product cannot be formed"
                    )
            if all(product is None for product in transposed):  # the outputs depend on no tangent
                return found
            products = [None] * len(dummies)
            if pairs:
                products = _autograd_grad([p for p, _ in pairs], dummies, grad_outputs=[t for _, t in pairs],
                                          allow_unused=True)  # fmt: skip
        for (i, o), product in zip(differentiable, products, strict=True):
            # (an output whose vector-Jacobian products are all zero, floor's, has a zero tangent)
            found[i] = creation.zeros_like(o) if product is None else product.detach()
        return found


def _run_jvp_rule(cls, args, kwargs, tangents):
    """A Function with a ``jvp``: its forward once, recorded so that its ctx is at hand, then its ``jvp``
    with each tensor input's tangent (zeros for a tensor without one, None for anything else)."""
    records = is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)
    if records:
        outputs = cls.apply(*args, **kwargs)
        recorded = outputs
    else:  # nothing would record: the floating inputs are watched by aliases, and the outputs detached
        watched = [a.detach().requires_grad_(True) if _differentiable(a) else a for a in args]
        with enable_grad():
            recorded = cls.apply(*watched, **kwargs)
    output_list = [recorded] if isinstance(recorded, Tensor) else list(recorded)
    ctx = next((o.grad_fn for o in output_list if isinstance(o, Tensor) and o.grad_fn is not None), None)
    if not records:
        detached = [o.detach() if isinstance(o, Tensor) else o for o in output_list]
        outputs = detached[0] if isinstance(recorded, Tensor) else type(recorded)(detached)
    if ctx is None:
        return outputs, [None] * len(output_list)
    given = [
        t if t is not None else (creation.zeros_like(a) if isinstance(a, Tensor) else None)
        for a, t in zip(args, tangents, strict=True)
    ]
    saved = ctx._saved
    ctx._saved = tuple(
        None if t is None else (t, t._version_counter, t._version_counter.value)
        for t in getattr(ctx, "saved_for_forward", ())
    )
    try:
        result = cls.jvp(ctx, *given)  # (recorded where it computes from tensors that require grad, as torch's)
    finally:
        ctx._saved = saved
    result = list(result) if isinstance(result, tuple) else [result]
    return outputs, result + [None] * (len(output_list) - len(result))


def _differentiable(value) -> bool:
    return isinstance(value, Tensor) and (value.is_floating_point() or value.is_complex())


def _attach(outputs, output_tangents: list, args: tuple, level: _Level) -> None:
    """Each output its tangent: written into the tangent an in-place op's input already has."""
    output_list = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    for output, tangent in zip(output_list, output_tangents, strict=False):
        if tangent is None or not _differentiable(output):
            continue
        existing = _tangent_of(output)
        if existing is not None and any(output is a for a in args):
            if existing is not tangent:
                existing.copy_(tangent)
            continue
        output._forward_grad = (level, tangent)

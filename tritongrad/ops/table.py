"""Op tables: one row declares an elementwise op, and everything else derives from the row.

A ``Unary`` or ``Binary`` row names the op, its kernel expression (a branch of
``unary_math``/``binary_math`` in kernels/elementwise.py, by default the op's own
name), its gradient and its dtype rule. From the row come

- the function (``tritongrad.log1p(x, *, out=None)``) and its aliases (``arcsin``), or for an
  op torch has only in ``torch.nn.functional`` (``elu``, ``softplus``) the function that
  tritongrad.nn.functional exports,
- the Tensor method (``x.log1p()``) and the in-place variant (``x.log1p_()``; a function such as
  ``torch.selu_`` or ``F.elu_`` where torch has no method),
- ``out=`` (written by the kernel straight into the given tensor),
- the grad_fn class name, torch's (``Log1PBackward0``), from the name or the row's override,
- the registries tests and benchmarks iterate (``UNARY``, ``BINARY``).

A gradient is a function of ``grad`` and whichever of the op's input (``x``; for binary
ops ``a`` and ``b``) and result (``out``) it names as parameters: only those are saved for
backward. A unary gradient may also name the op's own arguments (``elu``'s ``alpha``), which it
receives as the caller gave them (or their defaults). It is written with tritongrad ops, so it is
itself differentiable and ``create_graph=True`` gives higher derivatives. docs/adding-an-op.md walks through a row.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import as_python_scalar, dtype_word, get_default_dtype, refuse_complex, result_type
from tritongrad.kernels import complex as complex_kernels
from tritongrad.kernels import elementwise as kernels
from tritongrad.kernels.common import remember
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.inplace import apply_inplace, apply_untracked
from tritongrad.ops.out_argument import cast_into_out, check_castable, check_out, finish_out
from tritongrad.tensor import Tensor

__all__ = [
    "DtypeRule", "Unary", "Binary", "Derived", "FLOAT", "SAME", "SAME_NOT_BOOL", "SAME_NOT_BOOL_CASTING", "FLOAT_ONLY",
    "PREDICATE", "LOGICAL", "PROMOTE", "PROMOTE_FLOAT", "PROMOTE_FLOAT_ONLY", "SAME_DTYPES", "reduce_grad",
    "torch_node_name", "derive",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Dtype rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DtypeRule:
    """How an op's result dtype follows its operands' (promoted) dtype, and what torch refuses.

    ``result`` maps the input dtype (binary ops: the promoted dtype) to the result dtype;
    ``refuses`` says which input dtypes raise NotImplementedError like torch's kernels do;
    ``compute_in_input``: arithmetic happens in the input's dtype, not the result's (predicates
    such as isnan compare floats and return bools). ``exact_out``: an ``out=`` tensor must have
    the result dtype itself (torch casts only the results of floating and binary ops).
    """

    result: Callable[[torch.dtype], torch.dtype]
    refuses: Callable[[torch.dtype], bool] = lambda dtype: False
    compute_in_input: bool = False
    exact_out: bool = True

    def resolve(self, op: str, dtype: torch.dtype) -> torch.dtype:
        if self.refuses(dtype):
            raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{dtype_word(dtype)}'")
        return self.result(dtype)


def _floating(dtype: torch.dtype) -> torch.dtype:
    return dtype if dtype.is_floating_point else get_default_dtype()


def _same(dtype: torch.dtype) -> torch.dtype:
    return dtype


def _boolean(dtype: torch.dtype) -> torch.dtype:
    return torch.bool


def _is_bool(dtype: torch.dtype) -> bool:
    return dtype == torch.bool


def _not_floating(dtype: torch.dtype) -> bool:
    return not dtype.is_floating_point


def _is_floating(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point


def _not_integral(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point or dtype == torch.bool


# Unary rules (of the input's dtype)
FLOAT = DtypeRule(_floating, exact_out=False)  # integer and bool inputs give the default float dtype (exp, sin)
SAME = DtypeRule(_same)  # the input's dtype (sign, nan_to_num)
SAME_NOT_BOOL = DtypeRule(_same, refuses=_is_bool)  # abs, floor, round
FLOAT_ONLY = DtypeRule(_same, refuses=_not_floating)  # frac
SAME_NOT_BOOL_CASTING = DtypeRule(_same, refuses=_is_bool, exact_out=False)  # threshold: any out= it casts to
PREDICATE = DtypeRule(_boolean, compute_in_input=True)  # isnan, isinf, isposinf
LOGICAL = DtypeRule(_boolean, compute_in_input=True, exact_out=False)  # logical_not (any out= dtype)

# Binary rules (of torch.result_type(a, b)); binary ops cast their result to any out= dtype.
PROMOTE = DtypeRule(_same, exact_out=False)  # maximum, fmax
PROMOTE_FLOAT = FLOAT  # atan2, copysign, xlogy
PROMOTE_FLOAT_ONLY = DtypeRule(_same, refuses=_not_floating, exact_out=False)  # hypot, logaddexp
SAME_DTYPES = PROMOTE  # heaviside: the operands must already agree (checked by the row's `same_dtypes`)
INTEGRAL_OR_BOOL = DtypeRule(_same, refuses=_is_floating, exact_out=False)  # bitwise_and (any out= it casts to)
INTEGRAL_OR_BOOL_EXACT = DtypeRule(_same, refuses=_is_floating)  # bitwise_not (out= of its own dtype)
INTEGRAL = DtypeRule(_same, refuses=_not_integral, exact_out=False)  # bitwise shifts


# ---------------------------------------------------------------------------------------------
# Shared by every row
# ---------------------------------------------------------------------------------------------


def torch_node_name(op: str, overload: int = 0) -> str:
    """torch's grad_fn class name for ``op``: words capitalised, and a letter after a digit too
    (``log1p`` -> ``Log1PBackward0``, ``nan_to_num`` -> ``NanToNumBackward0``)."""
    camel = "".join(word[:1].upper() + word[1:] for word in op.split("_"))
    camel = re.sub(r"(?<=\d)([a-z])", lambda match: match.group(1).upper(), camel)
    return f"{camel}Backward{overload}"


def reduce_grad(grad, like):
    """Sums a broadcast gradient back to ``like``'s shape and casts it to ``like``'s dtype."""
    if grad is None:
        return None
    shape = tuple(like.shape)
    if tuple(grad.shape) != shape:
        grad = grad.sum_to_size(shape)
    if grad.dtype != like.dtype:
        grad = grad.to(like.dtype)
    return grad


def _saved_names(gradient: Callable | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The operands a gradient function reads, from its parameter names (after ``grad``)."""
    if gradient is None:
        return ()
    names = tuple(inspect.signature(gradient).parameters)
    if not names or names[0] != "grad" or any(name not in allowed for name in names[1:]):
        raise TypeError(f"a gradient takes (grad, then some of {allowed}), got {names}")
    return names[1:]


def _check_tensor(op: str, value, position: int, argument: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{op}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


# ---------------------------------------------------------------------------------------------
# Unary rows
# ---------------------------------------------------------------------------------------------


class UnaryFunction(Function):
    """The Function behind every unary row; each row gets a subclass per torch overload, carrying the
    row, the gradient that overload uses, what it saves and torch's node name."""

    row: Unary
    gradient: Callable
    saves: tuple[str, ...]

    @staticmethod
    def forward(ctx, x, scalars, arguments):
        node = ctx._function
        result = Tensor._wrap(node.row.launch(x, scalars))
        ctx.save_for_backward(*(x if name == "x" else result for name in node.saves if name in ("x", "out")))
        ctx.arguments = arguments
        return result

    @staticmethod
    def backward(ctx, grad):
        node = ctx._function
        saved = iter(ctx.saved_tensors)
        operands = {name: next(saved) if name in ("x", "out") else ctx.arguments[name] for name in node.saves}
        return node.gradient(grad, **operands), None, None

    @staticmethod
    def _saved_by_name(ctx) -> dict:
        saved = iter(ctx.saved_tensors)
        names = {"x": "self", "out": "result"}
        table = {names[name]: next(saved) for name in ctx._function.saves if name in names}
        return {**ctx.arguments, **table}


# The unary rows with a complex kernel (kernels/complex.py), by the row's name: the op there.
COMPLEX_UNARY = {"neg": "neg", "exp": "exp", "reciprocal": "reciprocal", "abs": "abs", "sgn": "sgn"}


def _launch_complex_unary(row: Unary, x: torch.Tensor, scalars: dict, out: torch.Tensor | None) -> torch.Tensor:
    """The complex kernel of ``row`` on x (into ``out``: a real result such as abs's is cast to a complex
    out, as torch's out= casts; in place, torch's refusal)."""
    op = COMPLEX_UNARY.get(row.name)
    if op is None or scalars:
        raise refuse_complex(row.name if op is None else row.kernel, x.dtype)
    if out is None or out.dtype.is_complex != (op in complex_kernels.REAL_RESULT_OPS):
        return complex_kernels.launch_complex(op, x, dtype=x.dtype, out=out)
    if out.data_ptr() == x.data_ptr():
        raise RuntimeError(f"In-place {row.name} is not supported for complex tensors.")
    if not out.dtype.is_complex:
        raise RuntimeError(f"result type {dtype_word(x.dtype)} can't be cast to the desired output type "
                           f"{dtype_word(out.dtype)}")  # fmt: skip
    return kernels.launch_unary("copy", complex_kernels.launch_complex(op, x, dtype=x.dtype), out=out)


@dataclass(eq=False)
class Unary:
    """One unary op. Only ``name`` and ``gradient`` are required (see the module docstring).

    ``gradient``: (grad, [x], [out], [the op's arguments by name]) -> the input's gradient; None:
    not differentiable. ``kernel``: the branch of ``unary_math`` (default: ``name``); torch's
    refusal messages name it too (``"elu_cpu" not implemented``, for selu as for elu).
    ``scalars``: (result dtype, *args, **kwargs) -> the kernel's p0/p1/p2, for ops with extra
    arguments; its parameters are torch's (``round``'s ``decimals``), which the function takes after
    the input. ``overload``: (*args, **kwargs) -> torch's overload number for the node name
    (``RoundBackward1`` when decimals is given). ``check``: an extra input check with torch's own
    message. ``inplace``: whether torch has an in-place variant; ``out``: whether its function takes
    ``out=``. ``method``: whether torch has ``x.op()`` (``torch.selu`` has none: its in-place variant
    is then the function ``torch.selu_``). ``functional``: torch has the op only in
    ``torch.nn.functional`` (``F.elu``, ``F.elu_``), not as ``torch.elu``. ``inplace_gradient``: the
    gradient torch's in-place variant records instead, as overload 1 (``elu_``'s ``EluBackward1``
    from the output).
    """

    name: str
    gradient: Callable | None
    dtype: DtypeRule = FLOAT
    kernel: str | None = None
    aliases: tuple[str, ...] = ()
    inplace: bool = True
    out: bool = True
    scalars: Callable | None = None
    overload: Callable | None = None
    grad_fn: str | None = None
    check: Callable | None = None
    method: bool = True
    functional: bool = False
    inplace_gradient: Callable | None = None
    doc: str = ""
    saves: tuple[str, ...] = field(init=False)
    _functions: dict = field(init=False, default_factory=dict)
    _arguments: inspect.Signature | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.kernel = self.kernel or self.name
        allowed = ("x", "out")
        if self.scalars is not None:
            self._arguments = inspect.signature(self.scalars)
            allowed += tuple(self._arguments.parameters)[1:]
        self.saves = _saved_names(self.gradient, allowed)
        if self.inplace_gradient is not None:
            _saved_names(self.inplace_gradient, allowed)

    def node(self, overload: int, inplace: bool = False) -> type[UnaryFunction]:
        """The Function subclass recorded for this op (one per torch overload name); ``inplace``: the
        in-place variant's, when the row has an ``inplace_gradient``."""
        inplace = inplace and self.inplace_gradient is not None
        if inplace:
            overload = 1
        if (overload, inplace) not in self._functions:
            base = self.grad_fn or torch_node_name(self.name)
            name = f"{base[:-1]}{overload}" if base.endswith("Backward0") else base
            gradient = self.inplace_gradient if inplace else self.gradient
            self._functions[overload, inplace] = type(
                name,
                (UnaryFunction,),
                {
                    "row": self,
                    "gradient": staticmethod(gradient),
                    "saves": _saved_names(gradient, ("x", "out", *self._argument_names())),
                    "_backward_name": name,
                    # (sgn's row has the real gradient, zero; its complex one is not written)
                    "holomorphic": self.name != "sgn",
                },
            )
        return self._functions[overload, inplace]

    def _argument_names(self) -> tuple[str, ...]:
        return tuple(self._arguments.parameters)[1:] if self._arguments is not None else ()

    def arguments(self, dtype: torch.dtype, args: tuple, kwargs: dict) -> dict:
        """The op's arguments by name, defaults filled in, for a gradient that reads them."""
        if self._arguments is None:
            return {}
        bound = self._arguments.bind(dtype, *args, **kwargs)
        bound.apply_defaults()
        return dict(list(bound.arguments.items())[1:])

    def result_dtype(self, x) -> torch.dtype:
        if self.check is not None:
            self.check(x)
        return self.dtype.resolve(self.kernel, x.dtype)

    def launch(self, x, scalars: dict, out: torch.Tensor | None = None, dtype: torch.dtype | None = None):
        """The kernel on x's buffer (into ``out``'s buffer when given); returns the torch buffer.
        ``dtype``: the result dtype when the caller already resolved it. A complex x takes the
        complex kernel of the op (``COMPLEX_UNARY``) or torch's refusal."""
        if x._data.dtype.is_complex:
            return _launch_complex_unary(self, x._data, scalars, out)
        dtype = dtype or self.result_dtype(x)
        compute = x.dtype if self.dtype.compute_in_input else dtype
        if out is not None and out.dtype != dtype:
            return cast_into_out(lambda: self.launch(x, scalars, dtype=dtype), out, x._data)
        return kernels.launch_unary(self.kernel, x._data, out=out, out_dtype=dtype, compute=compute, **scalars)

    def parse(self, dtype: torch.dtype, args: tuple, kwargs: dict) -> dict:
        if self.scalars is None:
            if args or kwargs:
                raise TypeError(f"{self.name}() takes no arguments besides the tensor, got {args or kwargs}")
            return {}
        return self.scalars(dtype, *args, **kwargs)

    def record(self, x, dtype: torch.dtype, scalars: dict, args: tuple, kwargs: dict, inplace: bool = False):
        """The op on x, recorded for backward (the in-place variant's node when ``inplace``)."""
        overload = self.overload(*args, **kwargs) if self.overload is not None else 0
        arguments = self.arguments(dtype, args, kwargs)
        return self.node(overload, inplace).apply(x, scalars, arguments)

    # ---- what the row derives ----
    def function(self) -> Callable:
        row = self

        # launchers of the row's kernel without scalars, keyed by the input's dtype and layout and
        # the default dtype: the dtype rule and checks run once per key
        launchers: dict[tuple, Callable] = {}

        def function(input, *args, out=None, **kwargs):
            if out is None and not args and not kwargs and type(input) is Tensor:
                data = input._data
                key = (data.dtype, data.shape, data.stride(), data.device, get_default_dtype())
                launch = launchers.get(key)
                if launch is not None and (row.gradient is None or not (input.requires_grad and is_grad_enabled())):
                    return Tensor._wrap(launch(data))
            _check_tensor(row.name, input, 1, "input")
            dtype = row.result_dtype(input)
            scalars = row.parse(dtype, args, kwargs)
            if out is not None:
                if not row.out:
                    raise TypeError(f"{row.name}() got an unexpected keyword argument 'out'")
                buffer = check_out(row.name, out, dtype, tuple(input.shape), input, exact=row.dtype.exact_out)
                row.launch(input, scalars, out=buffer, dtype=dtype)
                return finish_out(out)
            if row.gradient is None or not (input.requires_grad and is_grad_enabled()):
                if not scalars and not args and not kwargs:
                    data = input._data
                    compute = data.dtype if row.dtype.compute_in_input else dtype
                    launch = kernels.unary_launcher(row.kernel, data, out_dtype=dtype, compute=compute)
                    if launch is not None:
                        remember(
                            launchers, (data.dtype, data.shape, data.stride(), data.device, get_default_dtype()), launch
                        )
                return Tensor._wrap(row.launch(input, scalars, dtype=dtype))
            return row.record(input, dtype, scalars, args, kwargs)

        function.__name__ = function.__qualname__ = row.name
        namespace = "torch.nn.functional" if row.functional else "torch"
        out_doc = "; ``out=`` writes into a tensor" if row.out else ""
        function.__doc__ = row.doc or f"``{row.name}`` elementwise ({namespace}.{row.name}){out_doc}."
        return function

    def inplace_method(self, function: Callable) -> Callable:
        row = self

        def method(self, *args, **kwargs):
            _check_tensor(f"{row.name}_", self, 1, "input")
            dtype = row.result_dtype(self)
            scalars = row.parse(dtype, args, kwargs)
            check_castable(dtype, self.dtype)
            if row.dtype is LOGICAL:  # (logical_not_: no autograd kernel in torch, not recorded or checked)
                return apply_untracked(self, lambda: row.launch(self, scalars, out=self._data))
            if row.gradient is None:
                out_of_place = lambda snapshot: function(snapshot, *args, **kwargs)  # noqa: E731
            else:  # (apply_inplace records only when self requires grad)
                out_of_place = lambda snapshot: row.record(snapshot, dtype, scalars, args, kwargs, inplace=True)  # noqa: E731
            return apply_inplace(self, out_of_place, lambda: row.launch(self, scalars, out=self._data))

        method.__name__ = method.__qualname__ = f"{row.name}_"
        method.__doc__ = f"``{row.name}`` in place; returns the input."
        return method


# ---------------------------------------------------------------------------------------------
# Binary rows
# ---------------------------------------------------------------------------------------------


class BinaryFunction(Function):
    """The Function behind every binary row (subclassed per row and overload, like UnaryFunction)."""

    row: Binary

    @staticmethod
    def forward(ctx, a, b):
        row = ctx._function.row
        result = Tensor._wrap(row.launch(a, b))
        ctx.metas = (_Meta.of(a), _Meta.of(b))
        operands = {"a": a, "b": b, "out": result}
        ctx.scalars = {name: value for name, value in operands.items() if not isinstance(value, Tensor)}
        ctx.save_for_backward(*(operands[name] if name not in ctx.scalars else None for name in row.saves))
        return result

    @staticmethod
    def backward(ctx, grad):
        row = ctx._function.row
        saved = dict(zip(row.saves, ctx.saved_tensors, strict=True))
        saved.update(ctx.scalars)
        grads = []
        for index, (gradient, meta) in enumerate(zip((row.grad_input, row.grad_other), ctx.metas, strict=True)):
            needed = index < len(ctx.needs_input_grad) and ctx.needs_input_grad[index] and meta is not None
            if not needed:
                grads.append(None)
                continue
            names = row.operands_of[index]
            grads.append(reduce_grad(gradient(grad, *(saved[name] for name in names)), meta))
        return tuple(grads)

    @staticmethod
    def _saved_by_name(ctx) -> dict:
        saved = dict(zip(ctx._function.row.saves, ctx.saved_tensors, strict=True))
        saved.update(ctx.scalars)
        names = {"a": "self", "b": "other", "out": "result"}
        return {names[name]: value for name, value in saved.items() if name in names}


class _Meta:
    """Shape and dtype of an operand, kept instead of the operand when only those are needed."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype = shape, dtype

    @staticmethod
    def of(x) -> _Meta | None:
        return _Meta(tuple(x.shape), x.dtype) if isinstance(x, Tensor) else None


@dataclass(eq=False)
class Binary:
    """One binary op ``name(input, other)``, broadcasting, with torch's type promotion.

    ``grad_input`` / ``grad_other``: (grad, [a], [b], [out]) -> that operand's gradient before
    broadcasting is summed away (the row's Function does that); None for both: not differentiable.
    ``dtype``: a DtypeRule applied to torch.result_type(input, other). ``scalar_other`` /
    ``scalar_input``: torch's overload number when that operand is a Python number (xlogy's
    XlogyBackward2), None when torch requires a tensor there. ``same_dtypes``: torch refuses
    operands of different dtypes (heaviside). ``grad_fn``: torch's node name when it is not the
    derived one (heaviside's ``NotImplemented``); ``node_prefix``: the namespace word torch's node
    names carry (``special_`` for ``SpecialZetaBackward0``).
    """

    name: str
    grad_input: Callable | None
    grad_other: Callable | None
    dtype: DtypeRule = PROMOTE
    kernel: str | None = None
    aliases: tuple[str, ...] = ()
    inplace: bool = True
    scalar_other: int | None = None
    scalar_input: int | None = None
    same_dtypes: bool = False
    grad_fn: str | None = None
    node_prefix: str = ""
    doc: str = ""
    saves: tuple[str, ...] = field(init=False)
    operands_of: tuple[tuple[str, ...], tuple[str, ...]] = field(init=False)
    _functions: dict = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.kernel = self.kernel or self.name
        allowed = ("a", "b", "out")
        self.operands_of = (_saved_names(self.grad_input, allowed), _saved_names(self.grad_other, allowed))
        self.saves = tuple(name for name in allowed if name in self.operands_of[0] + self.operands_of[1])

    def node(self, overload: int) -> type[BinaryFunction]:
        if overload not in self._functions:
            name = self.grad_fn or torch_node_name(self.node_prefix + self.name, overload)
            class_name = name.rsplit("::", 1)[-1]  # torch::autograd::NotImplemented is a NotImplemented node
            self._functions[overload] = type(class_name, (BinaryFunction,), {"row": self, "_backward_name": name})
        return self._functions[overload]

    def result_dtype(self, a, b) -> tuple[torch.dtype, torch.dtype]:
        """(result dtype, compute dtype) for these operands."""
        if self.same_dtypes and isinstance(b, Tensor) and a.dtype != b.dtype:
            raise RuntimeError(f"{self.name} is not yet implemented for tensors with different dtypes.")
        promoted = result_type(a, b)
        dtype = self.dtype.resolve(self.name, promoted)
        return dtype, dtype

    def launch(self, a, b, out: torch.Tensor | None = None) -> torch.Tensor:
        dtype, compute = self.result_dtype(a, b)
        if out is not None and out.dtype != dtype:
            operands = (_buffer(t) for t in (a, b) if isinstance(t, Tensor))
            return cast_into_out(lambda: self.launch(a, b), out, *operands)
        if self.kernel == "copysign" and not isinstance(b, Tensor):
            b = math.copysign(1.0, b)  # only its sign matters (-0.0's too, which a kernel scalar would lose)
        return kernels.launch_binary(
            self.kernel, _buffer(a), _buffer(b), out_dtype=dtype, compute=compute, out=out
        )  # fmt: skip

    def check_operands(self, input, other) -> int:
        """Raises TypeError where torch wants tensors; returns torch's overload number."""
        if not isinstance(input, Tensor):
            if self.scalar_input is None or not isinstance(other, Tensor) or not _is_number(input):
                _check_tensor(self.name, input, 1, "input")
            return self.scalar_input
        if not isinstance(other, Tensor):
            if self.scalar_other is None or not _is_number(other):
                _check_tensor(self.name, other, 2, "other")
            return self.scalar_other
        return 0

    # ---- what the row derives ----
    def function(self) -> Callable:
        row = self
        differentiable = row.grad_input is not None or row.grad_other is not None

        def function(input, other, *, out=None):
            input, other = as_python_scalar(input), as_python_scalar(other)
            overload = row.check_operands(input, other)
            if out is not None:
                shape = broadcast_shapes(*(tuple(t.shape) for t in (input, other) if isinstance(t, Tensor)))
                buffer = check_out(row.name, out, row.result_dtype(input, other)[0], shape, input, other)
                row.launch(input, other, out=buffer)
                return finish_out(out)
            requires_grad = any(isinstance(t, Tensor) and t.requires_grad for t in (input, other))
            if not (differentiable and requires_grad and is_grad_enabled()):
                return Tensor._wrap(row.launch(input, other))
            return row.node(overload).apply(input, other)

        function.__name__ = function.__qualname__ = row.name
        function.__doc__ = row.doc or f"``{row.name}(input, other)`` elementwise with broadcasting (torch.{row.name})."
        return function

    def inplace_method(self, function: Callable) -> Callable:
        row = self

        def method(self, other):
            other = as_python_scalar(other)
            row.check_operands(self, other)
            # torch's cast check of the promoted dtype comes before the op's own dtype refusal
            # (int8.bitwise_and_(float) is "result type Float can't be cast ...", not "bitwise_and_cpu")
            check_castable(result_type(self, other), self.dtype)
            check_castable(row.result_dtype(self, other)[0], self.dtype)
            return apply_inplace(
                self, lambda snapshot: function(snapshot, other), lambda: row.launch(self, other, out=self._data), other
            )

        method.__name__ = method.__qualname__ = f"{row.name}_"
        method.__doc__ = f"``{row.name}`` in place; returns self."
        return method


def _buffer(value):
    return value._data if isinstance(value, Tensor) else value


def _is_number(value) -> bool:
    return isinstance(value, (bool, int, float))


class Derived(NamedTuple):
    """What ``derive`` makes of a table: ``functions`` under torch's namespace (``tritongrad.exp``,
    ``tritongrad.selu_``), ``methods`` for Tensor (``x.exp()``, ``x.exp_()``) and ``functional``, the
    functions torch has only in torch.nn.functional (``elu``, ``elu_``)."""

    functions: dict[str, Callable]
    methods: dict[str, Callable]
    functional: dict[str, Callable]


def derive(rows) -> Derived:
    """The public functions (names and aliases), Tensor methods and in-place variants of ``rows``."""
    derived = Derived({}, {}, {})
    for row in rows:
        plain = row.function()
        function = autocast_op(row.name)(plain)  # (the in-place variants are not autocast, as in torch)
        # (binary rows are all torch functions and Tensor methods)
        method = getattr(row, "method", True)
        namespace = derived.functional if getattr(row, "functional", False) else derived.functions
        for name in (row.name, *row.aliases):
            namespace[name] = function
            if method:
                derived.methods[name] = function
            if row.inplace:
                inplace = row.inplace_method(plain)
                (derived.methods if method else namespace)[f"{name}_"] = inplace
                if method and isinstance(row, Unary):
                    namespace[f"{name}_"] = inplace  # (torch.sin_(x), as x.sin_())
    return derived

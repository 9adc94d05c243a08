"""Finite-difference checks of the tape: ``gradcheck`` and ``gradgradcheck``.

Slow mode (the default) builds both Jacobians in full. The numerical one comes from
central differences, (f(x + eps) - f(x - eps)) / 2 eps, one input element at a time,
read back to the host; the analytical one from ``autograd.grad`` with one-hot output
gradients, one output element at a time.

Fast mode (``fast_mode=True``, as torch's) compares one random projection per
input instead: u . J v, with v a random direction for the input and u random
weights on the outputs. The numerical side then needs two evaluations of the
function per input and the analytical side one backward pass per output, whatever
the sizes; a wrong Jacobian passes only for unlucky u, v.

Both are meant for small float64 inputs, as torch's are.
"""

from __future__ import annotations

import random
import warnings

from tritongrad import creation
from tritongrad.autograd import forward_ad
from tritongrad.autograd.engine import grad
from tritongrad.autograd.grad_mode import enable_grad, no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians disagree."""


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _is_tensor(value) -> bool:
    return hasattr(value, "_data")


def _differentiable_inputs(inputs) -> list:
    return [t for t in inputs if _is_tensor(t) and t.requires_grad]


def _float_outputs(function, inputs) -> list:
    return [o for o in _as_tuple(function(*inputs)) if _is_tensor(o) and o.dtype.is_floating_point]


def _flat_outputs(function, inputs) -> list[float]:
    values = []
    for output in _float_outputs(function, inputs):
        values.extend(output.reshape(-1).tolist())
    return values


def _unravel(flat_index: int, shape: tuple) -> tuple:
    """The multi-index of element ``flat_index`` of a row-major array of ``shape``."""
    index = []
    for size in reversed(shape):
        index.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(index))


def _numerical_jacobian(function, inputs, eps: float) -> list[list[list[float]]]:
    """For each differentiable input: columns[j] = d(outputs) / d(input element j).

    Each element is perturbed in place through a one-element view, so inputs of any
    layout (transposed, sliced) work.
    """

    jacobians = []
    for tensor in _differentiable_inputs(inputs):
        columns = []
        detached = tensor.detach()
        for j in range(tensor.numel()):
            element = detached[_unravel(j, tuple(tensor.shape))]
            with no_grad():
                original = element.item()
                element.fill_(original + eps)
                plus = _flat_outputs(function, inputs)
                element.fill_(original - eps)
                minus = _flat_outputs(function, inputs)
                element.fill_(original)
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        jacobians.append(columns)
    return jacobians


def _analytical_jacobian(function, inputs) -> list[list[list[float]]]:
    """For each differentiable input: columns[j][i] = d(output element i) / d(input element j)."""
    differentiable = _differentiable_inputs(inputs)
    columns = [[[] for _ in range(t.numel())] for t in differentiable]
    for output in _float_outputs(function, inputs):
        for i in range(output.numel()):
            seed = creation.zeros(tuple(output.shape), dtype=output.dtype, device=output.device)
            seed.view(-1)[i].fill_(1.0)
            if output.requires_grad:
                grads = grad(output, differentiable, grad_outputs=seed, retain_graph=True, allow_unused=True)
            else:
                grads = [None] * len(differentiable)
            for k, (tensor, g) in enumerate(zip(differentiable, grads)):
                if g is not None:
                    _check_gradient_metadata(k, tensor, g)
                values = g.reshape(-1).tolist() if g is not None else [0.0] * tensor.numel()
                for j, value in enumerate(values):
                    columns[k][j].append(value)
    return columns


def _check_gradient_metadata(index: int, tensor, grad) -> None:
    if tuple(grad.shape) != tuple(tensor.shape):
        raise GradcheckError(
            f"Gradient has a shape mismatch for input {index}: {list(grad.shape)} vs {list(tensor.shape)}"
        )
    if grad.dtype != tensor.dtype:
        raise GradcheckError(f"Gradient has dtype mismatch for input {index}: {grad.dtype} vs {tensor.dtype}")


def _forward_jacobian(function, inputs) -> list[list[list[float]]]:
    """As _analytical_jacobian, from forward-mode AD: column j is the outputs' tangent when input element j
    has tangent 1 (and every other element 0)."""
    columns = []
    for position, tensor in enumerate(inputs):
        if not (_is_tensor(tensor) and tensor.requires_grad):
            continue
        input_columns = []
        for j in range(tensor.numel()):
            tangent = creation.zeros(tuple(tensor.shape), dtype=tensor.dtype, device=tensor.device)
            tangent[_unravel(j, tuple(tensor.shape))] = 1.0
            with forward_ad.dual_level():
                arguments = list(inputs)
                arguments[position] = forward_ad.make_dual(tensor, tangent)
                column = []
                for output in _float_outputs(function, arguments):
                    output_tangent = forward_ad.unpack_dual(output).tangent
                    column.extend(
                        [0.0] * output.numel() if output_tangent is None else output_tangent.reshape(-1).tolist()
                    )
            input_columns.append(column)
        columns.append(input_columns)
    return columns


def _compare_full(function, inputs, eps: float, atol: float, rtol: float, forward: bool = False) -> str | None:
    """Slow mode: the first mismatching Jacobian entry, described, or None (``forward``: the Jacobian from
    forward-mode AD instead of the tape's backward)."""
    numerical = _numerical_jacobian(function, inputs, eps)
    analytical = _forward_jacobian(function, inputs) if forward else _analytical_jacobian(function, inputs)
    for input_index, (numeric_columns, analytic_columns) in enumerate(zip(numerical, analytical)):
        for j, (numeric, analytic) in enumerate(zip(numeric_columns, analytic_columns)):
            for i, (n, a) in enumerate(zip(numeric, analytic)):
                if abs(a - n) > atol + rtol * abs(n):
                    return (
                        f"Jacobian {'computed with forward mode ' if forward else ''}mismatch for output element "
                        f"{i} with respect to element {j} of differentiable input {input_index}: numerical {n!r}, "
                        f"analytical {a!r} (atol={atol}, rtol={rtol})"
                    )
    return None


def _compare_projected(function, inputs, eps: float, atol: float, rtol: float, seed: int) -> str | None:
    """Fast mode: u . J v for each input (random v over the input, random u over the outputs)."""
    generator = random.Random(seed)
    differentiable = _differentiable_inputs(inputs)
    outputs = _float_outputs(function, inputs)
    weights = [[generator.uniform(-1.0, 1.0) for _ in range(o.numel())] for o in outputs]

    analytic = [0.0] * len(differentiable)
    directions = []
    for tensor in differentiable:
        directions.append([generator.uniform(-1.0, 1.0) for _ in range(tensor.numel())])
    for output, u in zip(outputs, weights):
        if not output.requires_grad or output.numel() == 0:
            continue
        seed_grad = creation.tensor(u, dtype=output.dtype, device=output.device).reshape(tuple(output.shape))
        grads = grad(output, differentiable, grad_outputs=seed_grad, retain_graph=True, allow_unused=True)
        for k, (tensor, g, v) in enumerate(zip(differentiable, grads, directions)):
            if g is not None:
                _check_gradient_metadata(k, tensor, g)
                analytic[k] += sum(a * b for a, b in zip(g.reshape(-1).tolist(), v))

    flat_weights = [w for row in weights for w in row]
    for k, (tensor, v) in enumerate(zip(differentiable, directions)):
        detached = tensor.detach()
        with no_grad():
            original = detached.clone()
            step = creation.tensor(v, dtype=tensor.dtype, device=tensor.device).reshape(tuple(tensor.shape))
            detached.copy_(original + eps * step)
            plus = _flat_outputs(function, inputs)
            detached.copy_(original - eps * step)
            minus = _flat_outputs(function, inputs)
            detached.copy_(original)
        numeric = sum(w * (p - m) / (2 * eps) for w, p, m in zip(flat_weights, plus, minus))
        if abs(analytic[k] - numeric) > atol + rtol * abs(numeric):
            return (
                f"Jacobian mismatch for differentiable input {k} in fast mode: the random "
                f"projection u.Jv is {analytic[k]!r} from the tape and {numeric!r} numerically "
                f"(atol={atol}, rtol={rtol}); rerun with fast_mode=False for the entry that differs"
            )
    return None


def gradcheck(function, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, **_ignored) -> bool:  # fmt: skip
    """Compares the tape's gradients of ``function`` with central differences (float64 inputs); with
    ``check_forward_ad``, forward-mode AD's Jacobian too (in full, in either mode), and with
    ``check_backward_ad=False`` that one alone.

    Example::

        >>> x = tritongrad.randn(3, dtype=tritongrad.float64, requires_grad=True)
        >>> tritongrad.autograd.gradcheck(lambda t: (t.exp() * t).sum(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    if not _differentiable_inputs(inputs):
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True."
        )
    for tensor in _differentiable_inputs(inputs):
        if tensor.dtype.is_floating_point and str(tensor.dtype) != "torch.float64":
            warnings.warn(
                f"Input of dtype {tensor.dtype} requires grad: gradcheck is only reliable for float64 inputs",
                UserWarning,
                stacklevel=2,
            )
    try:
        message = None
        if check_backward_ad:
            if fast_mode:
                message = _compare_projected(function, inputs, eps, atol, rtol, seed=len(inputs))
            else:
                message = _compare_full(function, inputs, eps, atol, rtol)
        if message is None and check_forward_ad:
            message = _compare_full(function, inputs, eps, atol, rtol, forward=True)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    if message is None:
        return True
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(function, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True,
                  fast_mode: bool = False) -> bool:  # fmt: skip
    """gradcheck of the first derivative (taken with create_graph=True): checks second derivatives."""
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(function(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(creation.randn(tuple(o.shape), dtype=o.dtype, device=o.device) for o in outputs)

    def first_derivative(*args):
        # gradcheck evaluates this under no_grad for its finite differences: the first
        # derivative still needs its own graph.
        with enable_grad():
            results = _as_tuple(function(*args))
            used = _differentiable_inputs(args)
            return grad(results, used, grad_outputs=grad_outputs, create_graph=True, allow_unused=True,
                        materialize_grads=True)  # fmt: skip

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                     fast_mode=fast_mode)  # fmt: skip

"""Finite-difference checks of the tape: ``gradcheck`` and ``gradgradcheck``.

The numerical Jacobian comes from central differences, (f(x + eps) - f(x - eps)) / 2 eps,
one input element at a time, read back to the host; the analytical one from
``autograd.grad`` with one-hot output gradients, one output element at a time.
Both are meant for small float64 inputs, as torch's are.
"""

from __future__ import annotations

import warnings

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians disagree."""


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _flat_outputs(function, inputs) -> list:
    outputs = _as_tuple(function(*inputs))
    values = []
    for output in outputs:
        if hasattr(output, "_data") and output.dtype.is_floating_point:
            flat = output.reshape(-1).tolist()
            values.extend(flat)
    return values


def _numerical_jacobian(function, inputs, eps: float) -> list[list[list[float]]]:
    """For each differentiable input: columns[j] = d(outputs) / d(input element j)."""
    from tritongrad.autograd.grad_mode import no_grad

    jacobians = []
    for tensor in inputs:
        if not (hasattr(tensor, "_data") and tensor.requires_grad):
            continue
        columns = []
        flat = tensor.detach().view(-1) if tensor.is_contiguous() else None
        if flat is None:
            raise ValueError("gradcheck expects contiguous inputs")
        for j in range(tensor.numel()):
            with no_grad():
                original = flat[j].item()
                flat[j].fill_(original + eps)
                plus = _flat_outputs(function, inputs)
                flat[j].fill_(original - eps)
                minus = _flat_outputs(function, inputs)
                flat[j].fill_(original)
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        jacobians.append(columns)
    return jacobians


def _analytical_jacobian(function, inputs, create_graph: bool = False) -> list[list[list[float]]]:
    from tritongrad import creation
    from tritongrad.autograd import grad

    differentiable = [t for t in inputs if hasattr(t, "_data") and t.requires_grad]
    outputs = [o for o in _as_tuple(function(*inputs)) if hasattr(o, "_data") and o.dtype.is_floating_point]
    columns = [[[] for _ in range(t.numel())] for t in differentiable]
    for output in outputs:
        for i in range(output.numel()):
            seed = creation.zeros_like(output)
            seed.view(-1)[i].fill_(1.0)
            if output.requires_grad:
                grads = grad(output, differentiable, grad_outputs=seed, retain_graph=True, allow_unused=True)
            else:
                grads = [None] * len(differentiable)
            for k, (tensor, g) in enumerate(zip(differentiable, grads)):
                values = g.reshape(-1).tolist() if g is not None else [0.0] * tensor.numel()
                for j, value in enumerate(values):
                    columns[k][j].append(value)
    return columns


def gradcheck(function, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_ignored) -> bool:  # fmt: skip
    """Compares the tape's gradients of ``function`` with central differences (float64 inputs).

    Example::

        >>> x = tritongrad.randn(3, dtype=tritongrad.float64, requires_grad=True)
        >>> tritongrad.autograd.gradcheck(lambda t: (t.exp() * t).sum(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    for tensor in inputs:
        if hasattr(tensor, "_data") and tensor.requires_grad and tensor.dtype.is_floating_point:
            if str(tensor.dtype) != "torch.float64":
                warnings.warn(
                    f"Input of dtype {tensor.dtype} requires grad: gradcheck is only reliable for float64 inputs",
                    UserWarning,
                    stacklevel=2,
                )
    numerical = _numerical_jacobian(function, inputs, eps)
    analytical = _analytical_jacobian(function, inputs)
    for input_index, (numeric_columns, analytic_columns) in enumerate(zip(numerical, analytical)):
        for j, (numeric, analytic) in enumerate(zip(numeric_columns, analytic_columns)):
            for i, (n, a) in enumerate(zip(numeric, analytic)):
                if abs(a - n) > atol + rtol * abs(n):
                    message = (
                        f"Jacobian mismatch for output element {i} with respect to element {j} of differentiable "
                        f"input {input_index}: numerical {n!r}, analytical {a!r} (atol={atol}, rtol={rtol})"
                    )
                    if raise_exception:
                        raise GradcheckError(message)
                    return False
    return True


def gradgradcheck(function, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True) -> bool:  # fmt: skip
    """gradcheck of the first derivative (taken with create_graph=True): checks second derivatives."""
    from tritongrad import creation
    from tritongrad.autograd import grad

    inputs = _as_tuple(inputs)
    outputs = _as_tuple(function(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(creation.randn(tuple(o.shape), dtype=o.dtype, device=o.device) for o in outputs)

    def first_derivative(*args):
        results = _as_tuple(function(*args))
        used = [a for a in args if hasattr(a, "_data") and a.requires_grad]
        return grad(results, used, grad_outputs=grad_outputs, create_graph=True, allow_unused=True,
                    materialize_grads=True)  # fmt: skip

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)

"""Derivatives of whole functions (``tritongrad.autograd.functional``): jacobian, hessian, and the
vector products vjp, jvp, vhp and hvp, all built on ``autograd.grad`` (so every product is our
kernels' backward). Inputs and outputs follow torch: a Tensor or a tuple of Tensors each.
"""

from __future__ import annotations

from tritongrad import creation, ops
from tritongrad.autograd.engine import grad
from tritongrad.autograd.grad_mode import enable_grad
from tritongrad.tensor import Tensor

__all__ = ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"]


def _tuple(value) -> tuple[bool, tuple]:
    """(was a single tensor, the tensors as a tuple)."""
    single = not isinstance(value, (tuple, list))
    return single, ((value,) if single else tuple(value))


def _untuple(single: bool, values: tuple):
    return values[0] if single else values


def _leaves(inputs: tuple) -> tuple:
    return tuple(t.detach().requires_grad_(True) for t in inputs)


def _grads_or_zeros(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, what: str) -> tuple:
    """autograd.grad with unused inputs as zeros (or torch's error with ``strict``)."""
    wanted = [o for o in outputs if o.requires_grad]
    seeds = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    grads = (None,) * len(inputs)
    if wanted:
        grads = grad(wanted, inputs, grad_outputs=seeds, retain_graph=True, create_graph=create_graph,
                     allow_unused=True)  # fmt: skip
    results = []
    for index, (tensor, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {index}. "
                                   f"This is not allowed in strict mode ({what}).")  # fmt: skip
            g = creation.zeros_like(tensor)
        results.append(g)
    return tuple(results)


def _check_vectors(name: str, v, like: tuple) -> tuple:
    """v as a tuple shaped like ``like`` (the function's outputs for vjp, its inputs otherwise)."""

    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            about = "user-provided function returns" if name == "vjp" else "input to the user-provided function is"
            raise RuntimeError(f"The vector v can only be None if the {about} a single Tensor with a single element.")
        return (creation.ones_like(like[0]),)
    _, vectors = _tuple(v)
    if len(vectors) != len(like):
        raise RuntimeError(f"{name}: v has {len(vectors)} tensors, expected {len(like)}")
    for index, (vector, tensor) in enumerate(zip(vectors, like)):
        if tuple(vector.shape) != tuple(tensor.shape):
            raise RuntimeError(
                f"Mismatch in shape: v[{index}] has shape {list(vector.shape)} but expected {list(tensor.shape)}"
            )
    return vectors


def _result(values: tuple, create_graph: bool) -> tuple:
    return values if create_graph else tuple(v.detach() for v in values)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass.

    Example::

        >>> vjp(lambda x: x ** 2, tritongrad.tensor([1., 2.]), tritongrad.tensor([1., 1.]))[1]
        tensor([2., 4.])
    """

    single_input, input_tuple = _tuple(inputs)
    with enable_grad():
        leaves = _leaves(input_tuple)
        single_output, outputs = _tuple(func(*leaves))
        vectors = _check_vectors("vjp", v, outputs)
        products = _grads_or_zeros(outputs, leaves, vectors, create_graph, strict, "vjp")
    output = _untuple(single_output, _result(outputs, create_graph))
    return output, _untuple(single_input, _result(products, create_graph))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product by the double-backward trick: the vjp
    u -> u^T J is linear in u, and its gradient w.r.t. u along v is J v.

    Example::

        >>> jvp(lambda x: x ** 2, tritongrad.tensor([1., 2.]), tritongrad.tensor([1., 1.]))[1]
        tensor([2., 4.])
    """
    single_input, input_tuple = _tuple(inputs)
    vectors = _check_vectors("jvp", v, input_tuple)
    with enable_grad():
        leaves = _leaves(input_tuple)
        single_output, outputs = _tuple(func(*leaves))
        dummies = tuple(creation.zeros_like(o).requires_grad_(True) for o in outputs)
        transposed = _grads_or_zeros(outputs, leaves, dummies, True, strict, "jvp")
        products = _grads_or_zeros(transposed, dummies, vectors, create_graph, strict, "jvp")
    output = _untuple(single_output, _result(outputs, create_graph))
    return output, _untuple(single_output, _result(products, create_graph))


def _scalar_output(name: str, output):

    if not isinstance(output, Tensor) or output.numel() != 1:
        raise RuntimeError(f"The function given to {name} should return a single Tensor with a single element.")
    return output


def _hessian_vector_product(name: str, func, inputs, v, create_graph: bool, strict: bool):
    """(func(inputs), v^T H) for a scalar ``func``: the gradient, then its vjp with v."""

    single_input, input_tuple = _tuple(inputs)
    vectors = _check_vectors(name, v, input_tuple)
    with enable_grad():
        leaves = _leaves(input_tuple)
        output = _scalar_output(name, func(*leaves))
        gradient = _grads_or_zeros((output,), leaves, (None,), True, strict, name)
        products = _grads_or_zeros(gradient, leaves, vectors, create_graph, strict, name)
    return _result((output,), create_graph)[0], _untuple(single_input, _result(products, create_graph))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a scalar ``func``."""
    return _hessian_vector_product("vhp", func, inputs, v, create_graph, strict)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a scalar ``func``; H is symmetric for a twice-differentiable func,
    so this is vhp's product."""
    return _hessian_vector_product("hvp", func, inputs, v, create_graph, strict)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):  # fmt: skip
    """The Hessian of a scalar ``func``: the Jacobian of its gradient. For one input of shape S
    a Tensor of shape S + S; for several, a tuple of tuples (block [i][j] = d2f / dx_i dx_j).

    Example::

        >>> hessian(lambda x: (x ** 3).sum(), tritongrad.tensor([1., 2.]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    single_input, input_tuple = _tuple(inputs)

    def gradient(*leaves):
        output = _scalar_output("hessian", func(*leaves))
        return _grads_or_zeros((output,), leaves, (None,), True, strict, "hessian")

    blocks = jacobian(gradient, input_tuple, create_graph=create_graph, strict=strict,
                      strategy=outer_jacobian_strategy)  # fmt: skip
    return blocks[0][0] if single_input else blocks


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):  # fmt: skip
    """The Jacobian of ``func`` at ``inputs``: shape output.shape + input.shape per (output, input) pair.

    Built row by row with reverse mode (one ``autograd.grad`` per output element),
    which suits the small functions this is meant for. Returns a Tensor for a single
    input and output, a tuple over inputs (or outputs), or a tuple of tuples for both.
    """
    if strategy != "reverse-mode":
        raise NotImplementedError("tritongrad's jacobian supports strategy='reverse-mode' only")
    single_input, input_tuple = _tuple(inputs)
    with enable_grad():
        prepared = _leaves(input_tuple)
        single_output, output_tuple = _tuple(func(*prepared))
        table = []
        for output in output_tuple:
            rows = [[] for _ in prepared]
            for i in range(output.numel()):
                seed = creation.zeros(tuple(output.shape), dtype=output.dtype, device=output.device)
                seed.view(-1)[i].fill_(1.0)
                if output.requires_grad:
                    grads = grad(output, prepared, grad_outputs=seed, retain_graph=True,
                                 create_graph=create_graph, allow_unused=True)  # fmt: skip
                else:
                    grads = (None,) * len(prepared)
                for k, (tensor, g) in enumerate(zip(prepared, grads)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input {k}.")
                        g = creation.zeros_like(tensor)
                    rows[k].append(g.reshape(-1))
            blocks = []
            for tensor, row_list in zip(prepared, rows):
                if row_list:
                    stacked = ops.stack(row_list, 0)
                else:
                    stacked = creation.zeros((0, tensor.numel()), dtype=tensor.dtype, device=tensor.device)
                blocks.append(stacked.reshape(tuple(output.shape) + tuple(tensor.shape)))
            table.append(blocks)
    if single_output and single_input:
        return table[0][0]
    if single_output:
        return tuple(table[0])
    if single_input:
        return tuple(row[0] for row in table)
    return tuple(tuple(row) for row in table)

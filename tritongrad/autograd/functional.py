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


def _tuple(value, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(was a tuple, the tensors as a tuple): torch's ``_as_tuple``, which takes a Tensor or a tuple of
    Tensors (a list is one argument, refused as torch refuses it)."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for index, element in enumerate(values):
        if not isinstance(element, Tensor):
            where = f"value at index {index}" if is_tuple else f"given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the {where} "
                f"has type {type(element)}."
            )
    return is_tuple, values


def _outputs(value, fn_name: str) -> tuple[bool, tuple]:
    return _tuple(value, "outputs of the user-provided function", fn_name)


def _untuple(is_tuple: bool, values: tuple):
    return values if is_tuple else values[0]


def _leaves(inputs: tuple, create_graph: bool) -> tuple:
    """The tensors ``func`` is called with (torch's ``_grad_preprocess``): under ``create_graph`` an input
    that requires grad is passed as a view of itself, so the results stay linked to the caller's graph
    (``x.grad`` after a backward through a Jacobian); any other input is a fresh leaf."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True) for t in inputs)


def _check_requires_grad(tensors: tuple, kind: str, strict: bool) -> None:
    """torch's strict-mode checks that ``tensors`` (outputs, gradients, a Jacobian) depend on the inputs."""
    if not strict:
        return
    for index, tensor in enumerate(tensors):
        if tensor is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {index}. This is not allowed in "
                "strict mode."
            )
        if tensor.requires_grad:
            continue
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided function with respect "
                f"to input {index} is independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is twice differentiable and that the jacobian depends on the inputs "
                "(this would be violated by a linear function for example)."
            )
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {index} is independent of the inputs of the user-provided "
                "function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {index} of the user-provided function does not require gradients. The outputs must be "
            "computed in a differentiable manner from the input when running in strict mode."
        )


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
    "using the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
    "strict mode.",
}


def _grads_or_zeros(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, stage: str) -> tuple:
    """autograd.grad with unused inputs as zeros, or torch's strict-mode error for the ``stage`` (torch's
    ``_fill_in_zeros``)."""
    wanted = [o for o in outputs if o is not None and o.requires_grad]
    seeds = [g for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    grads = (None,) * len(inputs)
    if wanted:
        grads = grad(wanted, inputs, grad_outputs=seeds, retain_graph=True, create_graph=create_graph,
                     allow_unused=True)  # fmt: skip
    results = []
    for index, (tensor, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=index))
            g = creation.zeros_like(tensor)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {index}. This is not allowed "
                "in strict mode when create_graph=True."
            )
        results.append(g)
    return tuple(results)


def _check_vectors(name: str, v, like: tuple, like_is_tuple: bool) -> tuple:
    """v as a tuple shaped like ``like`` (the function's outputs for vjp, its inputs otherwise), with torch's
    ``_validate_v`` messages."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            about = "user-provided function returns" if name == "vjp" else "input to the user-provided function is"
            raise RuntimeError(f"The vector v can only be None if the {about} a single Tensor with a single element.")
        return (creation.ones_like(like[0]),)
    _, vectors = _tuple(v, "v", name)
    if len(vectors) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(vectors)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (vector, tensor) in enumerate(zip(vectors, like)):
        if tuple(vector.shape) != tuple(tensor.shape):
            prefix = f"Entry {index} in " if like_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {tensor.shape} but got {vector.shape}.")
    return vectors


def _result(values: tuple, create_graph: bool) -> tuple:
    return values if create_graph else tuple(v.detach() for v in values)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass.

    Example::

        >>> vjp(lambda x: x ** 2, tritongrad.tensor([1., 2.]), tritongrad.tensor([1., 1.]))[1]
        tensor([2., 4.])
    """

    inputs_tuple, input_tuple = _tuple(inputs, "inputs", "vjp")
    with enable_grad():
        leaves = _leaves(input_tuple, create_graph)
        outputs_tuple, outputs = _outputs(func(*leaves), "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        vectors = _check_vectors("vjp", v, outputs, outputs_tuple)
        products = _grads_or_zeros(outputs, leaves, vectors, create_graph, strict, "back")
    output = _untuple(outputs_tuple, _result(outputs, create_graph))
    return output, _untuple(inputs_tuple, _result(products, create_graph))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product by the double-backward trick: the vjp
    u -> u^T J is linear in u, and its gradient w.r.t. u along v is J v.

    Example::

        >>> jvp(lambda x: x ** 2, tritongrad.tensor([1., 2.]), tritongrad.tensor([1., 1.]))[1]
        tensor([2., 4.])
    """
    inputs_tuple, input_tuple = _tuple(inputs, "inputs", "jvp")
    vectors = _check_vectors("jvp", v, input_tuple, inputs_tuple)
    with enable_grad():
        leaves = _leaves(input_tuple, create_graph)
        outputs_tuple, outputs = _outputs(func(*leaves), "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        dummies = tuple(creation.zeros_like(o).requires_grad_(True) for o in outputs)
        transposed = _grads_or_zeros(outputs, leaves, dummies, True, strict, "back")
        _check_requires_grad(transposed, "grad_inputs", strict)
        products = _grads_or_zeros(transposed, dummies, vectors, create_graph, strict, "back_trick")
    output = _untuple(outputs_tuple, _result(outputs, create_graph))
    return output, _untuple(outputs_tuple, _result(products, create_graph))


def _scalar_output(name: str, output, strict: bool):
    """``output`` checked as torch's hessian/vhp/hvp check it: one Tensor (not a tuple) of one element."""
    is_tuple, outputs = _outputs(output, name)
    _check_requires_grad(outputs, "outputs", strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if output.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    return output


def _hessian_vector_product(name: str, func, inputs, v, create_graph: bool, strict: bool):
    """(func(inputs), v^T H) for a scalar ``func``: the gradient, then its vjp with v."""

    inputs_tuple, input_tuple = _tuple(inputs, "inputs", name)
    vectors = _check_vectors(name, v, input_tuple, inputs_tuple)
    with enable_grad():
        leaves = _leaves(input_tuple, create_graph)
        output = _scalar_output(name, func(*leaves), strict)
        gradient = _grads_or_zeros((output,), leaves, (None,), True, False, "back")
        _check_requires_grad(gradient, "jacobian", strict)
        products = _grads_or_zeros(gradient, leaves, vectors, create_graph, strict, "double_back")
    return _result((output,), create_graph)[0], _untuple(inputs_tuple, _result(products, create_graph))


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
    inputs_tuple, input_tuple = _tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*leaves):
        output = _scalar_output("hessian", func(*leaves), strict)
        found = _grads_or_zeros((output,), leaves, (None,), True, False, "back")
        _check_requires_grad(found, "jacobian", strict)
        return found

    blocks = jacobian(gradient, input_tuple, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)  # fmt: skip
    return blocks[0][0] if not inputs_tuple else blocks


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):  # fmt: skip
    """The Jacobian of ``func`` at ``inputs``: shape output.shape + input.shape per (output, input) pair.

    Built row by row with reverse mode (one ``autograd.grad`` per output element),
    which suits the small functions this is meant for. Returns a Tensor for a single
    input and output, a tuple over inputs (or outputs), or a tuple of tuples for both.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more '
            'outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":  # torch's refusals; what it computes, reverse mode gives here
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` are not '
                'supported together (yet). Please either set `create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not supported '
                'together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.'
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly implemented for "
                "`vectorize=True`."
            )  # (torch's message, the missing space included)
    inputs_tuple, input_tuple = _tuple(inputs, "inputs", "jacobian")
    single_input = not inputs_tuple
    with enable_grad():
        prepared = _leaves(input_tuple, create_graph)
        outputs_tuple, output_tuple = _outputs(func(*prepared), "jacobian")
        single_output = not outputs_tuple
        _check_requires_grad(output_tuple, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
                "together. Please either set `strict=False` or `vectorize=False`."
            )
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
                            raise RuntimeError(
                                f"Output {len(table)} of the user-provided function is independent of input {k}. "
                                "This is not allowed in strict mode."
                            )
                        g = creation.zeros_like(tensor)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input {len(table)}. "
                            "This is not allowed in strict mode when create_graph=True."
                        )
                    rows[k].append(g.reshape(-1))
            if output.numel() == 0 and strategy == "reverse-mode":
                # torch stacks no rows and refuses (its vectorized path indexes row 0); forward mode has none
                if vectorize:
                    raise IndexError("index 0 is out of bounds for dimension 0 with size 0")
                raise RuntimeError("stack expects a non-empty TensorList")
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

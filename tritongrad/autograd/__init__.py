"""tritongrad's tape: ``backward``, ``grad``, ``Function``, grad mode, ``gradcheck``, ``functional``."""

from __future__ import annotations

import warnings

from tritongrad.autograd import functional  # noqa: F401
from tritongrad.autograd.engine import UnitGradient, run_backward
from tritongrad.autograd.function import Function, FunctionCtx  # noqa: F401
from tritongrad.autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tritongrad.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: F401

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "gradcheck", "gradgradcheck", "functional"]  # fmt: skip


_CREATE_GRAPH_CYCLE_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
    "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
    "to None after use to break the cycle and avoid the leak."
)


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _root_grads(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> list:
    from tritongrad import creation

    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(grad_outputs)} for {len(outputs)} outputs"
        )
    grads = []
    for index, output in enumerate(outputs):
        given = grad_outputs[index] if grad_outputs else None
        if not output.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
        if given is None:
            if output.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            # Written out by the engine only where some node or hook needs the tensor.
            given = creation.ones_like(output) if create_graph else UnitGradient(output)
        elif tuple(given.shape) != tuple(output.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{index}] has a shape of torch.Size({list(given.shape)}) and "
                f"output[{index}] has a shape of torch.Size({list(output.shape)})."
            )
        grads.append(given)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Accumulates the gradients of ``tensors`` into the ``.grad`` of the graph's leaves (or of ``inputs``).

    Example::

        >>> x = tritongrad.tensor([1., 2.], requires_grad=True)
        >>> tritongrad.autograd.backward((x * x).sum())
        >>> x.grad
        tensor([2., 4.])
    """
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _as_tuple(grad_tensors), create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        warnings.warn(_CREATE_GRAPH_CYCLE_WARNING, UserWarning, stacklevel=3)
    if inputs is None:
        run_backward(outputs, grads, retain_graph=retain, create_graph=create_graph)
        return
    targets = _as_tuple(inputs)
    if not targets:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    from tritongrad.autograd.engine import _accumulate_into, _Buffer

    captured = run_backward(outputs, grads, retain_graph=retain, create_graph=create_graph, capture=targets)
    for target, grad in zip(targets, captured):
        if grad is not None:
            buffer = _Buffer()
            buffer.add(grad, owned=False)
            _accumulate_into(target, buffer, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:  # fmt: skip
    """The gradients of ``outputs`` w.r.t. ``inputs`` as a tuple (nothing is accumulated into ``.grad``).

    Example::

        >>> x = tritongrad.tensor(3., requires_grad=True)
        >>> tritongrad.autograd.grad(x ** 2, x)
        (tensor(6.),)
    """
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched is not supported by tritongrad")
    output_tuple = _as_tuple(outputs)
    input_tuple = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    for tensor in input_tuple:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(output_tuple, _as_tuple(grad_outputs), create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    results = run_backward(output_tuple, grads, retain_graph=retain, create_graph=create_graph, capture=input_tuple)
    final = []
    for tensor, result in zip(input_tuple, results):
        if result is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                from tritongrad import creation

                result = creation.zeros_like(tensor)
        elif not create_graph:
            result = result.detach()
        final.append(result)
    return tuple(final)

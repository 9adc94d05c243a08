"""Jacobians of small functions (``tritongrad.autograd.functional.jacobian``)."""

from __future__ import annotations

__all__ = ["jacobian"]


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):  # fmt: skip
    """The Jacobian of ``func`` at ``inputs``: shape output.shape + input.shape per (output, input) pair.

    Built row by row with reverse mode (one ``autograd.grad`` per output element),
    which suits the small functions this is meant for. Returns a Tensor for a single
    input and output, a tuple over inputs (or outputs), or a tuple of tuples for both.
    """
    from tritongrad import creation, ops
    from tritongrad.autograd import grad
    from tritongrad.autograd.grad_mode import enable_grad

    if strategy != "reverse-mode":
        raise NotImplementedError("tritongrad's jacobian supports strategy='reverse-mode' only")
    single_input = not isinstance(inputs, (tuple, list))
    input_tuple = (inputs,) if single_input else tuple(inputs)
    with enable_grad():
        prepared = tuple(t.detach().requires_grad_(True) for t in input_tuple)
        outputs = func(*prepared)
        single_output = not isinstance(outputs, (tuple, list))
        output_tuple = (outputs,) if single_output else tuple(outputs)
        table = []
        for output in output_tuple:
            rows = [[] for _ in prepared]
            for i in range(output.numel()):
                seed = creation.zeros_like(output)
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

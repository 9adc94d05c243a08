"""``tritongrad.func``: torch.func's function transforms on tritongrad's tape.

torch.func lifts a function to a new "level" so that transforms compose. tritongrad has one
tape, and builds each transform on it:

- ``grad``/``grad_and_value``/``vjp``/``jacrev``/``jacfwd``/``hessian``/``jvp``: reverse-mode
  passes of ``autograd.grad`` (``jvp`` and ``jacfwd`` by the double-vjp trick, so they give
  forward mode's values, not its cost). When an input is already being differentiated (a
  transform inside a transform, or a tensor that requires grad), the pass keeps its graph, so
  ``grad(grad(f))`` and ``vmap(grad(f))`` are exact higher derivatives.
- ``vmap``: calls the function once per slice along the mapped dimensions and stacks the
  results, so any function tritongrad can run maps (per-sample gradients included); the cost is
  one call per batch element, not a batched kernel. ``randomness="error"`` refuses random ops as
  torch's does; ``"same"`` replays one random state for every slice.
- ``functional_call``: runs a module with some of its parameters and buffers swapped for the given
  tensors, restoring them afterwards; ``stack_module_state`` stacks copies' states for ``vmap``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from tritongrad import creation, random
from tritongrad.autograd.engine import grad as _autograd_grad
from tritongrad.autograd.grad_mode import enable_grad
from tritongrad.dtypes import promote_types
from tritongrad.ops import isclose, stack
from tritongrad.tensor import Tensor

__all__ = [
    "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call",
    "stack_module_state",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Trees of tensors: tuples, lists and dicts nest; anything else is a leaf
# ---------------------------------------------------------------------------------------------


def _flatten(tree) -> tuple[list, object]:
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            item_leaves, spec = _flatten(item)
            leaves += item_leaves
            specs.append((len(item_leaves), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            item_leaves, spec = _flatten(item)
            leaves += item_leaves
            specs.append((key, len(item_leaves), spec))
        return leaves, (dict, specs)
    return [tree], None


def _unflatten(leaves: list, spec):
    if spec is None:
        return leaves[0]
    kind, specs = spec
    if kind is dict:
        out, start = {}, 0
        for key, count, item_spec in specs:
            out[key] = _unflatten(leaves[start : start + count], item_spec)
            start += count
        return out
    items, start = [], 0
    for count, item_spec in specs:
        items.append(_unflatten(leaves[start : start + count], item_spec))
        start += count
    return kind(items) if kind in (tuple, list) else kind(*items)  # (named tuples take fields)


def _map(function: Callable, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([function(leaf) for leaf in leaves], spec)


def _spec_text(spec) -> str:
    """A tree's structure as torch's ``treespec_pprint`` writes it: ``*`` for a leaf, ``(*, [*])``,
    ``{'k': *}``, ``Point(x=*, y=*)``."""
    if spec is None:
        return "*"
    kind, specs = spec
    if kind is dict:
        return "{" + ", ".join(f"{key!r}: {_spec_text(item)}" for key, _, item in specs) + "}"
    items = [_spec_text(item) for _, item in specs]
    if kind is list:
        return "[" + ", ".join(items) + "]"
    if kind is tuple:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    fields = getattr(kind, "_fields", None)
    if fields is not None:  # a named tuple
        named = (f"{field}={item}" for field, item in zip(fields, items, strict=True))
        return f"{kind.__name__}(" + ", ".join(named) + ")"
    return f"{kind.__name__}(" + ", ".join(items) + ")"


def _checked_aux(aux):
    """``has_aux``'s auxiliary output: torch.func unwraps it leaf by leaf, and a leaf that is not a tensor
    (a number, a string, None) cannot be unwrapped, so it is refused, nested or not."""
    for leaf in _flatten(aux)[0]:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")
    return aux


def _check_differentiable(tree) -> None:
    """Every leaf of an argument a transform differentiates must be a tensor (a number has no
    derivative to carry), as torch.func's wrapping of it demands."""
    for leaf in _flatten(tree)[0]:
        if not isinstance(leaf, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(leaf)}")


# ---------------------------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------------------------


def _watched(value):
    """A tensor the pass differentiates with respect to: itself if something already watches it (the
    outer pass then sees through this one), else a detached copy that requires grad."""
    if not isinstance(value, Tensor):
        return value
    if value.requires_grad:
        return value.view_as(value)
    return value.detach().requires_grad_(True)


def _any_watched(tree) -> bool:
    return any(isinstance(leaf, Tensor) and leaf.requires_grad for leaf in _flatten(tree)[0])


def _argnum_tuple(argnums, count: int) -> tuple[int, ...]:
    """argnums as non-negative indices, checked as torch.func checks them: an int or a tuple of ints, each
    in range, then a tuple non-empty and without repeats (a repeated argument would get two gradients)."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    indices = []
    for index in argnums if isinstance(argnums, tuple) else (argnums,):
        if not isinstance(index, int):
            raise RuntimeError(f"argnum must be int, got: {type(index)}")
        if not -count <= index < count:
            raise RuntimeError(f"Got argnum={index}, but only {count} positional inputs")
        indices.append(index % count)
    if isinstance(argnums, tuple):
        if not indices:
            raise RuntimeError("argnums must be non-empty")
        if len(set(indices)) != len(indices):
            raise RuntimeError(f"argnums elements must be unique, got {tuple(indices)}")
    return tuple(indices)


def _watch_argnums(argnums, args: tuple) -> tuple[tuple[int, ...], list, bool]:
    """(the argnums as indices, args with those arguments' tensors watched, whether an outer pass already
    watches one: then the graph is kept)."""
    indices = _argnum_tuple(argnums, len(args))
    for index in indices:
        _check_differentiable(args[index])
    keep_graph = any(_any_watched(args[index]) for index in indices)
    args = list(args)
    with enable_grad():
        for index in indices:
            args[index] = _map(_watched, args[index])
    return indices, args, keep_graph


def _gradients(output, inputs: list, create_graph: bool) -> list:
    """d output / d inputs (zeros for an input the output does not depend on)."""
    tensors = [leaf for leaf in inputs if isinstance(leaf, Tensor)]
    if output.requires_grad:
        found = _autograd_grad(output, tensors, retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:  # (the output does not depend on any input)
        found = [None] * len(tensors)
    found = iter(found)
    result = []
    for leaf in inputs:
        if not isinstance(leaf, Tensor):
            result.append(leaf)
            continue
        gradient = next(found)
        gradient = creation.zeros_like(leaf) if gradient is None else gradient
        result.append(gradient if create_graph else gradient.detach())
    return result


def _unwrapped(tree, keep_graph: bool):
    """An output handed back out of a pass: as it is when an outer pass differentiates it too, else
    detached, as torch.func unwraps it from the pass's level (the value and the aux alike)."""
    if keep_graph:
        return tree
    return _map(lambda leaf: leaf.detach() if isinstance(leaf, Tensor) else leaf, tree)


def _split_aux(name: str, output, has_aux: bool):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(
            f"{name}(f)(*args): output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return output


def grad_and_value(func: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """A function returning (gradient of ``func``'s scalar output w.r.t. ``args[argnums]``, the output)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        indices, args, keep_graph = _watch_argnums(argnums, args)
        with enable_grad():
            output, aux = _split_aux("grad_and_value", func(*args, **kwargs), has_aux)
            if not isinstance(output, Tensor):
                raise RuntimeError(
                    f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}"
                )
            if output.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                    f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
                )
            if has_aux:
                _checked_aux(aux)
            trees = [_flatten(args[index]) for index in indices]
            flat = _gradients(output, [leaf for leaves, _ in trees for leaf in leaves], keep_graph)
        grads, start = [], 0
        for leaves, spec in trees:
            grads.append(_unflatten(flat[start : start + len(leaves)], spec))
            start += len(leaves)
        gradient = grads[0] if not isinstance(argnums, tuple) else tuple(grads)
        value = output if keep_graph else output.detach()
        return (gradient, (value, _unwrapped(aux, keep_graph))) if has_aux else (gradient, value)

    return wrapper


def grad(func: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of ``func``'s scalar output w.r.t. ``args[argnums]`` (and the
    auxiliary output with ``has_aux``): ``grad(f)(x)`` is df/dx at x."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals, has_aux: bool = False):
    """(func(*primals), vjp_fn[, aux]): ``vjp_fn(cotangents)`` gives the vector-Jacobian product for each
    primal; it may be called many times."""
    _check_differentiable(primals)
    keep_graph = _any_watched(primals)
    with enable_grad():
        watched = [_map(_watched, primal) for primal in primals]
        output, aux = _split_aux("vjp", func(*watched), has_aux)
    if has_aux:
        _checked_aux(aux)
    output_leaves, output_spec = _flatten(output)
    input_leaves, input_spec = _flatten(tuple(watched))

    def vjp_fn(cotangents, *, retain_graph: bool = True, create_graph: bool | None = None):
        cotangent_leaves, cotangent_spec = _flatten(cotangents)
        if cotangent_spec != output_spec:  # ((t,) for a lone tensor output too: torch compares the trees)
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of outputs to the "
                f"function. cotangents: {_spec_text(cotangent_spec)}, primal output: {_spec_text(output_spec)}"
            )
        for out, cotangent in zip(output_leaves, cotangent_leaves, strict=True):
            if tuple(out.shape) != tuple(cotangent.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {tuple(cotangent.shape)} and output[0] has "
                    f"a shape of {tuple(out.shape)}."
                )
        keep = keep_graph if create_graph is None else create_graph
        with enable_grad():
            tensors = [leaf for leaf in input_leaves if isinstance(leaf, Tensor)]
            pairs = [(out, c) for out, c in zip(output_leaves, cotangent_leaves, strict=True) if out.requires_grad]
            found = iter(
                _autograd_grad(
                    [out for out, _ in pairs],
                    tensors,
                    grad_outputs=[c for _, c in pairs],
                    retain_graph=retain_graph,
                    create_graph=keep,
                    allow_unused=True,
                )  # fmt: skip
                if pairs
                else [None] * len(tensors)
            )
            products = []
            for leaf in input_leaves:
                if isinstance(leaf, Tensor):
                    product = next(found)
                    product = creation.zeros_like(leaf) if product is None else product
                    products.append(product if keep else product.detach())
                else:
                    products.append(leaf)
        return _unflatten(products, input_spec)

    value = _unwrapped(output, keep_graph)
    return (value, vjp_fn, _unwrapped(aux, keep_graph)) if has_aux else (value, vjp_fn)


def _check_jvp_leaves(what: str, leaves: list) -> None:
    if not leaves:
        raise RuntimeError(f"jvp(f, primals, tangents): Expected {what} to contain at least one Tensor.")
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {what} to only contain Tensors, got {type(leaf)}")


def _check_dual(primal: Tensor, tangent: Tensor) -> None:
    """What torch's ``make_dual`` demands of a (primal, tangent) pair: both differentiable dtypes, one shape."""
    for what, tensor in (("primal", primal), ("tangent", tangent)):
        if not (tensor.is_floating_point() or tensor.is_complex()):
            raise ValueError(f"Expected {what} to be floating point or complex, but got: {tensor.dtype}")
    if tuple(primal.shape) != tuple(tangent.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(primal.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )


def _tangent_dtype(out: Tensor, primals: list, tangents: list, contributing: list) -> object:
    """The dtype torch's forward mode gives an output's tangent: a primal passed through, or a view of one,
    carries its tangent as given (dtype included); a computed output's tangent is the output's dtype
    promoted with the dtypes of the tangents flowing in (a float32 function of a float64 tangent gives a
    float64 tangent). The double-vjp trick computes the tangent at the output's precision and casts it, so a
    tangent wider than its primal keeps the primal's precision; and a cast inside ``func`` to a narrower dtype,
    which narrows torch's tangent, is invisible to it: the promotion rule is applied there too."""
    base = out._base
    for primal, tangent in zip(primals, tangents, strict=True):
        if out is primal or (base is not None and (base is primal or base is primal._base)):
            return tangent.dtype
    dtype = out.dtype
    for tangent_dtype in contributing:
        dtype = promote_types(dtype, tangent_dtype)
    return dtype


def jvp(func: Callable, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """(func(*primals), J @ tangents): the Jacobian-vector product (by the double-vjp trick)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    primal_leaves, primal_spec = _flatten(primals)
    tangent_leaves, tangent_spec = _flatten(tangents)
    if primal_spec != tangent_spec:
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be."
        )
    _check_jvp_leaves("primals", primal_leaves)
    _check_jvp_leaves("tangents", tangent_leaves)
    for primal, tangent in zip(primal_leaves, tangent_leaves, strict=True):
        _check_dual(primal, tangent)
    keep_graph = _any_watched(primals) or _any_watched(tangents)
    with enable_grad():
        watched = [_map(_watched, primal) for primal in primals]
        output, aux = _split_aux("jvp", func(*watched), has_aux)
        if has_aux:
            _checked_aux(aux)
        output_leaves, output_spec = _flatten(output)
        dummies = [creation.zeros_like(out).requires_grad_(True) for out in output_leaves]
        inputs = _flatten(tuple(watched))[0]
        # (an output off the tape, a constant, has a zero tangent and takes no part in the passes)
        live = [(out, dummy) for out, dummy in zip(output_leaves, dummies, strict=True) if out.requires_grad]
        live_outputs, live_dummies = [out for out, _ in live], [dummy for _, dummy in live]
        transposed = (
            _autograd_grad(live_outputs, inputs, grad_outputs=live_dummies, create_graph=True, allow_unused=True)
            if live
            else [None] * len(inputs)
        )
        pairs = [(t, v) for t, v in zip(transposed, tangent_leaves, strict=True) if t is not None]
        if pairs:
            found = _autograd_grad([t for t, _ in pairs], dummies, grad_outputs=[v for _, v in pairs],
                                   create_graph=keep_graph, allow_unused=True)  # fmt: skip
        else:
            found = [None] * len(dummies)
        contributing = [v.dtype for _, v in pairs]
        products = []
        for out, product in zip(output_leaves, found, strict=True):
            if product is None:  # (an output that depends on no primal: a zero tangent of its own dtype)
                products.append(creation.zeros_like(out))
                continue
            product = product if keep_graph else product.detach()
            products.append(product.to(_tangent_dtype(out, inputs, tangent_leaves, contributing)))
    result = (_unwrapped(output, keep_graph), _unflatten(products, output_spec))
    return (*result, _unwrapped(aux, keep_graph)) if has_aux else result


def jacrev(func: Callable, argnums=0, *, has_aux: bool = False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of ``func`` w.r.t. ``args[argnums]``: output.shape + input.shape
    for each (output, input) pair, one reverse pass per output element (``chunk_size`` only bounds how many
    torch batches, so it is checked and otherwise has no effect here)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        indices, args, keep_graph = _watch_argnums(argnums, args)
        with enable_grad():
            output, aux = _split_aux("jacrev", func(*args, **kwargs), has_aux)
            if has_aux:
                _checked_aux(aux)
            output_leaves, output_spec = _flatten(output)
            trees = [_flatten(args[index]) for index in indices]
            inputs = [leaf for leaves, _ in trees for leaf in leaves]
            per_output = []
            for out in output_leaves:
                rows = [[] for _ in inputs]
                flat_out = out.reshape(-1)
                for element in range(flat_out.numel()):
                    for k, gradient in enumerate(_gradients(flat_out[element], inputs, keep_graph)):
                        rows[k].append(gradient)
                blocks = []
                for leaf, row in zip(inputs, rows, strict=True):
                    block = stack(row, 0) if row else creation.zeros(0, *leaf.shape, dtype=leaf.dtype)
                    blocks.append(block.reshape(*out.shape, *leaf.shape))
                grouped, start = [], 0
                for leaves, spec in trees:
                    grouped.append(_unflatten(blocks[start : start + len(leaves)], spec))
                    start += len(leaves)
                per_output.append(grouped[0] if not isinstance(argnums, tuple) else tuple(grouped))
        jacobian = _unflatten(per_output, output_spec)
        return (jacobian, _unwrapped(aux, keep_graph)) if has_aux else jacobian

    return wrapper


def jacfwd(func: Callable, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian, as ``jacrev`` computes it (the same values; forward mode's cost is not modelled).
    torch runs ``func`` under ``vmap`` with ``randomness``, so a random op in it is refused by default."""
    reverse = jacrev(func, argnums, has_aux=has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for index in _argnum_tuple(argnums, len(args)):
            for leaf in _flatten(args[index])[0]:
                if not isinstance(leaf, Tensor):  # (torch sizes its basis from the inputs before anything else)
                    raise AttributeError(f"'{type(leaf).__name__}' object has no attribute 'numel'")
        _check_randomness(randomness)
        with random.refusing_random(randomness == "error"):
            return reverse(*args, **kwargs)

    return wrapper


def hessian(func: Callable, argnums=0):
    """The Hessian of ``func``'s scalar output w.r.t. ``args[argnums]``: the Jacobian of its gradient."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------------------------------------
# vmap
# ---------------------------------------------------------------------------------------------


def _function_name(func) -> str:
    return getattr(func, "__name__", repr(func))


def _dims_per_leaf(name: str, in_dims, args: tuple) -> list:
    """in_dims broadcast over each argument's leaves (an int or None for all, or a tree like args)."""
    if isinstance(in_dims, int):
        return [in_dims] * len(_flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a (potentially nested) "
            f"tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    if len(in_dims) != len(args):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the structure of "
            f"`inputs`. in_dims has {len(in_dims)} entries but inputs has {len(args)}."
        )
    dims = []
    for dim, arg in zip(in_dims, args, strict=True):
        count = len(_flatten(arg)[0])
        if dim is None or isinstance(dim, int):
            dims += [dim] * count
        else:
            dim_leaves, _ = _flatten(dim)
            if len(dim_leaves) != count:
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the structure of "
                    "`inputs`."
                )
            dims += dim_leaves
    return dims


def _check_randomness(randomness: str) -> None:
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


def vmap(func: Callable, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None) -> Callable:
    """``func`` mapped over a dimension of its inputs: one call per slice, results stacked along ``out_dims``
    (``chunk_size`` only bounds how many slices torch batches at once: checked, otherwise no effect here)."""
    _check_randomness(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = _function_name(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        leaves, spec = _flatten(args)
        dims = _dims_per_leaf(name, in_dims, args)
        size = None
        normalized = []
        for leaf, dim in zip(leaves, dims, strict=True):
            if dim is None:
                normalized.append(None)
                continue
            if not isinstance(leaf, Tensor):
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input but the input is "
                    f"of type {type(leaf)}. We cannot vmap over non-Tensor arguments, please use None as the "
                    "respective in_dim"
                )
            if not -leaf.dim() <= dim < leaf.dim():
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for some input, but that input "
                    f"is a Tensor of dimensionality {leaf.dim()} so expected in_dim to satisfy "
                    f"-{leaf.dim()} <= in_dim < {leaf.dim()}."
                )
            dim %= leaf.dim()
            normalized.append(dim)
            if size is None:
                size = leaf.shape[dim]
            elif leaf.shape[dim] != size:
                sizes = [leaf.shape[d] for leaf, d in zip(leaves, normalized, strict=False) if d is not None]
                raise ValueError(
                    "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                    f"{sizes} for the mapped dimension"
                )
        if size is None:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        state = random.get_rng_state() if randomness == "same" else None
        results = []
        for index in range(size):
            sliced = [leaf if d is None else leaf.select(d, index) for leaf, d in zip(leaves, normalized, strict=True)]
            if state is not None:
                random.set_rng_state(state)
            with random.refusing_random(randomness == "error"):
                results.append(func(*_unflatten(sliced, spec), **kwargs))
        mapped = [leaf for leaf, d in zip(leaves, normalized, strict=True) if d is not None]
        return _stack_results(name, results, out_dims, mapped)

    return wrapper


def _stack_results(name: str, results: list, out_dims, mapped: list):
    first_leaves, spec = _flatten(results[0])
    dims = [out_dims] * len(first_leaves) if not isinstance(out_dims, tuple) else _flatten(out_dims)[0]
    if len(dims) != len(first_leaves):
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the structure of "
            "`outputs`."
        )
    columns = [_flatten(result)[0] for result in results]
    stacked = []
    for position, dim in enumerate(dims):
        values = [column[position] for column in columns]
        if dim is None:
            if _batched(values, mapped):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            stacked.append(values[0])
            continue
        if not all(isinstance(value, Tensor) for value in values):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(values[0])}. Did you mean to "
                "set out_dims= to None for output?"
            )
        stacked.append(stack(values, dim))
    return _unflatten(stacked, spec)


def _batched(values: list, mapped: list) -> bool:
    """Whether an output depends on the mapped inputs (torch's BatchedTensor): it is a view of one (a slice
    itself included), or it differs between the slices. (Calling once per slice, vmap cannot see a
    dependence whose value is the same in every slice, such as ``x.sum()`` of identical rows or ``x * 0``,
    which torch refuses under ``out_dims=None`` too; such an output is returned.)"""
    first = values[0]
    if not isinstance(first, Tensor):
        return False
    bases = {id(leaf) for leaf in mapped} | {id(leaf._base) for leaf in mapped if leaf._base is not None}
    if any(isinstance(value, Tensor) and id(value._base) in bases for value in values):
        return True
    for value in values[1:]:
        if value is first:
            continue
        if not isinstance(value, Tensor) or value.dtype != first.dtype or tuple(value.shape) != tuple(first.shape):
            return True
        if not bool(isclose(value.detach(), first.detach(), rtol=0, atol=0, equal_nan=True).all()):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Modules as functions
# ---------------------------------------------------------------------------------------------


def _owner(module, dotted: str):
    *path, leaf = dotted.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights: bool = True,
                    strict: bool = False):  # fmt: skip
    """``module(*args, **kwargs)`` with the named parameters and buffers replaced by the given tensors for
    the call (the module's own are restored afterwards, also when the call raises)."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        replacements = dict(dicts)
    else:
        replacements = {}
        for table in dicts:
            for key in table:
                if key in replacements:
                    raise ValueError(
                        f"{key} appeared in multiple dictionaries; behavior of functional call is ambiguous"
                    )
            replacements.update(table)
    if strict:
        expected = {name for name, _ in module.named_parameters()} | {name for name, _ in module.named_buffers()}
        missing, unexpected = sorted(expected - set(replacements)), sorted(set(replacements) - expected)
        if missing or unexpected:
            raise RuntimeError(
                f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                + (f"Unexpected key(s): {', '.join(map(repr, unexpected))}." if unexpected else "")
                + (f"Missing key(s): {', '.join(map(repr, missing))}." if missing else "")
            )
    if tie_weights:  # a tensor shared under two names is replaced under both
        by_identity: dict[int, list[str]] = {}
        for name, tensor in (
            *module.named_parameters(remove_duplicate=False),
            *module.named_buffers(remove_duplicate=False),
        ):
            by_identity.setdefault(id(tensor), []).append(name)
        for names in by_identity.values():
            given = [name for name in names if name in replacements]
            for name in names:
                if given and name not in replacements:
                    replacements[name] = replacements[given[0]]
    saved = []
    try:
        for dotted, tensor in replacements.items():
            owner, leaf = _owner(module, dotted)
            table = (
                owner._parameters if leaf in owner._parameters else owner._buffers if leaf in owner._buffers else None
            )
            if table is None:
                saved.append((owner, leaf, None, owner.__dict__.get(leaf)))
                object.__setattr__(owner, leaf, tensor)
            else:
                saved.append((owner, leaf, table, table[leaf]))
                table[leaf] = tensor
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, leaf, table, original in reversed(saved):
            if table is None:
                if original is None:
                    owner.__dict__.pop(leaf, None)
                else:
                    object.__setattr__(owner, leaf, original)
            else:
                table[leaf] = original


def stack_module_state(models) -> tuple[dict, dict]:
    """(parameters, buffers) of same-shaped ``models`` stacked along a new leading dim, for ``vmap`` over
    ``functional_call``; the stacked parameters are new leaves that require grad where the originals do."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = models[0]
    parameters = {
        name: stack([dict(m.named_parameters())[name].detach() for m in models]).requires_grad_(param.requires_grad)
        for name, param in first.named_parameters()
    }
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models]) for name, _ in first.named_buffers()}
    return parameters, buffers

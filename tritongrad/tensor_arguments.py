"""torch's TypeError for a non-tensor where one of these functions takes a Tensor (``torch.allclose(x,
1)``: "allclose(): argument 'other' (position 2) must be Tensor, not int"), where tritongrad's code
would fail later with an AttributeError of its own.

The one home of the check: ``install`` runs once, when ``tritongrad`` has finished importing, and
wraps the functions (and the Tensor methods of the same names) listed below with a check of the
named parameters. A method's position counts from the first argument after self, as torch's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType

from tritongrad.dtypes import python_type_name
from tritongrad.tensor import Tensor

__all__ = ["install"]

# function -> its Tensor parameters, by torch's names, in order (functions: position 1 first)
_TENSOR_PARAMETERS: dict[str, tuple[str, ...]] = {
    "allclose": ("input", "other"), "isclose": ("input", "other"), "equal": ("input", "other"),
    "is_same_size": ("input", "other"), "cross": ("input", "other"), "inner": ("input", "other"),
    "kron": ("input", "other"), "vdot": ("input", "other"), "cdist": ("x1", "x2"),
    "cholesky_solve": ("input", "input2"), "logical_and": ("input", "other"), "logical_or": ("input", "other"),
    "logical_xor": ("input", "other"), "logical_not": ("input",), "type_as": ("input", "other"),
}  # fmt: skip
# torch.* functions that read a tensor's metadata (the Tensor methods of these names are left unwrapped:
# they are on hot paths, and their self is a tensor already)
_FUNCTION_ONLY_TENSOR_PARAMETERS: dict[str, tuple[str, ...]] = {
    name: ("input",) for name in ("is_floating_point", "is_complex", "numel", "is_nonzero", "is_inference")
}
# torch.* functions whose first argument must be a tensor, by torch's name for it (functions only): given a
# Python number, list or array, torch raises this TypeError where tritongrad's code would fail later with an
# AttributeError (``torch.all(dt == t.grad)`` with a None grad: ``torch.all(False)``)
_FUNCTION_ONLY_TENSOR_PARAMETERS.update(
    {name: (parameter,) for name, parameter in {
        "adjoint": "input", "amax": "input", "amin": "input", "aminmax": "input", "argmax": "input",
        "argmin": "input", "argsort": "input", "argwhere": "input", "bincount": "input", "clone": "input",
        "combinations": "input", "conj_physical_": "input", "corrcoef": "input", "count_nonzero": "input",
        "cov": "input", "cumulative_trapezoid": "y", "detach": "input", "detach_": "input", "diag": "input",
        "diag_embed": "input", "diagflat": "input", "diagonal": "input", "diff": "input", "flatten": "input",
        "fliplr": "input", "flipud": "input", "get_device": "input", "gradient": "input", "histc": "input",
        "histogram": "input", "is_neg": "input", "is_signed": "input", "max": "input", "mean": "input",
        "median": "input", "min": "input", "mode": "input", "msort": "input", "nanmean": "input",
        "nanmedian": "input", "nansum": "input", "nonzero": "input", "nuclear_norm": "input", "pinverse": "input",
        "positive": "input", "prod": "input", "ravel": "input", "repeat_interleave": "repeats",
        "resolve_neg": "input", "rot90": "input", "signbit": "input", "sinc": "input", "sinc_": "input",
        "sort": "input", "squeeze": "input", "sum": "input", "t": "input", "tile": "input", "trace": "input",
        "trapezoid": "y", "trapz": "y", "tril": "input", "triu": "input", "unbind": "input", "unique": "input",
        "unique_consecutive": "input", "vander": "x", "where": "condition", "zero_": "input", "dist": "input",
    }.items()}
)  # fmt: skip
# The same for functions torch declares with several signatures: its TypeError lists them (only its
# first line is reproduced)
_OVERLOADED_FIRST_TENSOR = ("all", "any", "atleast_1d", "atleast_2d", "atleast_3d", "clamp", "clamp_", "clip",
                            "clip_", "hsplit", "std", "std_mean", "tensor_split", "var", "var_mean")  # fmt: skip
# torch.* functions taking tensors as varargs (or one sequence), and as one sequence only: each element
# must be a tensor
_TENSOR_ELEMENTS = ("broadcast_tensors", "cartesian_prod", "chain_matmul", "meshgrid")
_TENSOR_SEQUENCE = ("hstack", "vstack", "dstack", "column_stack", "row_stack")
# nn.functional's losses (functions only)
_FUNCTIONAL_TENSOR_PARAMETERS: dict[str, tuple[str, ...]] = {
    "cosine_embedding_loss": ("input1", "input2", "target"),
    "hinge_embedding_loss": ("input", "target"),
    "triplet_margin_loss": ("anchor", "positive", "negative"),
}  # fmt: skip  (margin_ranking_loss: torch's own fails with an AttributeError, as tritongrad's does)


def _checking(name: str, parameters: tuple[str, ...], function: Callable, method: bool) -> Callable:
    checked = parameters[1:] if method else parameters  # (a method's self is a tensor already)

    @functools.wraps(function)
    def with_tensor_check(*args, **kwargs):
        given = args[1:] if method else args
        for position, parameter in enumerate(checked):
            if position < len(given):
                value = given[position]
            elif parameter in kwargs:
                value = kwargs[parameter]
            else:
                continue  # (missing: the function's own error)
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"{name}(): argument '{parameter}' (position {position + 1}) must be Tensor, not "
                    f"{python_type_name(value)}"
                )
        return function(*args, **kwargs)

    with_tensor_check.__tensor_arguments__ = True
    return with_tensor_check


def _checking_overloaded(name: str, function: Callable) -> Callable:
    @functools.wraps(function)
    def with_tensor_check(*args, **kwargs):
        if args and not isinstance(args[0], Tensor):
            given = [python_type_name(a) for a in args] + [f"{k}={python_type_name(v)}" for k, v in kwargs.items()]
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got ({', '.join(given)}), but expected "
                "one of:"
            )
        return function(*args, **kwargs)

    with_tensor_check.__tensor_arguments__ = True
    return with_tensor_check


def _checking_elements(function: Callable, sequence_only: bool) -> Callable:
    @functools.wraps(function)
    def with_tensor_check(*args, **kwargs):
        elements = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        if sequence_only and elements is args:
            return function(*args, **kwargs)  # (not a sequence: the function's own TypeError)
        for index, element in enumerate(elements):
            if not isinstance(element, Tensor):
                raise TypeError(
                    f"expected Tensor as element {index} in argument 0, but got {python_type_name(element)}"
                )
        return function(*args, **kwargs)

    with_tensor_check.__tensor_arguments__ = True
    return with_tensor_check


def install(namespace: ModuleType, functional: ModuleType) -> None:
    """Wraps ``namespace``'s functions and Tensor's methods of the names above, and ``functional``'s losses."""
    for owner, table, method in ((namespace, _TENSOR_PARAMETERS, False), (Tensor, _TENSOR_PARAMETERS, True),
                                 (namespace, _FUNCTION_ONLY_TENSOR_PARAMETERS, False),
                                 (functional, _FUNCTIONAL_TENSOR_PARAMETERS, False)):  # fmt: skip
        for name, parameters in table.items():
            function = getattr(owner, name, None)
            if function is not None and not getattr(function, "__tensor_arguments__", False):
                setattr(owner, name, _checking(name, parameters, function, method))
    for names, checking in ((_OVERLOADED_FIRST_TENSOR, _checking_overloaded),
                            (_TENSOR_ELEMENTS, lambda name, f: _checking_elements(f, sequence_only=False)),
                            (_TENSOR_SEQUENCE, lambda name, f: _checking_elements(f, sequence_only=True))):  # fmt: skip
        for name in names:
            function = getattr(namespace, name, None)
            if function is not None and not getattr(function, "__tensor_arguments__", False):
                setattr(namespace, name, checking(name, function))

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
                    f"{type(value).__name__}"
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

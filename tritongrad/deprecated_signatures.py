"""torch's deprecated number-first signatures, which torch 2 still accepts with a warning and older
code uses throughout (optimizers written before torch 1.5: ``p.data.add_(-lr, grad)``,
``exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)``, ``p.data.addcdiv_(-step, m, denom)``;
``torch.addmm(beta, input, alpha, m1, m2)``).

The one home of these forms: ``install`` runs once, when ``tritongrad`` has finished importing, and
wraps the functions and Tensor methods below so that a call in the old form is rewritten into the
current one (the scalar becomes ``alpha=``/``value=``/``beta=``), with torch's UserWarning (shown
once per calling line, by Python's default warning filter). Calls in the current form pass straight through.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Callable
from types import ModuleType

from tritongrad.tensor import Tensor

__all__ = ["install"]


def _number(value) -> bool:
    return isinstance(value, numbers.Number)


def _scaled_other(args: tuple, kwargs: dict, method: bool) -> tuple[tuple, dict] | None:
    """add/sub(input, alpha, other) -> (input, other, alpha=alpha)."""
    if len(args) == 3 and isinstance(args[0], Tensor) and _number(args[1]) and isinstance(args[2], Tensor):
        return (args[0], args[2]), {**kwargs, "alpha": args[1]}
    return None


def _scaled_product(args: tuple, kwargs: dict, method: bool) -> tuple[tuple, dict] | None:
    """addcmul/addcdiv(input, value, tensor1, tensor2) -> (input, tensor1, tensor2, value=value)."""
    if len(args) == 4 and isinstance(args[0], Tensor) and _number(args[1]):
        return (args[0], *args[2:]), {**kwargs, "value": args[1]}
    return None


def _scaled_sum(args: tuple, kwargs: dict, method: bool) -> tuple[tuple, dict] | None:
    """addmm and its family: (beta, input, [alpha,] a, b) as functions, (input, beta, [alpha,] a, b)
    as methods -> (input, a, b, beta=beta, alpha=alpha)."""
    if len(args) < 4:
        return None
    if not method and _number(args[0]) and isinstance(args[1], Tensor):
        beta, input, rest = args[0], args[1], args[2:]
    elif method and isinstance(args[0], Tensor) and _number(args[1]):
        input, beta, rest = args[0], args[1], args[2:]
    else:
        return None
    options = {**kwargs, "beta": beta}
    if len(rest) == 3 and _number(rest[0]):
        options["alpha"], rest = rest[0], rest[1:]
    if len(rest) != 2:
        return None
    return (input, *rest), options


# name -> (the rewrite, the old signature and the new one as torch's warning words them)
_FORMS: dict[str, tuple[Callable, str, str]] = {}
for _name in ("add", "sub"):
    for _suffix in ("", "_"):
        _FORMS[_name + _suffix] = (_scaled_other, f"{_name}{_suffix}(Number alpha, Tensor other)",
                                   f"{_name}{_suffix}(Tensor other, *, Number alpha = 1)")  # fmt: skip
for _name in ("addcmul", "addcdiv"):
    for _suffix in ("", "_"):
        _FORMS[_name + _suffix] = (
            _scaled_product, f"{_name}{_suffix}(Number value, Tensor tensor1, Tensor tensor2)",
            f"{_name}{_suffix}(Tensor tensor1, Tensor tensor2, *, Number value = 1)",
        )  # fmt: skip
for _name, (_first, _second) in {"addmm": ("mat1", "mat2"), "addmv": ("mat", "vec"), "addr": ("vec1", "vec2"),
                                 "addbmm": ("batch1", "batch2"), "baddbmm": ("batch1", "batch2")}.items():  # fmt: skip
    for _suffix in ("", "_"):
        _FORMS[_name + _suffix] = (
            _scaled_sum, f"{_name}{_suffix}(Number beta, Number alpha, Tensor {_first}, Tensor {_second})",
            f"{_name}{_suffix}(Tensor {_first}, Tensor {_second}, *, Number beta = 1, Number alpha = 1)",
        )  # fmt: skip


def _accepting_old_form(name: str, function: Callable, method: bool) -> Callable:
    rewrite, old, new = _FORMS[name]

    @functools.wraps(function)
    def accepting(*args, **kwargs):
        if len(args) >= 3:
            rewritten = rewrite(args, kwargs, method)
            if rewritten is not None:
                warnings.warn(
                    f"This overload of {name} is deprecated:\n\t{old}\nConsider using one of the following "
                    f"signatures instead:\n\t{new}",
                    UserWarning,
                    stacklevel=2,
                )
                args, kwargs = rewritten
        return function(*args, **kwargs)

    accepting.__deprecated_signatures__ = True
    return accepting


def install(namespace: ModuleType) -> None:
    """Wraps ``namespace``'s functions and Tensor's methods of the names above (those that exist)."""
    for name in _FORMS:
        for owner in (namespace, Tensor):
            function = getattr(owner, name, None)
            if function is not None and not getattr(function, "__deprecated_signatures__", False):
                setattr(owner, name, _accepting_old_form(name, function, owner is Tensor))

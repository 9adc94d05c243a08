"""torch's deprecated number-first signatures, which torch 2 still accepts with a warning and older
code uses throughout (optimizers written before torch 1.5: ``p.data.add_(-lr, grad)``,
``exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)``, ``p.data.addcdiv_(-step, m, denom)``;
``torch.addmm(beta, input, alpha, m1, m2)``).

The one home of these forms: ``install`` runs once, when ``tritongrad`` has finished importing, and
wraps the functions and Tensor methods below so that a call in the old form is rewritten into the
current one (the scalar becomes ``alpha=``/``value=``/``beta=``), with torch's UserWarning (shown
once per calling line, by Python's default warning filter). Calls in the current form pass straight through.

It also installs torch's stubs of the linear-algebra functions removed in torch 1.9 (``torch.symeig``,
``eig``, ``lstsq``, ``solve``, ``matrix_rank``, and the Tensor methods torch keeps of the first four), which
raise torch's RuntimeError with its migration advice, so code written for old torch fails as it does there.
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


_REMOVED_SINCE = "This function was deprecated since version 1.9 and is now removed."
# name -> (torch's message, whether torch keeps a Tensor method of the name)
_REMOVED: dict[str, tuple[str, bool]] = {
    "symeig": (
        f"{_REMOVED_SINCE} The default behavior has changed from using the upper triangular portion of the matrix by "
        "default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced "
        "with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
        "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
        True,
    ),
    "eig": (
        f"{_REMOVED_SINCE} `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than "
        "real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
        "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = torch.linalg.eig(A)",
        True,
    ),
    "lstsq": (
        f"{_REMOVED_SINCE} `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
        "reversed arguments and does not return the QR decomposition in the returned tuple (although it returns "
        "other information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`."
        "\n\nThe returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns "
        "of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of "
        "the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, A).solution[:A."
        "size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
        True,
    ),
    "solve": (
        f"{_REMOVED_SINCE} `torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its "
        "arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization see "
        "`torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution "
        "should be replaced with:\nX = torch.linalg.solve(A, B)",
        True,
    ),
    "matrix_rank": (
        f"{_REMOVED_SINCE}\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' "
        "was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
        False,
    ),
}


def _removed(name: str, message: str) -> Callable:
    def removed(input, *args, **kwargs):
        raise RuntimeError(message)

    removed.__name__ = removed.__qualname__ = name
    removed.__doc__ = f"Removed from torch in 1.9: raises torch's RuntimeError (use torch.linalg's {name})."
    return removed


def install(namespace: ModuleType) -> None:
    """Wraps ``namespace``'s functions and Tensor's methods of the names above (those that exist), and adds the
    removed functions' stubs where nothing of the name exists."""
    for name in _FORMS:
        for owner in (namespace, Tensor):
            function = getattr(owner, name, None)
            if function is not None and not getattr(function, "__deprecated_signatures__", False):
                setattr(owner, name, _accepting_old_form(name, function, owner is Tensor))
    for name, (message, method) in _REMOVED.items():
        for owner in (namespace, Tensor) if method else (namespace,):
            if not hasattr(owner, name):
                setattr(owner, name, _removed(name, message))

"""Tensor methods torch has for functions tritongrad defines elsewhere (``x.cov()``, ``x.inner(y)``,
``x.cumsum_(0)``), the layout/backend flags scripts read (``grad.is_sparse``), and ``to()``'s
positional forms, each compared with torch by ``agree``: values, dtypes, gradients, or the
exception type and the head of its message."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree


def _matrix(lib, rows=3, columns=4):
    generator = torch.Generator().manual_seed(rows * 10 + columns)
    values = torch.randn(rows, columns, dtype=torch.float64, generator=generator)
    return values if lib is torch else lib.tensor(values.tolist(), dtype=torch.float64)


def _in_place_gradient(method: str):
    def run(lib):
        leaf = _matrix(lib).requires_grad_()
        result = leaf * 1.5
        getattr(result, method)(1)
        (result * _matrix(lib)).sum().backward()
        return [result, type(result.grad_fn).__name__, leaf.grad]

    return run


CASES = {
    "cov and corrcoef": lambda lib: [_matrix(lib).cov(), _matrix(lib).corrcoef(), _matrix(lib).cov(correction=0)],
    "inner, vdot, addr": lambda lib: [
        _matrix(lib).inner(_matrix(lib, 2, 4)),
        _matrix(lib)[0].vdot(_matrix(lib)[1]),
        _matrix(lib, 3, 3).addr(_matrix(lib)[0, :3], _matrix(lib)[1, :3], beta=0.5, alpha=2),
    ],
    "matrix_power": lambda lib: [_matrix(lib, 3, 3).matrix_power(n) for n in (0, 1, 3, -2)],
    "scatter family": lambda lib: [
        _matrix(lib, 3, 3).diagonal_scatter(_matrix(lib)[0, :3]),
        _matrix(lib).select_scatter(_matrix(lib)[0], 0, 2),
        _matrix(lib).slice_scatter(_matrix(lib, 3, 2), 1, 0, 4, 2),
    ],
    "unique_consecutive": lambda lib: lib.tensor([1, 1, 2, 2, 3, 1, 1]).unique_consecutive(return_counts=True),
    "triangular_solve": lambda lib: _matrix(lib, 3, 2).triangular_solve(
        _matrix(lib, 3, 3).triu() + 3 * lib.eye(3, dtype=torch.float64)
    ),
    "prelu": lambda lib: _matrix(lib).prelu(lib.tensor([0.25], dtype=torch.float64)),
    "positive": lambda lib: (lambda x: [x.positive() is x, x.positive()])(_matrix(lib)),
    "positive of bool": lambda lib: lib.tensor([True]).positive(),
    "isreal": lambda lib: [_matrix(lib).isreal(), lib.isreal(lib.tensor([1, 2]))],
    "is_same_size": lambda lib: [_matrix(lib).is_same_size(_matrix(lib)), _matrix(lib).is_same_size(_matrix(lib, 4))],
    "unsafe_chunk and unsafe_split": lambda lib: [
        _matrix(lib).unsafe_chunk(2, 1),
        _matrix(lib).unsafe_split(3, 1),
        _matrix(lib).unsafe_split_with_sizes([1, 3], 1),
    ],
    "cumsum_ with its gradient": _in_place_gradient("cumsum_"),
    "cumprod_ with its gradient": _in_place_gradient("cumprod_"),
    "cumsum_ of a leaf that requires grad": lambda lib: _matrix(lib).requires_grad_().cumsum_(0),
    "new_empty_strided": lambda lib: (lambda e: [tuple(e.shape), e.stride(), e.dtype])(
        _matrix(lib).new_empty_strided((2, 3), (1, 2))
    ),
    "output_nr": lambda lib: [
        _matrix(lib).output_nr,
        (lambda parts: [p.output_nr for p in parts])(_matrix(lib).requires_grad_().unbind(0)),
    ],
    "layout and backend flags": lambda lib: [
        getattr(_matrix(lib), flag)
        for flag in (
            "is_sparse",
            "is_sparse_csr",
            "is_quantized",
            "is_meta",
            "is_mkldnn",
            "is_nested",
            "is_mps",
            "is_xpu",
            "is_ipu",
            "is_xla",
            "is_vulkan",
            "is_maia",
            "is_mtia",
        )
    ],  # fmt: skip
    "multiply_, subtract_, divide_, true_divide_": lambda lib: [
        (lambda x: x.multiply_(2))(_matrix(lib)),
        (lambda x: x.subtract_(_matrix(lib), alpha=2))(_matrix(lib)),
        (lambda x: x.divide_(3, rounding_mode="floor"))(_matrix(lib)),
        (lambda x: x.true_divide_(3))(_matrix(lib)),
    ],
    "true_divide_ of an integer tensor": lambda lib: lib.tensor([3, 4]).true_divide_(2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_method_matches_torch(name):
    agree(name, CASES[name], [], message=True)

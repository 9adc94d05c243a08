"""Follow-ups of the eighth red-team round outside the fix helpers' files, each compared with torch: the
legacy constructor's device keyword, Tensor.type's non_blocking and CUDA names, complex values written
into bool tensors, torch.is_nonzero of an empty tensor."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_hardening import agree

CASES = {
    "Tensor(list, device=cpu)": lambda lib: lib.Tensor([1, 2], device="cpu"),
    "Tensor(sizes, device=cpu) shape": lambda lib: lib.Tensor(2, 3, device=lib.device("cpu")).shape,
    "Tensor(list, device=cuda)": lambda lib: lib.Tensor([1], device="cuda"),
    "Tensor(list, device=meta)": lambda lib: lib.Tensor(2, device="meta"),
    "Tensor(tensor, device=cpu)": lambda lib: lib.Tensor(lib.ones(1), device="cpu"),
    "Tensor(list, dtype=)": lambda lib: lib.Tensor([1.5], dtype=lib.float64),
    "type(dtype, non_blocking=True)": lambda lib: lib.ones(2).type(lib.int32, non_blocking=True),
    "type(name, True)": lambda lib: lib.ones(2).type("torch.IntTensor", True),
    "type(cuda name) without a GPU": lambda lib: lib.ones(2).type("torch.cuda.FloatTensor"),
    "bool fill_ of 1j": lambda lib: lib.zeros(2, dtype=lib.bool).fill_(1j),
    "bool fill_ of 0j": lambda lib: lib.ones(2, dtype=lib.bool).fill_(0j),
    "bool masked_fill of 2j": lambda lib: lib.zeros(2, dtype=lib.bool).masked_fill(lib.tensor([True, False]), 2j),
    "bool setitem of 1j": lambda lib: (lambda x: (x.__setitem__(0, 1j), x)[1])(lib.zeros(2, dtype=lib.bool)),
    "float fill_ of 1j": lambda lib: lib.zeros(2).fill_(1j),
    "is_nonzero of an empty tensor": lambda lib: lib.is_nonzero(lib.ones(0)),
    "is_nonzero of two elements": lambda lib: lib.is_nonzero(lib.ones(2)),
    "is_nonzero of [0.]": lambda lib: lib.is_nonzero(lib.zeros(1)),
    "outer of a matrix first": lambda lib: lib.outer(lib.ones(2, 2), lib.ones(2)),
    "outer of a matrix second": lambda lib: lib.outer(lib.ones(2), lib.ones(2, 2)),
    "sort of complex": lambda lib: lib.ones(2, dtype=lib.complex64).sort(),
    "argsort of complex": lambda lib: lib.ones(2, dtype=lib.complex64).argsort(),
    "msort of complex": lambda lib: lib.ones(2, dtype=lib.complex64).msort(),
    "topk of complex": lambda lib: lib.ones(2, dtype=lib.complex64).topk(1),
    "asarray shares a numpy array": lambda lib: _written_after(lib, lambda a: lib.asarray(a)),
    "asarray with a dtype change copies": lambda lib: _written_after(lib, lambda a: lib.asarray(a, dtype=lib.float32)),
    "asarray copy=True copies": lambda lib: _written_after(lib, lambda a: lib.asarray(a, copy=True)),
    "asarray copy=False shares": lambda lib: _written_after(lib, lambda a: lib.asarray(a, copy=False)),
    "asarray copy=False of another dtype": lambda lib: lib.asarray(np.arange(3.0), dtype=lib.float32, copy=False),
    "asarray copy=False of a tensor": lambda lib: lib.asarray(lib.ones(2), dtype=lib.float64, copy=False),
    "asarray copy=False of a list": lambda lib: lib.asarray([1, 2], copy=False),
    "asarray copy=False of a numpy scalar": lambda lib: lib.asarray(np.float64(2.5), copy=False),
    "asarray of a numpy scalar": lambda lib: lib.asarray(np.float64(2.5)),
    "asarray of a reversed array": lambda lib: lib.asarray(np.arange(3.0)[::-1]),
}


def _written_after(lib, make):
    """The tensor made from a numpy array, read after the array was written: shared or copied."""
    array = np.arange(3.0)
    tensor = make(array)
    array[0] = 9.0
    return tensor


@pytest.mark.parametrize("name", list(CASES))
def test_followups(name):
    agree(name, CASES[name], [], message=name != "Tensor(list, dtype=)")

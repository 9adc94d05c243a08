"""Complex tensors through tritongrad's real-only data movement, selection and predicates, answered by
their parts (tritongrad/complex_parts.py), compared with torch: values, gradients (float64 parts, a
real loss), in-place writes, and that real tensors take the ops' own paths."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree


def _complex(lib, shape=(3, 4), seed=0, requires_grad=False):
    generator = torch.Generator().manual_seed(seed)
    real = torch.randn(shape, generator=generator, dtype=torch.float64)
    imag = torch.randn(shape, generator=generator, dtype=torch.float64)
    real[0, 1] = 0.0  # (an element with a zero real part, one that is all zero)
    imag[2, 3] = 0.0
    real[1, 2] = imag[1, 2] = 0.0
    z = lib.complex(lib.tensor(real.tolist(), dtype=lib.float64), lib.tensor(imag.tolist(), dtype=lib.float64))
    return z.requires_grad_() if requires_grad else z


VALUES = {
    "flip": lambda lib, z: z.flip(0, 1),
    "fliplr": lambda lib, z: lib.fliplr(z),
    "roll": lambda lib, z: z.roll((1, -1), (0, 1)),
    "roll flat": lambda lib, z: lib.roll(z, 2),
    "rot90": lambda lib, z: z.rot90(),
    "tril": lambda lib, z: z.tril(),
    "triu -1": lambda lib, z: lib.triu(z, -1),
    "gather": lambda lib, z: z.gather(1, lib.tensor([[0, 0], [3, 1], [2, 2]])),
    "index_select": lambda lib, z: z.index_select(1, lib.tensor([3, 0, 3])),
    "take": lambda lib, z: z.take(lib.tensor([0, 11, 5])),
    "take_along_dim": lambda lib, z: lib.take_along_dim(z, lib.tensor([[1], [0], [3]]), 1),
    "masked_select": lambda lib, z: z.masked_select(z.real > 0),
    "cumsum": lambda lib, z: z.cumsum(0),
    "repeat_interleave": lambda lib, z: z.repeat_interleave(2, dim=0),
    "advanced index": lambda lib, z: z[lib.tensor([2, 0]), 1:],
    "mask index": lambda lib, z: z[z.imag > 0],
    "where, a number": lambda lib, z: lib.where(z.real > 0, z, 0),
    "where, a complex number": lambda lib, z: lib.where(z.real > 0, 1 + 2j, z),
    "where, a real tensor": lambda lib, z: lib.where(z.real > 0, z, lib.ones(3, 4, dtype=lib.float64)),
    "masked_fill": lambda lib, z: z.masked_fill(z.imag < 0, 2j),
    "masked_fill, a 0-d tensor": lambda lib, z: z.masked_fill(z.imag < 0, lib.tensor(1 - 1j, dtype=lib.complex128)),
    "nonzero": lambda lib, z: z.nonzero(),
    "argwhere": lambda lib, z: lib.argwhere(z),
    "count_nonzero": lambda lib, z: z.count_nonzero(dim=1),
    "any": lambda lib, z: z.any(dim=0),
    "all": lambda lib, z: z.all(),
    "logical_not": lambda lib, z: z.logical_not(),
    "isnan": lambda lib, z: lib.where(z.real > 0, z / 0 * 0, z).isnan(),
    "isinf": lambda lib, z: lib.isinf(z / 0),
    "isfinite": lambda lib, z: (z / 0).isfinite(),
    "eq": lambda lib, z: z == z.conj(),
    "eq a number": lambda lib, z: z.eq(0),
    "ne": lambda lib, z: z != z.conj(),
    "equal": lambda lib, z: lib.equal(z, z.clone()),
    "isclose": lambda lib, z: lib.isclose(z, z + 1e-9j),
    "isclose with NaN": lambda lib, z: lib.isclose(z / 0, z / 0, equal_nan=True),
    "allclose": lambda lib, z: lib.allclose(z, z + 1e-3),
    "contains": lambda lib, z: (z[0, 0].item() in z, 5j in z),
    "fftshift": lambda lib, z: lib.fft.fftshift(z),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_values(name):
    agree(name, lambda lib: VALUES[name](lib, _complex(lib)), [])


GRADIENTS = ["flip", "roll", "tril", "gather", "index_select", "advanced index", "mask index", "cumsum",
             "where, a number", "where, a complex number", "masked_fill", "masked_select", "fftshift"]  # fmt: skip


@pytest.mark.parametrize("name", GRADIENTS)
def test_gradients(name):
    def run(lib):
        z = _complex(lib, requires_grad=True)
        y = VALUES[name](lib, z)
        loss = (y * y.conj()).real.sum() + (y.real * 3).sum()
        loss.backward()
        return loss.detach(), z.grad

    agree(name, run, [])


IN_PLACE = {
    "mask setitem": lambda lib, z: z.__setitem__(z.real > 0, 0),
    "index setitem of a complex number": lambda lib, z: z.__setitem__((lib.tensor([0, 2]), 1), 3 - 1j),
    "masked_fill_": lambda lib, z: z.masked_fill_(z.imag < 0, 1j),
    "index_fill_": lambda lib, z: z.index_fill_(1, lib.tensor([0, 3]), 2 + 2j),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place(name):
    def run(lib):
        z = _complex(lib)
        IN_PLACE[name](lib, z)
        return z

    agree(name, run, [])


REFUSED_BY_TORCH = {
    "flip without dims": lambda lib, z: lib.flip(z),
    "isin": lambda lib, z: lib.isin(z, z),
    "unique_consecutive": lambda lib, z: lib.unique_consecutive(z),
}


@pytest.mark.parametrize("name", list(REFUSED_BY_TORCH))
def test_what_torch_refuses_stays_refused(name):
    agree(name, lambda lib: REFUSED_BY_TORCH[name](lib, _complex(lib)), [])

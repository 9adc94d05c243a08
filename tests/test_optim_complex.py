"""Optimizers over complex parameters, as torch's: each complex tensor steps as its view_as_real
(kernels/optim.py), compared with torch after a few steps on the same loss."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, to_torch

OPTIMIZERS = {
    "SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "Adam": dict(lr=0.1),
    "AdamW": dict(lr=0.1, amsgrad=True),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1),
    "Adadelta": dict(),
    "Adamax": dict(),
    "NAdam": dict(),
    "RAdam": dict(),
    "Rprop": dict(),
    "ASGD": dict(),
}


def _train(lib, start, name):
    parameter = lib.nn.Parameter(start)
    optimizer = getattr(lib.optim, name)([parameter], **OPTIMIZERS[name])
    for _ in range(3):
        optimizer.zero_grad()
        loss = (parameter * parameter.conj()).real.sum() + (parameter.real * 2 - parameter.imag).sum()
        loss.backward()
        optimizer.step()
    return parameter.detach()


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_complex_parameters_step_as_torchs(name, dtype):
    generator = torch.Generator().manual_seed(5)
    start = torch.complex(torch.randn(7, generator=generator), torch.randn(7, generator=generator)).to(dtype)
    expected = _train(torch, start.clone(), name)
    got = _train(tritongrad, from_torch(start.clone()), name)
    # (compared by parts: float rounding differs in the last bit between the fused kernel and torch's loop)
    assert_close(torch.view_as_real(to_torch(got)), torch.view_as_real(expected), rtol=1e-5, atol=1e-6,
                 what=f"{name} {dtype}")  # fmt: skip

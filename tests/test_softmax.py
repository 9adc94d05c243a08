"""kernels/softmax.py against torch.softmax / torch.log_softmax and their autograd.

The oracle is torch in float64 on the same (rounded) inputs; the backward feeds the
kernel torch's own forward output, so both sides start from the same values.
Streaming (online) rows are exercised twice: with one real 100,000-element row, and
with a tiny block forced on ordinary rows so that rows span many blocks.
"""

from __future__ import annotations

import pytest
import torch

from tritongrad import runtime
from tritongrad.kernels import softmax as ks

DEVICE = runtime.device()
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
# (rtol, atol) per dtype; half types store 8 (bf16) or 11 (fp16) mantissa bits.
TOLERANCES = {
    torch.float32: (1e-5, 1e-6),
    torch.float64: (1e-10, 1e-12),
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (2e-2, 1e-2),
}


def assert_close(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str) -> None:
    """Same shape and dtype, equal NaN/inf positions, finite values within the dtype's tolerance."""
    assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape {tuple(actual.shape)} != {expected.shape}"
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype} != {dtype}"
    got, want = actual.double().cpu(), expected.double().cpu()
    assert torch.equal(got.isnan(), want.isnan()), f"{what} {dtype}: NaN positions differ:\n{got}\n{want}"
    same = (got == want) | got.isnan()  # also equal infinities
    error = torch.where(same, 0.0, (got - want).abs())
    rtol, atol = TOLERANCES[dtype]
    bound = atol + rtol * want.abs().nan_to_num(0.0, 0.0, 0.0)
    assert bool((error <= bound).all()), (
        f"{what}: shape {tuple(want.shape)} {dtype}: max abs error {error.max().item():.3g} "
        f"(max allowed {bound.max().item():.3g})"
    )


def torch_softmax(x: torch.Tensor, dim: int, log: bool) -> torch.Tensor:
    return torch.log_softmax(x, dim) if log else torch.softmax(x, dim)


def check_forward_and_backward(x: torch.Tensor, dim: int, log: bool, what: str) -> None:
    """Forward vs torch in float64; backward vs torch autograd in float64 from torch's output."""
    dtype = x.dtype
    reference_input = x.detach().to(torch.float64, copy=True).requires_grad_()
    reference = torch_softmax(reference_input, dim, log)
    assert_close(ks.launch_softmax_fwd(x, dim, log), reference, dtype, f"{what} forward")

    grad_out = torch.randn(x.shape, dtype=torch.float64, device=x.device)
    reference.backward(grad_out)
    out = torch_softmax(x.double(), dim, log).to(dtype)  # the saved output, in the input's dtype
    grad_input = ks.launch_softmax_bwd(grad_out.to(dtype), out, dim, log)
    assert_close(grad_input, reference_input.grad, dtype, f"{what} backward")


# Each shape/dim exercises something: a row of 1; a prime row; a 1000-element row (one
# block, several rows per program); dims 0/1/last of a 3-D tensor (rows strided by 35,
# 5 and 1); no rows at all; rows of length 0; a 0-d tensor (one row of one element).
CASES = [
    ((6, 1), 1),
    ((4, 7), 1),
    ((3, 1000), 1),
    ((5, 7, 3), 0),
    ((5, 7, 3), 1),
    ((5, 7, 3), 2),
    ((0, 5), 1),
    ((5, 0), 1),
    ((), 0),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", CASES, ids=[f"{s}-dim{d}" for s, d in CASES])
def test_matches_torch(shape, dim, log, dtype):
    x = (3 * torch.randn(shape, dtype=torch.float64)).to(dtype).to(DEVICE)
    check_forward_and_backward(x, dim, log, f"shape {shape} dim {dim}")


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_row_of_100k_elements_is_streamed(log):
    # >= ONLINE_THRESHOLD: the online (running max/sum) schedule on a GPU and in the interpreter.
    x = (5 * torch.randn(2, 100_000, dtype=torch.float64)).to(torch.float32).to(DEVICE)
    assert ks.row_launch_config(2, 100_000)[3], "a 100,000-element row should be streamed"
    check_forward_and_backward(x, 1, log, "rows of 100,000")


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Forces 16-element blocks, so every row longer than 16 is streamed through many blocks."""
    monkeypatch.setattr(ks, "reduction_block", lambda length, max_block=None: 16)


# All -inf rows compute 0 / 0 = NaN on purpose; numpy (the interpreter) warns about it.
EXPECTED_NAN = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
EXPECTED_NAN_LOG = pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning")


@EXPECTED_NAN
@EXPECTED_NAN_LOG
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rows_spanning_many_blocks(tiny_blocks, log, dtype):
    # Rows of 5, 37 and 53 elements; the first blocks of some rows are all -inf, so the
    # running maximum starts at -inf and is rescaled when a finite block arrives (near
    # -1e4 in x[0], where a rescale by exp(0 - max) would overflow).
    x = torch.randn(5, 37, 53, dtype=torch.float64)
    x[0] -= 1e4
    x = x.to(dtype).to(DEVICE)
    x[0, :20, :] = float("-inf")
    x[1, :, :40] = float("-inf")
    for dim in (0, 1, 2):
        check_forward_and_backward(x, dim, log, f"16-element blocks, dim {dim}")


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_non_contiguous_inputs(log):
    base = torch.randn(6, 9, 11, dtype=torch.float64).to(DEVICE)
    # A transposed view, a stepped slice (row stride 2) and an expanded view (stride 0 rows).
    views = {
        "transposed": (base.transpose(0, 2), 2),
        "sliced": (base[1:, ::2, 3:], 1),
        "expanded": (base[:, :1, :].expand(6, 4, 11), 2),
        "expanded dim": (base[:, :, :1].expand(6, 9, 5), 2),
    }
    for name, (view, dim) in views.items():
        check_forward_and_backward(view, dim, log, name)


def test_more_dims_than_the_kernel_addresses():
    # 8 dims that cannot be coalesced (reversed order): the launcher splits the leading dim.
    x = torch.randn(2, 3, 2, 3, 2, 3, 2, 3, dtype=torch.float64).to(DEVICE).permute(7, 6, 5, 4, 3, 2, 1, 0)
    check_forward_and_backward(x, 3, False, "8-d permuted")


@EXPECTED_NAN
@EXPECTED_NAN_LOG
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_infinities_and_large_values(log, dtype):
    inf = float("inf")
    x = torch.tensor(
        [
            [-inf, -inf, -inf, -inf],  # all -inf: NaN, as torch
            [0.0, -inf, 1.0, -inf],  # partial -inf: probability exactly 0
            [1e4, -1e4, 0.0, 1e4],  # large values: no overflow
            [-1e4, -1e4, -1e4, -1e4],
        ],
        dtype=dtype,
        device=DEVICE,
    )
    out = ks.launch_softmax_fwd(x, 1, log)
    assert_close(out, torch_softmax(x.double(), 1, log), dtype, "infinities")
    assert not out[1:].isnan().any(), f"NaN in finite rows: {out}"
    if not log:
        assert bool((out[1, 1::2] == 0).all()), f"-inf entries should get probability 0: {out[1]}"


def test_bad_arguments():
    x = torch.randn(3, 4, device=DEVICE)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ks.launch_softmax_fwd(x, 2)
    with pytest.raises(TypeError, match="int64"):
        ks.launch_softmax_fwd(torch.ones(3, dtype=torch.int64, device=DEVICE), 0)
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        ks.launch_softmax_bwd(torch.randn(4, 3, device=DEVICE), x, 1)
    with pytest.raises(TypeError, match="float64"):
        ks.launch_softmax_bwd(x.double(), x, 1)

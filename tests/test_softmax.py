"""kernels/softmax.py against torch.softmax / torch.log_softmax and their autograd.

The oracle is torch in float64 on the same (rounded) inputs; the backward feeds the
kernel torch's own forward output, so both sides start from the same values.
Streaming (online) rows are exercised with one real 100,000-element row, and with
small blocks forced on ordinary rows so that rows span many blocks; the GPU's block
policy is asked directly (the interpreter's blocks differ).
"""

from __future__ import annotations

import pytest
import torch

import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch
from tritongrad import runtime
from tritongrad.autograd import gradcheck
from tritongrad.kernels import softmax as ks

DEVICE = runtime.device()
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


def torch_softmax(x: torch.Tensor, dim: int, log: bool) -> torch.Tensor:
    return torch.log_softmax(x, dim) if log else torch.softmax(x, dim)


def check_forward_and_backward(x: torch.Tensor, dim: int, log: bool, what: str) -> None:
    """Forward vs torch in float64; backward vs torch autograd in float64 from torch's output."""
    dtype = x.dtype
    reference_input = x.detach().to(torch.float64, copy=True).requires_grad_()
    reference = torch_softmax(reference_input, dim, log)
    assert_close(
        ks.launch_softmax_fwd(x, dim, log),
        reference,
        dtype,
        kind="row_reduction",
        what=f"{what} forward",
        check_dtype=dtype,
    )

    grad_out = torch.randn(x.shape, dtype=torch.float64, device=x.device)
    reference.backward(grad_out)
    out = torch_softmax(x.double(), dim, log).to(dtype)  # the saved output, in the input's dtype
    grad_input = ks.launch_softmax_bwd(grad_out.to(dtype), out, dim, log)
    assert_close(
        grad_input, reference_input.grad, dtype, kind="row_reduction", what=f"{what} backward", check_dtype=dtype
    )


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
    assert_close(
        out, torch_softmax(x.double(), 1, log), dtype, kind="row_reduction", what="infinities", check_dtype=dtype
    )
    assert not out[1:].isnan().any(), f"NaN in finite rows: {out}"
    if not log:
        assert bool((out[1, 1::2] == 0).all()), f"-inf entries should get probability 0: {out[1]}"


def test_bad_arguments():
    x = torch.randn(3, 4, device=DEVICE)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ks.launch_softmax_fwd(x, 2)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        ks.launch_softmax_fwd(torch.ones(3, dtype=torch.int64, device=DEVICE), 0)
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        ks.launch_softmax_bwd(torch.randn(4, 3, device=DEVICE), x, 1)
    with pytest.raises(TypeError, match="float64"):
        ks.launch_softmax_bwd(x.double(), x, 1)


# Rows of 1 and 7 elements (one block); 4097 (one past a power of two: a GPU streamed it before
# rows of 64 KiB took one block) and 10000 (one GPU block of fp32, streamed in fp64). Two rows each
# keep the interpreter's cost small.
ROW_LENGTHS = [1, 7, 4097, 10_000]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("row_length", ROW_LENGTHS)
def test_row_lengths(row_length, log, dtype):
    x = (3 * torch.randn(2, row_length, dtype=torch.float64)).to(dtype).to(DEVICE)
    check_forward_and_backward(x, 1, log, f"rows of {row_length}")


@pytest.fixture
def blocks_of_1024(monkeypatch):
    """Forces 1024-element blocks: rows of 4097 and 10000 are streamed, ending in a partial block."""
    monkeypatch.setattr(
        ks, "reduction_block", lambda length, max_block=None: min(runtime.next_power_of_2(length), 1024)
    )


@EXPECTED_NAN
@EXPECTED_NAN_LOG
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("row_length", [4097, 10_000])
def test_long_rows_streamed_online(blocks_of_1024, row_length, log):
    # Row 0 starts with two blocks of -inf (the running max is rescaled from -inf), row 1 holds
    # a NaN (a NaN row, as torch), row 2 is all -inf (NaN), row 3 is ordinary but near -1e4.
    assert ks.softmax_launch_config(4, row_length, 4)[3], "the row should be streamed"
    x = torch.randn(4, row_length, dtype=torch.float64)
    x[0, :2048] = float("-inf")
    x[1, row_length // 2] = float("nan")
    x[2] = float("-inf")
    x[3] -= 1e4
    x = x.to(DEVICE)
    out = ks.launch_softmax_fwd(x, 1, log)
    assert_close(
        out,
        torch_softmax(x, 1, log),
        torch.float64,
        kind="row_reduction",
        what=f"streamed rows of {row_length}",
        check_dtype=torch.float64,
    )
    check_forward_and_backward(x[[0, 3]], 1, log, f"streamed rows of {row_length}")
    # Not the last dim: the rows are strided, then streamed.
    check_forward_and_backward(x[[0, 3]].t(), 0, log, f"streamed columns of {row_length}")


@EXPECTED_NAN
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_nan_rows(log):
    x = torch.randn(3, 9, dtype=torch.float64)
    x[1, 4] = float("nan")
    x = x.to(DEVICE)
    assert_close(
        ks.launch_softmax_fwd(x, 1, log),
        torch_softmax(x, 1, log),
        torch.float64,
        kind="row_reduction",
        what="a NaN in row 1",
        check_dtype=torch.float64,
    )


def test_gpu_policy_keeps_rows_of_64_kib_in_one_block(monkeypatch):
    # The GPU's choices, asked of the policy (nothing is launched while the runtime says "cuda").
    monkeypatch.setattr(runtime, "_DEVICE_TYPE", "cuda")
    assert ks.softmax_launch_config(4096, 1000, 4) == (4, 1024, 8, False), "4 rows of 1000 per 8-warp tile"
    assert ks.softmax_launch_config(8, 4097, 4) == (1, 8192, 16, False), "one read of a 4097-element row"
    assert ks.softmax_launch_config(8, 16_384, 4) == (1, 16_384, 16, False), "64 KiB of fp32 in one block"
    assert ks.softmax_launch_config(8, 10_000, 8)[3], "fp64 rows of 10000 (80 KiB) are streamed"
    assert ks.softmax_launch_config(8, 32_768, 4)[1:] == (4096, 8, True), "longer rows stream 4096-blocks"


def test_vector_width():
    # (element size, row length, row strides, column strides) -> elements per 16-byte access.
    assert ks.vector_width(4, 1000, [1000], [1]) == 4
    assert ks.vector_width(2, 1000, [1000, 1000], [1, 1]) == 8
    assert ks.vector_width(8, 1000, [1000], [1]) == 2
    assert ks.vector_width(4, 1002, [1002], [1]) == 2, "rows of 1002 fp32 are 8-byte aligned"
    assert ks.vector_width(4, 1024, [1024, 1030], [1, 1]) == 2, "every operand's row stride counts"
    assert ks.vector_width(4, 7, [7], [1]) == 1
    assert ks.vector_width(4, 1024, [1], [1024]) == 1, "rows along a strided dim are not vectorised"


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_gradcheck_streamed_rows(tiny_blocks, log):
    # float64 gradcheck through tritongrad's autograd, with 19-element rows streamed in 16-blocks.
    x = from_torch(torch.randn(2, 19, dtype=torch.float64), requires_grad=True)
    function = F.log_softmax if log else F.softmax
    assert gradcheck(lambda t: function(t, 1), (x,))

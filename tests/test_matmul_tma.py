"""kernels/matmul_tma.py (the persistent TMA matmul) against torch.matmul.

``launch_matmul`` sends a product there only on a Hopper GPU, so the CPU tests call the launcher
directly; Triton's interpreter runs tensor descriptors (triton 3.6 and 3.9). Its tiles there are
32x32x16 with GROUP_M = 2 and 3 programs, so "> one tile" means a dim above 32, and a product of
more than 3 tiles makes each program walk several of them.
"""

from __future__ import annotations

import pytest
import torch

from tests.utils import assert_close
from tritongrad import runtime
from tritongrad.kernels import matmul, matmul_tma
from tritongrad.kernels.matmul_tma import TMA_MIN_WORK, launch_matmul_tma, tma_eligible, tma_layout

DEVICE = runtime.device()
DTYPES = [torch.float16, torch.bfloat16]


def rand(*shape: int, dtype: torch.dtype = torch.float16) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype, device=DEVICE)


def operand(rows: int, columns: int, dtype: torch.dtype, transposed: bool) -> torch.Tensor:
    """A (rows, columns) operand, row-major or the transpose of a row-major (columns, rows) one."""
    return rand(columns, rows, dtype=dtype).t() if transposed else rand(rows, columns, dtype=dtype)


def reference(a, b, bias=None, activation=None) -> torch.Tensor:
    """act(a @ b + bias) in float64, rounded to a's dtype once, as the kernel rounds its fp32 result."""
    out = a.double() @ b.double()
    if bias is not None:
        out = out + bias.double()
    if activation == "relu":
        out = torch.relu(out)
    return out.to(a.dtype)


@pytest.fixture
def tma_launches(monkeypatch):
    """The meta-parameters of every matmul_tma_kernel launch made during the test."""
    launches = []
    kernel = matmul_tma.matmul_tma_kernel
    run = kernel.run

    def recording_run(*args, **kwargs):
        launches.append(kwargs)
        return run(*args, **kwargs)

    monkeypatch.setattr(kernel, "run", recording_run)
    return launches


SHAPES = [  # (M, K, N); K and N multiples of 8: 16-byte aligned fp16/bf16 rows
    (1, 8, 8),  # one row, smaller than a tile in every dim
    (37, 24, 40),  # prime M; K = one full and one partial step; two tile columns
    (70, 72, 136),  # 3 x 5 tiles over 3 programs: a partial group (GROUP_M = 2) and a partial last round
    (97, 40, 64),  # 4 x 2 tiles: whole groups; prime M
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("M, K, N", SHAPES, ids=str)
def test_matches_torch(M, K, N, dtype):
    a, b = rand(M, K, dtype=dtype), rand(K, N, dtype=dtype)
    assert_close(launch_matmul_tma(a, b), reference(a, b), kind="matmul", what=f"{M}x{K} @ {K}x{N}")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("a_transposed, b_transposed", [(True, False), (False, True), (True, True)], ids=str)
def test_transposed_operands(a_transposed, b_transposed, dtype):
    # A transposed is stored (K, M), B transposed (N, K) (a linear layer's weight): M, K, N multiples of 8.
    M, K, N = 40, 56, 72
    a, b = operand(M, K, dtype, a_transposed), operand(K, N, dtype, b_transposed)
    what = f"{M}x{K} @ {K}x{N}, a strides {a.stride()}, b strides {b.stride()}"
    assert_close(launch_matmul_tma(a, b), reference(a, b), kind="matmul", what=what)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("with_bias, activation", [(True, None), (False, "relu"), (True, "relu")], ids=str)
def test_epilogue(with_bias, activation, dtype):
    # The linear layer's layout (weight (N, K) read transposed); N = 72: a partial last tile of bias.
    M, K, N = 45, 32, 72
    a, b = rand(M, K, dtype=dtype), rand(N, K, dtype=dtype).t()
    bias = rand(N, dtype=dtype) if with_bias else None
    out = launch_matmul_tma(a, b, bias=bias, activation=activation)
    what = f"act({M}x{K} @ {K}x{N} + bias): bias {with_bias}, activation {activation}"
    assert_close(out, reference(a, b, bias, activation), kind="matmul", what=what)


def test_relu_keeps_nan():
    a, b = rand(33, 16), rand(16, 40)
    a[3, 5] = float("nan")
    out = launch_matmul_tma(a, b, activation="relu")
    assert bool(out[3].isnan().all()) and not bool(out[4:].isnan().any()), "relu must keep the NaN row, only it"


@pytest.mark.parametrize("num_programs", [1, 2, 7, 1000], ids=str)
def test_every_tile_once_at_any_program_count(num_programs, tma_launches):
    # 3 x 5 tiles walked by 1 program (all), 2, 7 (a partial round) or more programs than tiles.
    a, b = rand(70, 40, dtype=torch.bfloat16), rand(40, 136, dtype=torch.bfloat16)
    out = launch_matmul_tma(a, b, num_programs=num_programs)
    assert_close(out, reference(a, b), kind="matmul", what=f"70x40 @ 40x136 on {num_programs} programs")
    grid = tma_launches[0]["grid"]({"BLOCK_M": 32, "BLOCK_N": 32})
    assert grid == (min(num_programs, 15),), f"{num_programs} programs for 15 tiles launched grid {grid}"


@pytest.mark.parametrize("M, N", [(0, 8), (5, 0)], ids=str)
def test_empty_result_does_not_launch(M, N, tma_launches):
    out = launch_matmul_tma(rand(M, 16), rand(16, N))
    assert out.shape == (M, N) and not tma_launches, f"({M}, 16) @ (16, {N}) launched {len(tma_launches)} kernels"


def test_rejects_bad_input():
    a, b = rand(16, 16), rand(16, 16)
    with pytest.raises(TypeError, match="float32"):
        launch_matmul_tma(a.float(), b.float())
    with pytest.raises(TypeError, match="bfloat16"):
        launch_matmul_tma(a, b.to(torch.bfloat16))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        launch_matmul_tma(a, rand(8, 16))
    with pytest.raises(ValueError, match="2-D"):
        launch_matmul_tma(rand(2, 16, 16), b)
    with pytest.raises(RuntimeError, match="bias"):
        launch_matmul_tma(a, b, bias=rand(8))
    with pytest.raises(ValueError, match="activation"):
        launch_matmul_tma(a, b, activation="gelu")
    with pytest.raises(ValueError, match="num_programs"):
        launch_matmul_tma(a, b, num_programs=0)


@pytest.mark.parametrize(
    "a, b, why",
    [
        (rand(16, 10), rand(10, 16), "A's rows are 20 bytes"),
        (rand(16, 16), rand(16, 12), "C's rows are 24 bytes"),
        (rand(16, 17)[:, 1:], rand(16, 16), "A starts 2 bytes into its buffer"),
        (rand(16, 16)[:, ::2], rand(8, 16), "A's last stride is 2"),
        (rand(16, 0), rand(0, 16), "K = 0"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_rejects_layouts_tma_cannot_describe(a, b, why):
    with pytest.raises(ValueError, match="TMA needs"):
        launch_matmul_tma(a, b)


def test_rejects_dims_beyond_int32():
    # Descriptor shapes are int32: K = 2**31 is refused before anything is launched (meta tensors: no memory).
    a = torch.empty(8, 2**31, dtype=torch.float16, device="meta")
    b = torch.empty(2**31, 8, dtype=torch.float16, device="meta")
    with pytest.raises(ValueError, match="2\\*\\*31"):
        launch_matmul_tma(a, b)


@pytest.mark.parametrize(
    "tensor, expected",
    [
        (rand(8, 24), "rows"),
        (rand(24, 8).t(), "transposed"),
        (rand(8, 32)[:, :24], "rows"),  # a column slice keeps the 64-byte row stride
        (rand(1, 24), "rows"),
        (rand(8, 12), None),  # 24-byte rows
        (rand(8, 17)[:, 1:], None),  # base 2 bytes past 16-byte alignment
        (rand(8, 24)[:, ::2], None),  # no unit stride
        (rand(24).expand(8, 24), None),  # rows overlap (stride 0)
        (rand(8), None),  # 1-D
    ],
    ids=lambda value: str(value) if isinstance(value, str) or value is None else None,
)
def test_tma_layout(tensor, expected):
    assert tma_layout(tensor) == expected, f"shape {tuple(tensor.shape)} strides {tensor.stride()}"


def test_dispatch_never_in_the_interpreter(tma_launches):
    # 1024 x 1024 x 1024 fp16, row-major: everything but the device qualifies.
    a, b = rand(1024, 1024), rand(1024, 1024)
    assert a.shape[0] * b.shape[0] * b.shape[1] >= TMA_MIN_WORK
    if runtime.is_interpreter():
        assert not tma_eligible(a, b), "the interpreter must keep the one-tile-per-program kernel"
    out = matmul.launch_matmul(a[:64], b[:, :64])
    assert out.shape == (64, 64) and not tma_launches, "a small product must not take the TMA kernel"


def _is_hopper() -> bool:
    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] == 9


@pytest.mark.gpu
@pytest.mark.skipif(not _is_hopper(), reason="TMA dispatch needs a GPU of compute capability 9.x (Hopper)")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("b_transposed, with_bias", [(False, False), (True, True)], ids=str)
def test_launch_matmul_dispatches_large_products_on_hopper(dtype, b_transposed, with_bias, tma_launches):
    M, K, N = 2048, 1024, 1536  # 2**31.6 multiply-adds
    a, b = rand(M, K, dtype=dtype), operand(K, N, dtype, b_transposed)
    bias = rand(N, dtype=dtype) if with_bias else None
    out = matmul.launch_matmul(a, b, bias=bias, activation="relu" if with_bias else None)
    assert len(tma_launches) == 1, f"{M}x{K}x{N} {dtype} launched the TMA kernel {len(tma_launches)} times"
    expected = reference(a, b, bias, "relu" if with_bias else None)
    assert_close(out, expected, kind="matmul", what=f"{M}x{K} @ {K}x{N} {dtype} via TMA")


@pytest.mark.gpu
@pytest.mark.skipif(not _is_hopper(), reason="TMA dispatch needs a GPU of compute capability 9.x (Hopper)")
@pytest.mark.parametrize("M, K, N", [(256, 16384, 256), (512, 512, 512)], ids=str)
def test_launch_matmul_keeps_skinny_and_small_products_off_tma(M, K, N, tma_launches):
    # 2**30 multiply-adds in 4 tiles (the split-K path's case), and a product below the threshold.
    a, b = rand(M, K), rand(K, N)
    out = matmul.launch_matmul(a, b)
    assert not tma_launches, f"{M}x{K}x{N} took the TMA kernel"
    assert_close(out, reference(a, b), kind="matmul", what=f"{M}x{K} @ {K}x{N}")

"""kernels/interpreter_compat.py: Triton's interpreter behaves alike on every supported triton and numpy.

Without the shim these fail with triton 3.6 (the GPU machines' version): a loop to a runtime
bound raises under numpy >= 2.4, and ``tl.fma`` rounds twice. ``.ci/compat`` runs this file on
the oldest and the newest supported versions.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels import interpreter_compat

pytestmark = pytest.mark.skipif(not runtime.is_interpreter(), reason="tests Triton's CPU interpreter")


@triton.jit
def _strided_sum_kernel(x_ptr, out_ptr, n, first, BLOCK: tl.constexpr):
    # Both loop bounds are runtime scalars: a kernel argument and a program-id expression.
    start = tl.program_id(0) * 0 + first
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for offset in range(start, n, BLOCK):
        index = offset + tl.arange(0, BLOCK)
        acc += tl.load(x_ptr + index, mask=index < n, other=0.0)
    tl.store(out_ptr + tl.arange(0, BLOCK), acc)


@pytest.mark.parametrize("n, first", [(1, 0), (37, 0), (37, 16), (64, 32)], ids=["one", "prime", "offset", "even"])
def test_loop_to_runtime_bound(n, first):
    block = 16
    x = torch.randn(n)
    out = torch.empty(block)
    _strided_sum_kernel[(1,)](x, out, n, first, BLOCK=block)
    padded = np.zeros(max(n, first) + block, dtype=np.float32)
    padded[:n] = x.numpy()
    expected = padded[first : first + ((n - first + block - 1) // block) * block].reshape(-1, block).sum(0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6, err_msg=f"n={n} first={first}")


@triton.jit
def _fma_kernel(x_ptr, y_ptr, z_ptr, out_ptr, n, BLOCK: tl.constexpr):
    index = tl.arange(0, BLOCK)
    mask = index < n
    x = tl.load(x_ptr + index, mask=mask)
    y = tl.load(y_ptr + index, mask=mask)
    z = tl.load(z_ptr + index, mask=mask)
    tl.store(out_ptr + index, tl.fma(x, y, z), mask=mask)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_fma_rounds_once(dtype):
    # (1 + 2**-e)**2 - (1 + 2**(1-e)) = 2**-2e exactly; rounding the product first loses that
    # term (a tie, rounded to even) and gives 0. e = 12 for float32 (24-bit mantissa), 6 for float16.
    e = 12 if dtype == torch.float32 else 6
    x = torch.full((3,), 1 + 2.0**-e, dtype=dtype)
    z = torch.full((3,), -(1 + 2.0 ** (1 - e)), dtype=dtype)
    out = torch.empty(3, dtype=dtype)
    _fma_kernel[(1,)](x, x, z, out, 3, BLOCK=4)
    assert out.tolist() == [2.0 ** (-2 * e)] * 3, f"{dtype} fma((1 + 2**-{e})^2, -(1 + 2**{1 - e})) = {out.tolist()}"


@triton.jit
def _to_bfloat16_kernel(x_ptr, cast_ptr, stored_ptr, n, BLOCK: tl.constexpr):
    index = tl.arange(0, BLOCK)
    mask = index < n
    x = tl.load(x_ptr + index, mask=mask)
    tl.store(cast_ptr + index, x.to(tl.bfloat16), mask=mask)  # an explicit cast
    tl.store(stored_ptr + index, x, mask=mask)  # the implicit cast of a store through a bfloat16 pointer


def test_float32_to_bfloat16_rounds_to_nearest_even_as_torch():
    """Bit for bit against torch's .bfloat16(): random values, exact ties between two bfloat16
    values (to even, both ways), values rounding up to the next binade and to inf, signed zeros,
    infinities, NaN and subnormals."""
    ties = [1 + 2.0**-8, 1 + 3 * 2.0**-8, -(1 + 2.0**-8), 1 + 2.0**-8 + 2.0**-20]
    edges = [3.3895314e38, 3.4028235e38, -3.4028235e38, 0.0, -0.0, float("inf"), float("-inf"), 1e-40, -1e-40, 1.0]
    x = torch.cat([torch.randn(200) * 1e3, torch.tensor(ties + edges), torch.tensor([float("nan")])])
    n = x.numel()
    cast, stored = (torch.empty(n, dtype=torch.bfloat16) for _ in range(2))
    _to_bfloat16_kernel[(1,)](x, cast, stored, n, BLOCK=triton.next_power_of_2(n))
    expected = x.bfloat16().view(torch.int16)
    for name, got in (("cast", cast), ("store", stored)):
        bits = got.view(torch.int16)
        wrong = [i for i in range(n - 1) if bits[i].item() != expected[i].item()]
        assert not wrong, f"{name}: {len(wrong)} of {n - 1} differ, first x={x[wrong[0]].item()!r}"
        assert torch.isnan(got[-1].float()).item(), f"{name}: NaN became {got[-1].item()}"


@triton.jit
def _from_bfloat16_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    index = tl.arange(0, BLOCK)
    mask = index < n
    tl.store(out_ptr + index, tl.load(x_ptr + index, mask=mask).to(tl.float32), mask=mask)


def test_bfloat16_to_float32_is_exact_for_every_bit_pattern():
    """Every one of the 65536 bfloat16 bit patterns widens to the same float32 bits as torch's
    .float(): subnormals (below 2**-126) included, which the interpreter's own widening changed."""
    bits = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16)
    x = bits.view(torch.bfloat16)
    out = torch.empty(x.numel(), dtype=torch.float32)
    _from_bfloat16_kernel[(1,)](x, out, x.numel(), BLOCK=x.numel())
    expected = x.float()
    same = (out.view(torch.int32) == expected.view(torch.int32)) | (out.isnan() & expected.isnan())
    wrong = (~same).nonzero().view(-1)
    assert wrong.numel() == 0, (
        f"{wrong.numel()} of 65536 differ, first bits {bits[wrong[0]].item():#06x}: "
        f"{out[wrong[0]].item()!r}, torch {expected[wrong[0]].item()!r}"
    )


def test_install_is_idempotent():
    interpreter_compat.install()
    interpreter_compat.install()
    out = torch.empty(16)
    _strided_sum_kernel[(1,)](torch.ones(20), out, 20, 0, BLOCK=16)
    assert out.tolist() == [2.0] * 4 + [1.0] * 12


@pytest.mark.parametrize("env,expected", [({}, "False"), ({"TRITONGRAD_INTERPRETER_OVERFLOW_CHECKS": "1"}, "True")])
def test_interpreter_overflow_checks_are_off_unless_asked(env, expected):
    """tritongrad runs the interpreter without its int32 overflow checks (4-8x faster), as compiled
    kernels run; the environment variable (and this suite, tests/conftest.py) keeps them."""
    code = (
        "import tritongrad\n"
        "from triton.runtime import interpreter\n"
        "print(interpreter.interpreter_builder.options.sanitize_overflow)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **env, "TRITONGRAD_DEVICE": "cpu"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


_BLAS_THREADS = """
import ctypes
import tritongrad
names = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
         "openblas_get_num_threads")
paths = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() and "/" in line})
counts = []
for path in paths:
    library = ctypes.CDLL(path)
    for name in names:
        function = getattr(library, name, None)
        if function is not None:
            function.restype = ctypes.c_int
            counts.append(function())
            break
print(counts)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="finds OpenBLAS through /proc/self/maps (Linux)")
@pytest.mark.parametrize("chosen", [None, "2"])
def test_numpy_blas_runs_on_one_thread_unless_the_user_chose(chosen):
    """The interpreter's tl.dot is np.matmul: OpenBLAS on one thread (a chosen count is kept)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    if chosen is not None:
        env["OPENBLAS_NUM_THREADS"] = chosen
    env["TRITONGRAD_DEVICE"] = "cpu"
    result = subprocess.run([sys.executable, "-c", _BLAS_THREADS], capture_output=True, text=True, env=env, check=True)
    counts = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert counts, f"no OpenBLAS found in the process: {result.stdout}"
    expected = 1 if chosen is None else int(chosen)
    assert all(count == expected for count in counts), f"OpenBLAS threads {counts}, expected {expected}"

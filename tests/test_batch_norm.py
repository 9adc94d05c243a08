"""F.batch_norm and nn.BatchNorm1d/2d against torch: forward, gradients, running statistics.

Each case builds the input in torch, gives tritongrad a private copy with the same strides, runs
both, and compares the output, the gradients of input/weight/bias for a random output gradient,
and the running buffers the kernels updated in place.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import tritongrad
import tritongrad.nn.functional as F
from tests.guards import InterpreterBoundsChecker, TorchComputeAudit
from tests.utils import assert_close, from_torch, to_torch, tolerance
from tritongrad import distributed, nn
from tritongrad.autograd import gradcheck
from tritongrad.kernels import batch_norm as kernels


def _layout(x: torch.Tensor, layout: str) -> torch.Tensor:
    """``x``'s values in a non-contiguous layout (same shape)."""
    if layout == "channels_last":  # (N, C, H, W) stored as (N, H, W, C): channel stride 1
        return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    if layout == "sliced":  # every other element of a twice-as-long last dim
        wide = torch.empty(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    if layout == "transposed":  # (N, C) stored as (C, N)
        return x.t().contiguous().t()
    if layout == "expanded":  # one sample broadcast over the batch (stride 0)
        return x[:1].expand(x.shape)
    return x


def _same_layout(x: torch.Tensor, requires_grad: bool = False) -> tritongrad.Tensor:
    """A tritongrad leaf over a private copy of ``x`` with exactly its strides and offset, views
    with gaps or stride 0 included (``from_torch`` makes those contiguous)."""
    base = x if x._base is None else x._base
    copy = base.detach().clone().as_strided(x.shape, x.stride(), x.storage_offset())
    assert copy.stride() == x.stride()
    leaf = tritongrad.Tensor._wrap(copy)
    return leaf.requires_grad_() if requires_grad else leaf


def _run_both(x, weight, bias, running, training, momentum=0.1, eps=1e-5):
    """(tritongrad, torch) outputs and leaves of one F.batch_norm call on the same values."""
    C = x.shape[1]
    rm, rv = running if running else (None, None)
    t_x = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()
    t_w = None if weight is None else weight.clone().requires_grad_()
    t_b = None if bias is None else bias.clone().requires_grad_()
    t_rm = None if rm is None else rm.clone()
    t_rv = None if rv is None else rv.clone()
    expected = torch.nn.functional.batch_norm(t_x, t_rm, t_rv, t_w, t_b, training, momentum, eps)
    g_x = _same_layout(x, requires_grad=True)
    g_w = None if weight is None else from_torch(weight, requires_grad=True)
    g_b = None if bias is None else from_torch(bias, requires_grad=True)
    g_rm = None if rm is None else from_torch(rm)
    g_rv = None if rv is None else from_torch(rv)
    got = F.batch_norm(g_x, g_rm, g_rv, g_w, g_b, training, momentum, eps)
    assert C == x.shape[1]
    return (got, g_x, g_w, g_b, g_rm, g_rv), (expected, t_x, t_w, t_b, t_rm, t_rv)


def _compare(got_all, expected_all, dtype, what):
    got, g_x, g_w, g_b, g_rm, g_rv = got_all
    expected, t_x, t_w, t_b, t_rm, t_rv = expected_all
    assert_close(got, expected, what=f"{what} forward")
    for g_buffer, t_buffer, name in ((g_rm, t_rm, "running_mean"), (g_rv, t_rv, "running_var")):
        if g_buffer is not None:
            assert_close(g_buffer, t_buffer, what=f"{what} {name}")
    grad = torch.randn(expected.shape, dtype=dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    rtol, atol = tolerance(dtype, "norm_grad")  # gradients sum over N * spatial values
    for g_leaf, t_leaf, name in ((g_x, t_x, "grad_input"), (g_w, t_w, "grad_weight"), (g_b, t_b, "grad_bias")):
        if t_leaf is not None:
            assert_close(g_leaf.grad, t_leaf.grad, rtol=rtol, atol=atol, what=f"{what} {name}")


CASES = [
    ((6, 3), "contiguous"),  # (N, C): channels side by side
    ((5, 7), "transposed"),  # (N, C) with channel stride N... and batch stride 1
    ((4, 5, 7), "contiguous"),  # (N, C, L), odd sizes
    ((3, 1, 9), "sliced"),  # one channel, strided length
    ((2, 5, 3, 4), "contiguous"),  # (N, C, H, W)
    ((3, 4, 5, 3), "channels_last"),  # channel stride 1, spatial dims strided
    ((2, 3, 5, 7), "sliced"),
    ((4, 3, 5), "expanded"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape,layout", CASES)
def test_training_forward_backward_and_running_stats(shape, layout, dtype):
    C = shape[1]
    x = _layout(torch.randn(shape, dtype=dtype) * 2 + 0.5, layout)
    weight, bias = torch.randn(C, dtype=dtype), torch.randn(C, dtype=dtype)
    running = (torch.randn(C, dtype=dtype), torch.rand(C, dtype=dtype) + 0.5)
    got, expected = _run_both(x, weight, bias, running, training=True)
    assert type(got[0].grad_fn).__name__ == "NativeBatchNormBackward0"
    _compare(got, expected, dtype, f"batch_norm training {shape} {layout} {dtype}")


@pytest.mark.parametrize("shape,layout", [((6, 3), "contiguous"), ((2, 5, 3, 4), "channels_last")])
@pytest.mark.parametrize("affine", [True, False])
def test_eval_uses_running_stats(shape, layout, affine):
    C = shape[1]
    x = _layout(torch.randn(shape), layout)
    weight, bias = (torch.randn(C), torch.randn(C)) if affine else (None, None)
    running = (torch.randn(C), torch.rand(C) + 0.5)
    got, expected = _run_both(x, weight, bias, running, training=False)
    _compare(got, expected, torch.float32, f"batch_norm eval {shape} {layout} affine={affine}")


def test_training_without_running_stats_or_affine():
    x = torch.randn(7, 4, 3)
    got, expected = _run_both(x, None, None, None, training=True)
    _compare(got, expected, torch.float32, "batch_norm without buffers")


def test_weight_only_and_bias_only():
    x = torch.randn(5, 3, 2, dtype=torch.float64)
    for weight, bias in ((torch.randn(3, dtype=torch.float64), None), (None, torch.randn(3, dtype=torch.float64))):
        got, expected = _run_both(x, weight, bias, None, training=True)
        _compare(got, expected, torch.float64, "batch_norm weight/bias only")


def test_strided_parameters():
    """weight/bias that are views with a step (every other element of a longer vector)."""
    x = torch.randn(6, 4, 3)
    weight, bias = torch.randn(8)[::2], torch.randn(8)[1::2]
    expected = torch.nn.functional.batch_norm(x, None, None, weight, bias, True)
    g_weight, g_bias = from_torch(torch.empty(8)), from_torch(torch.empty(8))
    to_torch(g_weight)[::2] = weight
    to_torch(g_bias)[1::2] = bias
    got = F.batch_norm(from_torch(x), None, None, g_weight[::2], g_bias[1::2], True)
    assert_close(got, expected, what="batch_norm with strided weight/bias")


@pytest.mark.parametrize("tile", [16, 256])
def test_chunked_statistics_merge(tile):
    """A small tile forces several row blocks: 24 blocks of 16 rows make 12 chunks of 2 tiles, 2
    blocks of 256 rows 2 chunks of 1, so the Chan merges inside a chunk and across chunks (and the
    backward's chunk sums) run instead of the single-tile path the other tests take."""
    x = torch.randn(9, 3, 41, dtype=torch.float64) * 3 + 7
    weight, bias = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    running_mean, running_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    out, mean, invstd = kernels.launch_batch_norm_fwd(
        x, weight, bias, running_mean, running_var, True, 0.1, 1e-5, tile=tile
    )
    reference_x = x.clone().requires_grad_()
    reference_w, reference_b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
    reference_rm, reference_rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    reference = torch.nn.functional.batch_norm(reference_x, reference_rm, reference_rv, reference_w, reference_b, True)
    assert_close(out, reference, what=f"chunked forward (tile {tile})")
    assert_close(running_mean, reference_rm, what="chunked running_mean")
    assert_close(running_var, reference_rv, what="chunked running_var")
    grad = torch.randn(x.shape, dtype=torch.float64)
    reference.backward(grad)
    grads = kernels.launch_batch_norm_bwd(grad, x, weight, mean, invstd, True, (True, True, True), tile=tile)
    for got, leaf, name in zip(grads, (reference_x, reference_w, reference_b), ("input", "weight", "bias")):
        assert_close(got, leaf.grad, rtol=1e-10, atol=1e-11, what=f"chunked grad_{name} (tile {tile})")


def test_large_mean_keeps_the_variance():
    """mean 1e4, std 1 in float32: E[x^2] - E[x]^2 would lose every digit of the variance."""
    x = torch.randn(64, 3, 33) + 1e4
    expected = torch.nn.functional.batch_norm(x.double(), None, None, training=True)
    running_mean, running_var = from_torch(torch.zeros(3)), from_torch(torch.ones(3))
    got = F.batch_norm(from_torch(x), running_mean, running_var, training=True, momentum=1.0)
    assert_close(got, expected.float(), rtol=1e-3, atol=5e-3, what="large-mean forward")
    unbiased = x.double().var(dim=(0, 2))
    assert_close(running_var, unbiased.float(), rtol=1e-3, atol=1e-3, what="large-mean running_var")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_forward(dtype):
    """Half inputs with half parameters, and with float32 parameters and running statistics."""
    x = torch.randn(6, 5, 7).to(dtype)
    for param_dtype in (dtype, torch.float32):
        weight, bias = torch.randn(5).to(param_dtype), torch.randn(5).to(param_dtype)
        rm, rv = torch.randn(5).to(param_dtype), (torch.rand(5) + 0.5).to(param_dtype)
        g_rm, g_rv = from_torch(rm), from_torch(rv)
        expected = torch.nn.functional.batch_norm(x, rm, rv, weight, bias, True)
        got = F.batch_norm(from_torch(x), g_rm, g_rv, from_torch(weight), from_torch(bias), True)
        assert_close(got, expected, rtol=2e-2, atol=2e-2, what=f"{dtype} forward, {param_dtype} params")
        assert_close(g_rm, rm, rtol=1e-2, atol=1e-2, what=f"{dtype} running_mean, {param_dtype} params")
        assert_close(g_rv, rv, rtol=1e-2, atol=1e-2, what=f"{dtype} running_var, {param_dtype} params")
    # The backward runs in fp32 too: gradients close to torch's float32 ones on the same values.
    t_x = x.float().requires_grad_()
    torch.nn.functional.batch_norm(t_x, None, None, training=True).backward(torch.ones(x.shape) * torch.arange(7.0))
    g_x = from_torch(x, requires_grad=True)
    F.batch_norm(g_x, None, None, training=True).backward(
        from_torch((torch.ones(x.shape) * torch.arange(7.0)).to(dtype))
    )
    assert_close(g_x.grad, t_x.grad.to(dtype), rtol=3e-2, atol=3e-2, what=f"{dtype} grad_input")


def test_gradcheck_float64():
    x = from_torch(torch.randn(3, 3, 2, dtype=torch.float64), requires_grad=True)
    weight = from_torch(torch.randn(3, dtype=torch.float64), requires_grad=True)
    bias = from_torch(torch.randn(3, dtype=torch.float64), requires_grad=True)
    assert gradcheck(lambda a, w, b: F.batch_norm(a, None, None, w, b, True), (x, weight, bias))
    rm, rv = from_torch(torch.randn(3, dtype=torch.float64)), from_torch(torch.rand(3, dtype=torch.float64) + 0.5)
    assert gradcheck(lambda a, w, b: F.batch_norm(a, rm, rv, w, b, False), (x, weight, bias), fast_mode=True)


def test_empty_batch_leaves_running_stats():
    rm, rv = from_torch(torch.randn(3)), from_torch(torch.rand(3))
    before = (to_torch(rm).clone(), to_torch(rv).clone())
    out = F.batch_norm(from_torch(torch.randn(0, 3)), rm, rv, training=True)
    assert tuple(out.shape) == (0, 3)
    assert torch.equal(to_torch(rm), before[0]) and torch.equal(to_torch(rv), before[1])


# ------------------------------------------------------------------------------------- modules


class _HostReads(TorchDispatchMode):
    """Counts device-to-host scalar reads (``.item()``, ``float(t)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.__name__ == "_local_scalar_dense.default":
            self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize(
    "module,shape",
    [
        ("BatchNorm1d", (6, 5)),
        ("BatchNorm1d", (4, 5, 3)),
        ("BatchNorm2d", (3, 5, 4, 3)),
        ("BatchNorm3d", (2, 5, 2, 3, 2)),
    ],
)
def test_module_three_training_steps_then_eval(module, shape, momentum):
    mine, theirs = getattr(nn, module)(5, momentum=momentum), getattr(torch.nn, module)(5, momentum=momentum)
    with torch.no_grad():
        theirs.weight.copy_(torch.randn(5))
        theirs.bias.copy_(torch.randn(5))
    mine.weight = nn.Parameter(from_torch(theirs.weight))
    mine.bias = nn.Parameter(from_torch(theirs.bias))
    for step in range(3):
        x = torch.randn(shape) * 1.5 + step
        with _HostReads() as reads:
            got = mine(from_torch(x))
        assert reads.count == 0, "the training step read a value back to the host"
        assert_close(got, theirs(x), what=f"{module} step {step}")
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert_close(getattr(mine, name), getattr(theirs, name), what=f"{module} {name} after 3 steps")
    mine.eval()
    theirs.eval()
    x = torch.randn(shape)
    x_mine = from_torch(x, requires_grad=True)
    x_theirs = x.clone().requires_grad_()
    got, expected = mine(x_mine), theirs(x_theirs)
    assert_close(got, expected, what=f"{module} eval")
    grad = torch.randn(shape)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(x_mine.grad, x_theirs.grad, rtol=1e-4, atol=1e-5, what=f"{module} eval grad_input")
    assert_close(mine.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-5, what=f"{module} eval grad_weight")


def test_module_api_matches_torch():
    for kwargs in ({}, {"affine": False}, {"track_running_stats": False}, {"momentum": None, "eps": 1e-3},
                   {"bias": False}):  # fmt: skip
        mine, theirs = nn.BatchNorm2d(7, **kwargs), torch.nn.BatchNorm2d(7, **kwargs)
        assert repr(mine) == repr(theirs)
        assert list(mine.state_dict()) == list(theirs.state_dict())
        assert [name for name, _ in mine.named_parameters()] == [name for name, _ in theirs.named_parameters()]
        for name, buffer in theirs.named_buffers():
            assert_close(getattr(mine, name), buffer, what=f"initial {name} {kwargs}")
    bn = nn.BatchNorm1d(3)
    assert bn.num_batches_tracked.dtype == torch.int64 and bn.num_batches_tracked.dim() == 0
    bn(from_torch(torch.randn(4, 3)))
    bn(from_torch(torch.randn(4, 3)))
    assert bn.num_batches_tracked.item() == 2
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0
    assert_close(bn.running_mean, torch.zeros(3), what="reset running_mean")
    assert_close(bn.running_var, torch.ones(3), what="reset running_var")


def test_module_without_tracking_uses_batch_stats_in_eval():
    mine, theirs = nn.BatchNorm1d(4, track_running_stats=False), torch.nn.BatchNorm1d(4, track_running_stats=False)
    mine.eval()
    theirs.eval()
    x = torch.randn(5, 4) + 2
    assert_close(mine(from_torch(x)), theirs(x), what="untracked eval")


def test_module_state_dict_round_trip_with_torch():
    theirs = torch.nn.BatchNorm1d(3)
    theirs(torch.randn(6, 3) * 2 + 1)
    mine = nn.BatchNorm1d(3)
    mine.load_state_dict({name: from_torch(value) for name, value in theirs.state_dict().items()})
    mine.eval()
    theirs.eval()
    x = torch.randn(4, 3)
    assert_close(mine(from_torch(x)), theirs(x), what="loaded eval")


# -------------------------------------------------------------------------------------- errors


def test_errors_like_torch():
    x = from_torch(torch.randn(1, 3))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size"):
        F.batch_norm(x, None, None, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(from_torch(torch.randn(1, 3, 1)))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(from_torch(torch.randn(4, 3)), None, None, training=False)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(
            from_torch(torch.randn(4, 3)), from_torch(torch.zeros(4)), from_torch(torch.ones(3)), training=True
        )
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(from_torch(torch.randn(4, 3)), None, None, from_torch(torch.ones(4)), training=True)
    with pytest.raises(TypeError, match="must be float, not NoneType"):
        F.batch_norm(from_torch(torch.randn(4, 3)), None, None, training=True, momentum=None)
    with pytest.raises(NotImplementedError, match="not implemented for 'Int'"):
        F.batch_norm(from_torch(torch.ones(4, 3, dtype=torch.int32)), None, None, training=True)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        F.batch_norm(from_torch(torch.randn(4, 3)), None, None, from_torch(torch.ones(3, dtype=torch.float64)),
                     training=True)  # fmt: skip
    with pytest.raises(ValueError, match="eps must be non-negative"):
        F.batch_norm(from_torch(torch.randn(4, 3)), None, None, training=True, eps=-1.0)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(from_torch(torch.randn(2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(from_torch(torch.randn(2, 3, 4, 4)))


def test_double_backward_matches_torch():
    # create_graph=True composes the backward of recorded ops (the cases: test_double_backward_norms.py)
    values = torch.randn(4, 3, dtype=torch.float64)
    expected, got = values.clone().requires_grad_(True), from_torch(values, requires_grad=True)
    y_expected = torch.nn.functional.batch_norm(expected, None, None, training=True)
    (first_expected,) = torch.autograd.grad((y_expected**3).sum(), expected, create_graph=True)
    (first_got,) = tritongrad.autograd.grad((F.batch_norm(got, None, None, training=True) ** 3).sum(), got,
                                            create_graph=True)  # fmt: skip
    assert_close(first_got, first_expected, what="batch_norm first gradient")
    (second_expected,) = torch.autograd.grad(first_expected.sin().sum(), expected)
    (second_got,) = tritongrad.autograd.grad(first_got.sin().sum(), got)
    assert_close(second_got, second_expected, what="batch_norm second gradient")


# ------------------------------------------------------------------------------- SyncBatchNorm

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNC_WORLD = 2
SYNC_STEPS = 2
# Each rank's share of the batch: uneven, so the global count is not world_size * local count.
SYNC_SHARES = (3, 5)


def _sync_problem(step: int):
    """The full batch (8, 3, 4) with a large mean, its output gradient, and the layer's weight/bias."""
    rng = np.random.default_rng(500 + step)
    x = rng.standard_normal((sum(SYNC_SHARES), 3, 4)) * 2 + 50
    grad = rng.standard_normal(x.shape)
    return (
        x.astype(np.float32),
        grad.astype(np.float32),
        np.array([1.5, -0.5, 2.0], np.float32),
        np.array([0.1, 0.2, 0.3], np.float32),
    )


def _sync_worker(result_path: str) -> None:
    """One rank: SyncBatchNorm on its share of each step's batch, under the compute audit and the
    bounds checker (the parent's do not reach into subprocesses)."""
    InterpreterBoundsChecker().install()
    rank = int(os.environ["RANK"])
    start = sum(SYNC_SHARES[:rank])
    audit = TorchComputeAudit()
    results = {"steps": []}
    with audit:
        distributed.init_process_group("gloo", timeout=timedelta(seconds=300))
        layer = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm1d(3, momentum=None)))[0]
        assert type(layer).__name__ == "SyncBatchNorm"
        for step in range(SYNC_STEPS):
            x, grad, weight, bias = _sync_problem(step)
            share = slice(start, start + SYNC_SHARES[rank])
            layer.weight = nn.Parameter(tritongrad.tensor(weight.tolist()))
            layer.bias = nn.Parameter(tritongrad.tensor(bias.tolist()))
            inputs = tritongrad.tensor(x[share].tolist(), requires_grad=True)
            out = layer(inputs)
            out.backward(tritongrad.tensor(grad[share].tolist()))
            results["steps"].append({
                "out": out.tolist(), "grad_input": inputs.grad.tolist(), "grad_weight": layer.weight.grad.tolist(),
                "grad_bias": layer.bias.grad.tolist(), "grad_fn": type(out.grad_fn).__name__,
            })  # fmt: skip
        results["running_mean"] = layer.running_mean.tolist()
        results["running_var"] = layer.running_var.tolist()
        results["num_batches_tracked"] = layer.num_batches_tracked.item()
        distributed.destroy_process_group()
    results["violations"] = sorted(set(audit.violations))
    with open(result_path, "w") as file:
        json.dump(results, file)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow  # two worker processes start and import tritongrad: ~20-30 s on a loaded 2-core machine
def test_sync_batch_norm_matches_full_batch(tmp_path):
    """Two gloo ranks with 3 and 5 samples give the full batch's output, input gradient and running
    statistics; their local weight gradients add up to the full batch's (DDP then averages them)."""
    port, workers = _free_port(), []
    for rank in range(SYNC_WORLD):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(SYNC_WORLD),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), TRITONGRAD_DEVICE="cpu",
                   OMP_NUM_THREADS="1")  # fmt: skip
        env.pop("TRITON_INTERPRET", None)
        log = open(tmp_path / f"rank{rank}.log", "w")
        command = [sys.executable, "-m", "tests.test_batch_norm", str(tmp_path / f"rank{rank}.json")]
        workers.append((subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    deadline = time.monotonic() + 600  # catches a hang, not slowness
    for process, log in workers:
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    results = []
    for rank, (process, _) in enumerate(workers):
        output = (tmp_path / f"rank{rank}.log").read_text()
        assert process.returncode == 0, f"rank {rank} failed:\n{output[-4000:]}"
        results.append(json.loads((tmp_path / f"rank{rank}.json").read_text()))
        assert results[rank]["violations"] == [], f"rank {rank}: tritongrad asked torch to compute"

    reference = torch.nn.BatchNorm1d(3, momentum=None)
    for step in range(SYNC_STEPS):
        x, grad, weight, bias = (torch.from_numpy(a) for a in _sync_problem(step))
        with torch.no_grad():
            reference.weight.copy_(weight)
            reference.bias.copy_(bias)
        reference.zero_grad()
        inputs = x.clone().requires_grad_()
        expected = reference(inputs)
        expected.backward(grad)
        got = {key: torch.tensor(sum((r["steps"][step][key] for r in results), [])) for key in ("out", "grad_input")}
        assert_close(got["out"], expected, rtol=1e-4, atol=1e-4, what=f"sync step {step} output")
        assert_close(got["grad_input"], inputs.grad, rtol=1e-3, atol=1e-4, what=f"sync step {step} grad_input")
        for key, want in (("grad_weight", reference.weight.grad), ("grad_bias", reference.bias.grad)):
            summed = torch.tensor(results[0]["steps"][step][key]) + torch.tensor(results[1]["steps"][step][key])
            assert_close(summed, want, rtol=1e-4, atol=1e-4, what=f"sync step {step} summed {key}")
        assert all(r["steps"][step]["grad_fn"] == "SyncBatchNormBackward" for r in results)
    for rank, result in enumerate(results):
        assert_close(torch.tensor(result["running_mean"]), reference.running_mean, rtol=1e-5, what=f"rank {rank} mean")
        assert_close(torch.tensor(result["running_var"]), reference.running_var, rtol=1e-4, what=f"rank {rank} var")
        assert result["num_batches_tracked"] == SYNC_STEPS


def test_sync_batch_norm_without_process_group_is_batch_norm():
    mine, theirs = nn.SyncBatchNorm(3), torch.nn.BatchNorm1d(3)
    assert repr(mine) == repr(torch.nn.SyncBatchNorm(3))
    x = torch.randn(5, 3, 2)
    assert_close(mine(from_torch(x)), theirs(x), what="SyncBatchNorm, one process")
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        nn.SyncBatchNorm(3)(from_torch(torch.randn(3)))


if __name__ == "__main__":
    _sync_worker(sys.argv[1])

"""Recording the kernel launches that tritongrad's launchers make, as a GPU would make them.

The kernel report does not describe kernels by hand: it calls every public
launcher of ``kernels/`` on small representative inputs (the ``CASES`` below)
in Triton's interpreter and records each ``kernel[grid](...)`` call, with every
argument bound (tensors reduced to their dtype and address alignment, which is
all that compilation looks at). A new kernel reached by an existing launcher
is picked up by itself; a kernel no case reaches is listed by
``uncaptured_kernels`` so the gap shows in the report.

Launchers size blocks from ``tritongrad.runtime``, which answers differently
in the interpreter (huge blocks) and on a GPU (tuned ones). ``gpu_launch_policy``
makes the runtime answer as on a given GPU for the duration of a capture, so
the recorded block sizes and warp counts are the GPU's. The kernels themselves
are only run (in the interpreter) for cases whose launcher reads a result back
(a target-range check, say); elsewhere recording the launch is enough.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import json
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import torch

from benchmarks.aot import GPU_MODELS, GpuModel
from tritongrad import runtime

# triton is imported inside functions: tritongrad (imported above) must come first, since it
# switches on the interpreter before triton is loaded.

KERNELS_PACKAGE = "tritongrad.kernels"

# ----------------------------------------------------------------------------------------------
# Recording launches
# ----------------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A kernel argument as JSON: what the JIT's specialisation and the compiler look at."""
    import triton.language as tl

    if isinstance(value, torch.Tensor):
        return {"tensor": str(value.dtype).removeprefix("torch."), "address_mod_16": value.data_ptr() % 16}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, tl.constexpr):
        return encode(value.value)
    if isinstance(value, tl.dtype):
        return {"tl_dtype": value.name}
    function = getattr(value, "fn", None)
    if callable(function) and hasattr(function, "__module__"):
        return {"jit": [function.__module__, function.__name__]}
    raise TypeError(f"cannot record a kernel argument of type {type(value).__name__}: {value!r}")


@contextlib.contextmanager
def recording_launches(execute: bool) -> Iterator[list[dict[str, Any]]]:
    """Records every interpreted launch as {module, kernel, args, kwargs} (kwargs include num_warps).

    ``InterpretedFunction.run`` is the one entry every launch goes through
    (autotuned and heuristic kernels included, with their config applied), and
    the last place where launch options like ``num_warps`` are still present.
    With ``execute=False`` the kernels are not run: the interpreter would spend
    seconds on each GPU-sized grid, and a launch's arguments do not depend on
    earlier results unless the launcher reads one back (see ``Case.execute``).
    """
    from triton.runtime import interpreter

    launches: list[dict[str, Any]] = []
    function_class = interpreter.InterpretedFunction
    original = function_class.run

    def run(self, *args, grid, warmup, **kwargs):
        launches.append(
            {
                "module": self.fn.__module__,
                "kernel": self.fn.__name__,
                "args": [encode(a) for a in args],
                "kwargs": {k: encode(v) for k, v in kwargs.items()},
            }
        )
        if execute:
            return original(self, *args, grid=grid, warmup=warmup, **kwargs)
        return None

    function_class.run = run
    try:
        yield launches
    finally:
        function_class.run = original


def _clear_launch_policy_caches() -> None:
    """Forgets memoised launch decisions (e.g. a program count taken from the SM count)."""
    for name, module in list(sys.modules.items()):
        if not name.startswith(KERNELS_PACKAGE + "."):
            continue
        for value in vars(module).values():
            if hasattr(value, "cache_info") and hasattr(value, "cache_clear"):  # functools.cache
                value.cache_clear()


@contextlib.contextmanager
def gpu_launch_policy(model: GpuModel) -> Iterator[None]:
    """Launchers choose blocks, warps and splits as on ``model`` while kernels still run interpreted.

    tritongrad's runtime decides "interpreter or GPU" once, at import; its policy
    functions read that decision from ``runtime._DEVICE_TYPE``, so flipping it
    (and answering device-property queries for ``model``) switches every
    launcher to its GPU choices without touching the kernels' own import-time
    choices (autotune config lists), which the AOT compiler re-reads itself.
    """
    saved_device_type = runtime._DEVICE_TYPE
    saved_properties = torch.cuda.get_device_properties
    runtime._DEVICE_TYPE = "cuda"
    torch.cuda.get_device_properties = lambda device=None: model.device_properties()
    _clear_launch_policy_caches()
    try:
        yield
    finally:
        runtime._DEVICE_TYPE = saved_device_type
        torch.cuda.get_device_properties = saved_properties
        _clear_launch_policy_caches()


# ----------------------------------------------------------------------------------------------
# The cases: every public launcher on representative inputs
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    name: str  # "add fp32 1M", ...
    family: str  # the kernels/ module it exercises
    run: Callable[[], Any]
    execute: bool  # run the kernels: the launcher reads a result back (e.g. a target-range check)


CASES: dict[str, Case] = {}

# Elementwise sizes: 2**20 elements takes the runtime's large-tensor GPU config, 2**16 its small one.
LARGE = 1 << 20
SMALL = 1 << 16
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "fp64": torch.float64}


def case(name: str, family: str, execute: bool = False) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def register(function: Callable[[], Any]) -> Callable[[], Any]:
        if name in CASES:
            raise ValueError(f"duplicate kernel-report case {name!r}")
        CASES[name] = Case(name, family, function, execute)
        return function

    return register


def _kernels(family: str) -> Any:
    return importlib.import_module(f"{KERNELS_PACKAGE}.{family}")


def _randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype)


def _register_elementwise_cases() -> None:
    def binary(op, dtype, a_shape, b_shape=None, transpose=False):
        def run():
            a = _randn(*a_shape, dtype=dtype)
            b = _randn(*(b_shape or a_shape), dtype=dtype)
            if transpose:
                a = a.t()
                b = b.t()
            compute = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
            _kernels("elementwise").launch_binary(op, a, b, out_dtype=dtype, compute=compute)

        return run

    def unary(op, dtype, out_dtype=None):
        return lambda: _kernels("elementwise").launch_unary(op, _randn(LARGE, dtype=dtype), out_dtype=out_dtype)

    for label, dtype in DTYPES.items():
        case(f"add {label} 1M", "elementwise")(binary("add", dtype, (LARGE,)))
    case("add fp32 64K", "elementwise")(binary("add", torch.float32, (SMALL,)))
    case("mul fp32 row-broadcast 1024x1024", "elementwise")(binary("mul", torch.float32, (1024, 1024), (1024,)))
    case("add fp32 transposed 1024x1024", "elementwise")(binary("add", torch.float32, (1024, 1024), transpose=True))
    case("div fp32 1M", "elementwise")(binary("div", torch.float32, (LARGE,)))
    for op in ("relu", "exp", "tanh", "sigmoid"):
        case(f"{op} fp32 1M", "elementwise")(unary(op, torch.float32))
    case("relu bf16 1M", "elementwise")(unary("relu", torch.bfloat16))
    case("copy fp32->fp16 1M", "elementwise")(unary("copy", torch.float32, out_dtype=torch.float16))

    @case("where fp32 1M", "elementwise")
    def _where():
        condition = _randn(LARGE) > 0
        _kernels("elementwise").launch_where(condition, _randn(LARGE), _randn(LARGE), out_dtype=torch.float32)


def _register_activation_cases() -> None:
    activation = lambda: _kernels("activation")  # noqa: E731
    x, grad = (lambda: _randn(LARGE)), (lambda: _randn(LARGE))
    case("gelu fwd fp32 1M", "activation")(lambda: activation().launch_gelu_fwd(x()))
    case("gelu(tanh) fwd fp32 1M", "activation")(lambda: activation().launch_gelu_fwd(x(), "tanh"))
    case("gelu bwd fp32 1M", "activation")(lambda: activation().launch_gelu_bwd(grad(), x()))
    case("silu fwd fp32 1M", "activation")(lambda: activation().launch_silu_fwd(x()))
    case("silu bwd fp32 1M", "activation")(lambda: activation().launch_silu_bwd(grad(), x()))
    case("leaky_relu fwd fp32 1M", "activation")(lambda: activation().launch_leaky_relu_fwd(x()))
    case("leaky_relu bwd fp32 1M", "activation")(lambda: activation().launch_leaky_relu_bwd(grad(), x()))
    case("relu bwd fp32 1M", "activation")(lambda: activation().launch_relu_bwd(grad(), x()))
    case("sigmoid bwd fp32 1M", "activation")(lambda: activation().launch_sigmoid_bwd(grad(), x()))
    case("tanh bwd fp32 1M", "activation")(lambda: activation().launch_tanh_bwd(grad(), x()))
    case("gelu fwd bf16 1M", "activation")(lambda: activation().launch_gelu_fwd(_randn(LARGE, dtype=torch.bfloat16)))


def _register_matmul_cases() -> None:
    matmul = lambda: _kernels("matmul")  # noqa: E731

    def product(dtype, allow_tf32=False, size=256):
        return lambda: matmul().launch_matmul(
            _randn(size, size, dtype=dtype), _randn(size, size, dtype=dtype), allow_tf32=allow_tf32
        )

    for label in ("fp16", "bf16", "fp32"):
        case(f"matmul {label} 256x256x256", "matmul")(product(DTYPES[label]))
    case("matmul fp32 tf32 256x256x256", "matmul")(product(torch.float32, allow_tf32=True))
    case("matmul fp64 64x64x64", "matmul")(product(torch.float64, size=64))

    @case("matmul fp16 batched 4x128x128x128", "matmul")
    def _batched():
        matmul().launch_matmul(_randn(4, 128, 128, dtype=torch.float16), _randn(4, 128, 128, dtype=torch.float16))

    @case("matmul int64 batched 2x64x64x64", "matmul")
    def _integer():
        a, b = (torch.randint(-99, 99, (2, 64, 64)) for _ in range(2))
        matmul().launch_integer_matmul(a, b)

    @case("linear+bias+relu fp16 256x512->256", "matmul")
    def _linear():
        weight, bias = _randn(256, 512, dtype=torch.float16), _randn(256, dtype=torch.float16)
        matmul().launch_linear(_randn(256, 512, dtype=torch.float16), weight, bias, activation="relu")

    @case("linear backward fp16 256x512->256", "matmul")
    def _linear_backward():
        x, weight = _randn(256, 512, dtype=torch.float16), _randn(256, 512, dtype=torch.float16)
        matmul().launch_linear_backward(_randn(256, 256, dtype=torch.float16), x, weight)

    @case("linear+relu backward fp32 256x784->512", "matmul")
    def _linear_relu_backward():
        x, weight = _randn(256, 784), _randn(512, 784)
        relu_out = _randn(256, 512)
        matmul().launch_linear_backward(_randn(256, 512), x, weight, relu_out=relu_out)

    # The digits MLP (784-512-512-10 at batch 256, and a 784-128 layer) and the tiny GPT (8192 tokens of
    # width 384: the 384->1536 MLP layer and the 384->65 vocabulary head), forward and backward, fp32
    # exact and tf32: skinny products whose tile count alone does not fill the GPU (split-K).
    def linear(rows, in_features, out_features, backward, allow_tf32=False, relu=False):
        def run():
            x, weight = _randn(rows, in_features), _randn(out_features, in_features)
            if not backward:
                matmul().launch_linear(x, weight, _randn(out_features), "relu" if relu else None, allow_tf32)
                return
            grad, relu_out = _randn(rows, out_features), _randn(rows, out_features) if relu else None
            matmul().launch_linear_backward(grad, x, weight, relu_out=relu_out, allow_tf32=allow_tf32)

        return run

    mlp_and_gpt = [(256, 784, 512, True), (256, 512, 10, False), (256, 784, 128, True), (8192, 384, 1536, False),
                   (8192, 384, 65, False)]  # fmt: skip
    for rows, in_features, out_features, relu in mlp_and_gpt:
        for tf32 in (False, True):
            precision = "fp32 tf32" if tf32 else "fp32"
            shape = f"{rows}x{in_features}->{out_features}"
            for backward in (False, True):
                name = f"linear{'+relu' if relu else ''}{' backward' if backward else ''} {precision} {shape}"
                if name != "linear+relu backward fp32 256x784->512":  # registered above
                    case(name, "matmul")(linear(rows, in_features, out_features, backward, tf32, relu))


def _register_conv_cases() -> None:
    conv = lambda: _kernels("conv")  # noqa: E731

    def layer(dtype, which, in_c, out_c, size, kernel, stride=1, groups=1, batch=8, allow_tf32=False, nhwc=False):
        """One convolution pass at a ResNet-50-like layer shape (N=8), padding kernel // 2."""

        def run():
            pad = kernel // 2
            out_size = (size + 2 * pad - kernel) // stride + 1
            layout = torch.channels_last if nhwc else torch.contiguous_format
            x = _randn(batch, in_c, size, size, dtype=dtype).contiguous(memory_format=layout)
            w = _randn(out_c, in_c // groups, kernel, kernel, dtype=dtype).contiguous(memory_format=layout)
            grad = _randn(batch, out_c, out_size, out_size, dtype=dtype).contiguous(memory_format=layout)
            geometry = ((stride, stride), (pad, pad), (1, 1), groups)
            if which == "forward":
                conv().launch_conv2d(x, w, _randn(out_c, dtype=dtype), *geometry, allow_tf32=allow_tf32)
            elif which == "input grad":
                conv().launch_conv2d_input_grad(grad, w, (size, size), *geometry, allow_tf32=allow_tf32)
            else:
                conv().launch_conv2d_weight_grad(grad, x, (kernel, kernel), *geometry, allow_tf32=allow_tf32)

        return run

    for label in ("fp16", "bf16"):
        for which in ("forward", "input grad", "weight grad"):
            case(f"conv2d {which} {label} 3x3 64->64 56x56", "conv")(layer(DTYPES[label], which, 64, 64, 56, 3))
        # Strided: the input gradient's per-phase tap skipping.
        case(f"conv2d input grad {label} 3x3/2 128->128 56x56", "conv")(
            layer(DTYPES[label], "input grad", 128, 128, 56, 3, stride=2)
        )
    for which in ("forward", "input grad", "weight grad"):
        case(f"conv2d {which} fp16 channels_last 3x3 64->64 56x56", "conv")(
            layer(torch.float16, which, 64, 64, 56, 3, nhwc=True)
        )
    # 3 input channels: the "flat" K order (each element decodes its own tap).
    case("conv2d forward fp16 7x7/2 3->64 224x224 stem", "conv")(layer(torch.float16, "forward", 3, 64, 224, 7, 2))
    case("conv2d forward fp32 3x3 64->64 56x56", "conv")(layer(torch.float32, "forward", 64, 64, 56, 3))
    case("conv2d forward fp32 tf32 3x3 64->64 56x56", "conv")(
        layer(torch.float32, "forward", 64, 64, 56, 3, allow_tf32=True)
    )
    case("conv2d weight grad fp32 3x3 64->64 56x56", "conv")(layer(torch.float32, "weight grad", 64, 64, 56, 3))
    case("conv2d forward fp64 3x3 32->32 14x14", "conv")(layer(torch.float64, "forward", 32, 32, 14, 3))


def _register_reduce_cases() -> None:
    reduce = lambda: _kernels("reduce")  # noqa: E731
    x = lambda dtype=torch.float32: _randn(1024, 1024, dtype=dtype)  # noqa: E731
    case("sum fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_sum(x(), [1], False))
    case("sum fp32 columns 1024x1024", "reduce")(lambda: reduce().launch_sum(x(), [0], False))
    case("sum fp32 all 1M", "reduce")(lambda: reduce().launch_sum(_randn(LARGE), [], False))
    case("sum bf16 rows 1024x1024", "reduce")(lambda: reduce().launch_sum(x(torch.bfloat16), [1], False))
    case("mean fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_mean(x(), [1], False))
    case("amax fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_amax(x(), [1], False))
    case("argmax fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_argmax(x(), 1, False))
    case("max+indices fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_max_with_indices(x(), 1, False))
    case("var fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_var(x(), [1], 1.0, False))
    case("norm(2) fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_norm(x(), 2.0, [1], False))
    case("sum_to_shape fp32 1024x1024->1024", "reduce")(lambda: reduce().launch_sum_to_shape(x(), (1024,)))


def _register_softmax_cases() -> None:
    softmax = lambda: _kernels("softmax")  # noqa: E731
    for label in ("fp32", "fp16"):
        dtype = DTYPES[label]
        case(f"softmax fwd {label} 1024x1024", "softmax")(
            lambda dtype=dtype: softmax().launch_softmax_fwd(_randn(1024, 1024, dtype=dtype), 1)
        )
        case(f"softmax bwd {label} 1024x1024", "softmax")(
            lambda dtype=dtype: softmax().launch_softmax_bwd(
                _randn(1024, 1024, dtype=dtype), _randn(1024, 1024, dtype=dtype), 1
            )
        )
    case("log_softmax fwd fp32 1024x1024", "softmax")(
        lambda: softmax().launch_softmax_fwd(_randn(1024, 1024), 1, log=True)
    )
    case("softmax fwd fp32 long rows 4x131072", "softmax")(lambda: softmax().launch_softmax_fwd(_randn(4, 131072), 1))
    case("softmax fwd fp32 columns 1024x1024", "softmax")(lambda: softmax().launch_softmax_fwd(_randn(1024, 1024), 0))


def _register_pool_cases() -> None:
    pool = lambda: _kernels("pool")  # noqa: E731
    pad = lambda: _kernels("pad")  # noqa: E731
    resample = lambda: _kernels("resample")  # noqa: E731
    x = lambda dtype=torch.float32: _randn(32, 64, 56, 56, dtype=dtype)  # noqa: E731

    def pooling(kind, adaptive=False, dtype=torch.float32):
        def run():
            window_of = pool().PoolWindow
            if adaptive:
                window = window_of((7, 7), adaptive=True)
            else:
                window = window_of((28, 28), (3, 3), (2, 2), (1, 1), (1, 1))
            _, indices = pool().launch_pool2d_fwd(x(dtype), window, kind=kind)
            grad = _randn(32, 64, *window.output_size, dtype=dtype)
            pool().launch_pool2d_bwd(grad, indices, (56, 56), window, kind=kind)
            if kind == "max":
                pool().launch_pool2d_gather(x(dtype), indices)  # the backward's backward

        return run

    # ResNet's stem pooling (3x3/2, padding 1) and its global average pooling.
    case("max_pool2d fwd+bwd fp32 3x3/2 32x64x56x56", "pool")(pooling("max"))
    case("max_pool2d fwd+bwd bf16 3x3/2 32x64x56x56", "pool")(pooling("max", dtype=torch.bfloat16))
    case("avg_pool2d fwd+bwd fp16 3x3/2 32x64x56x56", "pool")(pooling("avg", dtype=torch.float16))
    case("adaptive_avg_pool2d fwd+bwd fp32 56x56->7x7", "pool")(pooling("avg", adaptive=True))

    def padding(mode):
        def run():
            pad().launch_pad_fwd(x(), [(1, 2), (2, 1)], mode, 0.0)
            pad().launch_pad_bwd(_randn(32, 64, 59, 59), (32, 64, 56, 56), [(1, 2), (2, 1)], mode)

        return run

    case("pad constant fwd+bwd fp32 32x64x56x56", "pad")(padding("constant"))
    case("pad reflect fwd+bwd fp32 32x64x56x56", "pad")(padding("reflect"))

    def resize(linear, dtype=torch.float32):
        def run():
            scales = (0.5, 0.5)
            resample().launch_resample2d_fwd(x(dtype), (112, 112), scales, linear=linear)
            resample().launch_resample2d_bwd(_randn(32, 64, 112, 112, dtype=dtype), (56, 56), scales, linear=linear)

        return run

    case("interpolate nearest x2 fwd+bwd fp32 32x64x56x56", "resample")(resize(False))
    case("interpolate bilinear x2 fwd+bwd fp16 32x64x56x56", "resample")(resize(True, torch.float16))


def _register_norm_cases() -> None:
    batch_norm = lambda: _kernels("batch_norm")  # noqa: E731
    layer_norm = lambda: _kernels("layer_norm")  # noqa: E731

    def batch(shape, dtype):
        def run():
            channels = shape[1]
            x, grad = _randn(*shape, dtype=dtype), _randn(*shape, dtype=dtype)
            weight, bias = _randn(channels), _randn(channels)
            running_mean, running_var = torch.empty(channels), torch.empty(channels)
            _, mean, invstd = batch_norm().launch_batch_norm_fwd(
                x, weight, bias, running_mean, running_var, True, 0.1, 1e-5
            )
            batch_norm().launch_batch_norm_fwd(x, weight, bias, running_mean, running_var, False, 0.1, 1e-5)
            batch_norm().launch_batch_norm_bwd(grad, x, weight, mean, invstd, True, (True, True, True))
            # SyncBatchNorm: per-rank moments, their merge, and the backward's per-channel sums.
            moments = torch.empty(2, 3, channels)
            batch_norm().launch_channel_moments(x, moments[0])
            batch_norm().launch_channel_moments(x, moments[1])
            merged_mean, merged_invstd, count = batch_norm().launch_merge_moments(
                moments, running_mean, running_var, 0.1, 1e-5
            )
            sums = torch.empty(2, channels)
            batch_norm().launch_batch_norm_bwd(grad, x, None, merged_mean, merged_invstd, True, (False, True, True),
                                               sums_out=sums)  # fmt: skip
            batch_norm().launch_batch_norm_bwd(grad, x, weight, merged_mean, merged_invstd, True, (True, False, False),
                                               sums=(sums[0], sums[1]), count=count)  # fmt: skip

        return run

    case("batch_norm fwd+bwd fp32 8x64x28x28", "batch_norm")(batch((8, 64, 28, 28), torch.float32))
    case("batch_norm fwd+bwd bf16 8x64x28x28", "batch_norm")(batch((8, 64, 28, 28), torch.bfloat16))
    case("batch_norm fwd+bwd fp32 256x512", "batch_norm")(batch((256, 512), torch.float32))

    def rows(shape, dtype, rms=False, groups=0):
        def run():
            x, grad = _randn(*shape, dtype=dtype), _randn(*shape, dtype=dtype)
            row_dims = x.dim() - 2 if groups else 1
            view = x.view(shape[0], groups, shape[1] // groups, *shape[2:]) if groups else x
            grad_view = grad.view(view.shape) if groups else grad
            params = shape[1] if groups else shape[-1]
            weight, bias = _randn(params), None if rms else _randn(params)
            _, mean, rstd, var = layer_norm().launch_row_norm_fwd(
                view, row_dims, weight, bias, 1e-5, rms=rms, groups=groups, store_var=bool(groups)
            )
            layer_norm().launch_row_norm_bwd(grad_view, view, row_dims, weight, mean, rstd, (True, True, not rms),
                                             rms=rms, groups=groups)  # fmt: skip
            if groups:
                batch_norm().launch_channel_grad_sums(grad, x, mean, rstd, groups=groups)
                running_mean, running_var = torch.empty(shape[1]), torch.empty(shape[1])
                stats_shape = (shape[0], shape[1])
                batch_norm().launch_instance_running_stats(
                    torch.empty(stats_shape), torch.empty(stats_shape), running_mean, running_var, 64, 0.1
                )

        return run

    case("layer_norm fwd+bwd fp32 64x768", "layer_norm")(rows((64, 768), torch.float32))
    case("layer_norm fwd+bwd bf16 8x4096", "layer_norm")(rows((8, 4096), torch.bfloat16))
    case("layer_norm fwd+bwd fp32 2x8192 (looped)", "layer_norm")(rows((2, 8192), torch.float32))
    case("rms_norm fwd+bwd bf16 64x768", "layer_norm")(rows((64, 768), torch.bfloat16, rms=True))
    case("group_norm fwd+bwd fp32 4x32x8x8", "layer_norm")(rows((4, 32, 8, 8), torch.float32, groups=8))


def _register_loss_cases() -> None:
    loss = lambda: _kernels("loss_classes")  # noqa: E731
    elementwise = lambda: _kernels("loss_elementwise")  # noqa: E731
    # 64 rows take the same GPU row config as thousands would, and keep the interpreter run
    # of the executed cases (below) short.
    n, classes = 64, 1000
    target = lambda: torch.randint(0, classes, (n,))  # noqa: E731

    def cross_entropy(dtype):
        def run():
            logits, labels = _randn(n, classes, dtype=dtype), target()
            value, logsumexp = loss().launch_cross_entropy_fwd(logits, labels)
            loss().launch_cross_entropy_bwd(_randn(1, dtype=dtype).view(()), logits, labels, logsumexp)

        return run

    # Class-index losses check the targets' range with a kernel and read the verdict back.
    case("cross_entropy fwd+bwd fp32 64x1000", "loss", execute=True)(cross_entropy(torch.float32))
    case("cross_entropy fwd+bwd bf16 64x1000", "loss", execute=True)(cross_entropy(torch.bfloat16))

    @case("nll_loss fwd+bwd fp32 64x1000", "loss", execute=True)
    def _nll():
        log_probs, labels = _randn(n, classes), target()
        loss().launch_nll_loss_fwd(log_probs, labels)
        loss().launch_nll_loss_bwd(_randn(1).view(()), log_probs, labels)

    # Every row of the elementwise loss table, forward and backward (probabilities in [0, 1] suit them all).
    def elementwise_loss(row):
        def run():
            x, y = torch.rand(LARGE), torch.rand(LARGE)
            options = {"parameter": 0.5, "reduction": "sum"}
            elementwise().launch_elementwise_loss_fwd(row.name, x, y, **options)
            needs = (True, row.target_grad)
            elementwise().launch_elementwise_loss_bwd(row.name, _randn(1).view(()), x, y, needs=needs, **options)

        return run

    for row in elementwise().LOSSES.values():
        case(f"{row.name} fwd+bwd fp32 1M", "loss")(elementwise_loss(row))

    @case("mse_loss one-program fwd with unit gradient fp32 256x10", "loss")
    def _mse_small():
        x, y = _randn(256, 10), _randn(256, 10)
        elementwise().launch_elementwise_loss_fwd("mse_loss", x, y, unit_grads=(True, False))


def _register_optim_cases() -> None:
    optim = lambda: _kernels("optim")  # noqa: E731
    shapes = [(1024, 1024), (1024,), (10, 1024)]  # a weight, its bias, a small odd one

    def group(dtype=torch.float32):
        return [_randn(*s, dtype=dtype) for s in shapes]

    @case("sgd momentum step fp32", "optim")
    def _sgd():
        params = group()
        optim().launch_sgd_step(
            params, group(), group(), lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-4,
            nesterov=False, maximize=False, first_step=False,
        )  # fmt: skip

    def adam(dtype, decoupled):
        def run():
            states = [torch.rand(*s, dtype=dtype) for s in shapes]
            optim().launch_adam_step(
                group(dtype), group(dtype), group(dtype), states, None, step=3, lr=1e-3, beta1=0.9,
                beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                decoupled_weight_decay=decoupled,
            )  # fmt: skip

        return run

    case("adam step fp32", "optim")(adam(torch.float32, decoupled=False))
    case("adamw step fp32", "optim")(adam(torch.float32, decoupled=True))
    case("adamw step bf16", "optim")(adam(torch.bfloat16, decoupled=True))
    case("zero_ fp32", "optim")(lambda: optim().launch_zero_(group()))

    @case("rmsprop centered momentum step fp32", "optim")
    def _rmsprop():
        square_avgs = [torch.rand(*s) for s in shapes]
        optim().launch_rmsprop_step(
            group(), group(), square_avgs, group(), group(), lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=1e-4,
            momentum=0.9, centered=True, maximize=False,
        )  # fmt: skip


def _register_random_cases() -> None:
    random = lambda: _kernels("random")  # noqa: E731
    empty = lambda dtype=torch.float32: torch.empty(LARGE, dtype=dtype)  # noqa: E731
    case("uniform_ fp32 1M", "random")(lambda: random().launch_uniform_(empty(), 0.0, 1.0, 1234, 0))
    case("normal_ fp32 1M", "random")(lambda: random().launch_normal_(empty(), 0.0, 1.0, 1234, 0))
    case("randint_ int64 1M", "random")(lambda: random().launch_randint_(empty(torch.int64), 0, 100, 1234, 0))
    case("bernoulli_ fp32 1M", "random")(lambda: random().launch_bernoulli_(empty(), 0.5, 1234, 0))
    case("dropout fwd fp32 1M", "random")(lambda: random().launch_dropout_fwd(_randn(LARGE), 0.1, 1234, 0))
    case("dropout bwd fp32 1M", "random")(lambda: random().launch_dropout_bwd(_randn(LARGE), 0.1, 1234, 0))
    case("uniform_ fp64 1M", "random")(lambda: random().launch_uniform_(empty(torch.float64), 0.0, 1.0, 1234, 0))
    case("normal_ fp64 1M", "random")(lambda: random().launch_normal_(empty(torch.float64), 0.0, 1.0, 1234, 0))
    case("exponential_ fp32 1M", "random")(lambda: random().launch_exponential_(empty(), 1.0, 1234, 0))
    case("count_outside fp32 1M", "random")(lambda: random().launch_count_outside(_randn(LARGE), 0.0, 1.0))
    sampling = lambda: _kernels("sampling")  # noqa: E731
    case("randperm 1M", "sampling")(lambda: sampling().launch_randperm(empty(torch.int64), 1234, 0))
    weights = lambda: torch.rand(64, 1000)  # noqa: E731
    case("multinomial 64x1000 with replacement", "sampling")(
        lambda: sampling().launch_multinomial(weights(), 16, True, 1234, 0, *_row_stats(sampling(), weights()))
    )
    case("multinomial 64x1000 without replacement", "sampling")(
        lambda: sampling().launch_multinomial(weights(), 16, False, 1234, 0)
    )


def _row_stats(sampling: Any, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    stats, cdf = sampling.multinomial_row_stats(weights, with_cdf=True)
    return cdf, stats


def _register_creation_cases() -> None:
    creation = lambda: _kernels("creation")  # noqa: E731
    case("fill_ fp32 1M", "creation")(lambda: creation().launch_fill_(torch.empty(LARGE), 0.0))
    case("arange fp32 1M", "creation")(
        lambda: creation().launch_arange(0.0, float(LARGE), 1.0, dtype=torch.float32, device="cpu")
    )
    case("linspace fp32 1M", "creation")(
        lambda: creation().launch_linspace(0.0, 1.0, LARGE, dtype=torch.float32, device="cpu")
    )
    case("eye fp32 1024x1024", "creation")(lambda: creation().launch_eye(1024, 1024, dtype=torch.float32, device="cpu"))


def _register_indexing_cases() -> None:
    indexing = lambda: _kernels("indexing")  # noqa: E731
    rows = lambda: torch.randint(0, 1000, (512,))  # noqa: E731
    # executed: the bounds check and the mask counts are read back between launches
    case("gather_rows fp32 1000x1024[512]", "indexing", execute=True)(
        lambda: indexing().launch_gather_rows(_randn(1000, 1024), rows())
    )
    case("scatter_add_rows fp32 512x1024->1000", "indexing", execute=True)(
        lambda: indexing().launch_scatter_add_rows(_randn(512, 1024), rows(), 1000)
    )
    mask = lambda: torch.rand(256, 1024) > 0.5  # noqa: E731
    case("nonzero 256x1024", "indexing", execute=True)(lambda: indexing().launch_nonzero(mask()))
    case("masked_select fp32 256x1024", "indexing", execute=True)(
        lambda: indexing().launch_masked_select(_randn(256, 1024), mask())
    )
    case("masked_scatter fp32 256x1024", "indexing", execute=True)(
        lambda: indexing().launch_masked_scatter(mask(), _randn(256 * 1024), _randn(256, 1024), torch.empty(256, 1024))
    )


def _register_ordering_cases() -> None:
    scan, sort, shape = (lambda name=name: _kernels(name) for name in ("scan", "sort", "shape"))
    rows = lambda: _randn(1024, 1024)  # noqa: E731
    case("cumsum fp32 rows 1024x1024", "ordering")(lambda: scan().launch_scan(rows(), 1, "sum"))
    case("cummax+indices fp32 rows 1024x1024", "ordering")(
        lambda: scan().launch_scan(rows(), 1, "max", with_indices=True)
    )
    case("cumprod backward fp32 rows 1024x1024", "ordering")(
        lambda: scan().launch_affine_reverse_scan(rows(), rows(), 1)
    )
    case("sort fp32 rows 1024x1024", "ordering")(lambda: sort().launch_sort(rows(), 1))
    # A row longer than one register tile: sorted tiles, then merge passes.
    case("sort fp32 rows 64x8192 (merge)", "ordering")(lambda: sort().launch_sort(_randn(64, 8192), 1))
    case("gather along dim fp32 1024x1024", "ordering")(
        lambda: sort().launch_gather_along_dim(rows(), torch.randint(0, 1024, (1024, 1024)), 1)
    )
    case("flip+roll fp32 1024x1024", "ordering")(
        lambda: shape().launch_rearrange(rows(), flips=(True, False), shifts=(0, 3))
    )


def _register_counting_cases() -> None:
    histogram = lambda: _kernels("histogram")  # noqa: E731
    case("histc fp32 1M into 100 bins", "counting")(lambda: histogram().launch_histogram(_randn(LARGE), 100, -3.0, 3.0))
    case("histogram fp32 1M, 64 searched edges", "counting")(
        lambda: histogram().launch_histogram(_randn(LARGE), 64, -3.0, 3.0, edges=torch.linspace(-3.0, 3.0, 65))
    )
    case("bincount int64 1M into 1000", "counting")(
        lambda: histogram().launch_bincount(torch.randint(0, 1000, (LARGE,)), 1000)
    )


def _register_attention_cases() -> None:
    attention = lambda: _kernels("attention")  # noqa: E731
    mask = lambda: torch.rand(2048, 2048) > 0.1  # noqa: E731
    dropout = {"dropout_p": 0.1, "seed": 1, "offset": 0}

    def forward(dtype, d, causal=False, masked=False, **options):
        q, k, v = (torch.empty(1, 4, 2048, d, dtype=dtype) for _ in range(3))
        return lambda: attention().launch_attention_fwd(q, k, v, mask() if masked else None, causal=causal, **options)

    def backward(dtype, d, causal=False, masked=False, **options):
        # (grad_out, q, k, v, out, lse): the kernels are compiled, not run, so values are never read.
        q, k, v = (torch.empty(1, 4, 2048, d, dtype=dtype) for _ in range(3))
        lse = torch.empty(1, 4, 2048, dtype=torch.float64 if dtype == torch.float64 else torch.float32)
        return lambda: attention().launch_attention_bwd(
            q, q, k, v, q, lse, mask() if masked else None, causal=causal, **options
        )

    for label, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        for d in (64, 128):
            case(f"attention fwd {label} d{d} causal 4x2048", "attention")(forward(dtype, d, causal=True))
            case(f"attention bwd {label} d{d} causal 4x2048", "attention")(backward(dtype, d, causal=True))
    for label, dtype in (("fp32", torch.float32), ("fp64", torch.float64)):
        case(f"attention fwd {label} d64 4x2048", "attention")(forward(dtype, 64))
        case(f"attention bwd {label} d64 4x2048", "attention")(backward(dtype, 64))
    # A mask tile and per-score Philox state take registers: these launch smaller tiles.
    for label, dtype, d in (("fp16", torch.float16, 64), ("bf16", torch.bfloat16, 128), ("fp32", torch.float32, 64),
                            ("fp64", torch.float64, 64)):  # fmt: skip
        case(f"attention fwd {label} d{d} bool mask + dropout 4x2048", "attention")(
            forward(dtype, d, masked=True, **dropout)
        )
        case(f"attention bwd {label} d{d} bool mask + dropout 4x2048", "attention")(
            backward(dtype, d, masked=True, **dropout)
        )
    case("attention dropout keep mask 4x2048x2048", "attention")(
        lambda: attention().launch_attention_dropout_keep(1, 4, 2048, 2048, 0.1, 1, 0, torch.device("cpu"))
    )


def _register_embedding_cases() -> None:
    embedding = lambda: _kernels("embedding")  # noqa: E731
    fused = lambda: _kernels("fused_linear_ce")  # noqa: E731
    for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        case(f"embedding backward {label} 4096x768 -> 32000 rows", "embedding")(
            lambda dtype=dtype: embedding().launch_embedding_backward(
                _randn(4096, 768, dtype=dtype), torch.randint(0, 32000, (4096,)), 32000
            )
        )
        # executed: the target check reads back; small, since the interpreter runs it
        case(f"linear cross-entropy {label} 64x64 V=320", "fused_linear_ce", execute=True)(
            lambda dtype=dtype: fused().launch_linear_cross_entropy(
                _randn(64, 64, dtype=dtype),
                _randn(320, 64, dtype=dtype),
                torch.randint(0, 320, (64,)),
                _randn(320, dtype=dtype),
                needs=(True, True, True),
            )
        )


for _register in (
    _register_elementwise_cases,
    _register_activation_cases,
    _register_matmul_cases,
    _register_conv_cases,
    _register_reduce_cases,
    _register_softmax_cases,
    _register_attention_cases,
    _register_pool_cases,
    _register_norm_cases,
    _register_loss_cases,
    _register_optim_cases,
    _register_random_cases,
    _register_creation_cases,
    _register_indexing_cases,
    _register_ordering_cases,
    _register_counting_cases,
    _register_embedding_cases,
):
    _register()


def select_cases(patterns: list[str] | None) -> list[Case]:
    """The cases named by ``patterns`` (all when None): each pattern is a case name, a family
    (``matmul``), or else a substring of case names (``fp16``)."""
    if not patterns:
        return list(CASES.values())
    chosen: dict[str, Case] = {}
    for pattern in patterns:
        if pattern in CASES:
            matches = [CASES[pattern]]
        else:
            matches = [c for c in CASES.values() if pattern == c.family] or [
                c for c in CASES.values() if pattern in c.name
            ]
        if not matches:
            raise ValueError(f"no kernel-report case matches {pattern!r}; see --list")
        chosen.update((c.name, c) for c in matches)
    return list(chosen.values())


# ----------------------------------------------------------------------------------------------
# Capturing
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Capture:
    launches: list[dict[str, Any]]  # unique (case, arch, kernel, arguments)
    failures: list[dict[str, str]]  # cases whose launcher raised
    seconds: dict[str, float]  # interpreter time per case, all archs together


def capture(cases: list[Case], archs: list[int]) -> Capture:
    """Runs every case under each arch's GPU launch policy and records the launches."""
    if not runtime.is_interpreter():
        raise RuntimeError(
            "recording launches needs Triton's interpreter: set TRITONGRAD_DEVICE=cpu before tritongrad is imported"
        )
    launches: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    seconds: dict[str, float] = {}
    seen: set[str] = set()
    for arch in archs:
        with gpu_launch_policy(GPU_MODELS[arch]):
            for item in cases:
                torch.manual_seed(0)
                start = time.perf_counter()
                with recording_launches(item.execute) as recorded:
                    try:
                        item.run()
                    except Exception as error:  # noqa: BLE001  (reported, the other cases go on)
                        message = "".join(traceback.format_exception_only(type(error), error)).strip()
                        failures.append({"case": item.name, "arch": f"sm_{arch}", "error": message[-1000:]})
                seconds[item.name] = seconds.get(item.name, 0.0) + time.perf_counter() - start
                for launch in recorded:
                    launch.update(case=item.name, family=item.family, arch=arch)
                    key = json.dumps(launch, sort_keys=True)
                    if key not in seen:
                        seen.add(key)
                        launches.append(launch)
    return Capture(launches, failures, seconds)


@functools.cache
def all_kernels() -> list[tuple[str, str]]:
    """(module, name) of every module-level kernel in kernels/ (objects named ``*_kernel``)."""
    package = importlib.import_module(KERNELS_PACKAGE)
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module_name = f"{KERNELS_PACKAGE}.{info.name}"
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            function = value
            while hasattr(function, "fn"):
                function = function.fn
            if (
                name.endswith("_kernel")
                and function is not value
                and getattr(function, "__module__", None) == module_name
            ):
                found.append((module_name, name))
    return sorted(found)


def uncaptured_kernels(launches: list[dict[str, Any]]) -> list[str]:
    """Kernels of kernels/ that no recorded launch reached."""
    reached = {(launch["module"], launch["kernel"]) for launch in launches}
    return [f"{module.rsplit('.', 1)[-1]}.{name}" for module, name in all_kernels() if (module, name) not in reached]

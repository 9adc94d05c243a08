"""The tenth red-team round's nn-layer findings (layers #3, #5, #6, #11, #15, #16, #18, #21; scripts4a #2,
#3; scripts4b #1, #2, #5, #8; numerics2 #11, #23), each compared with torch: by ``agree`` (the value
and gradients, or the exception type and the head of its message), or by hand where a tolerance or
a warning is the point."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch

# ----------------------------------------------------------------------------------------------
# layers #3: rms_norm's default eps of a half-precision input is float32's (torch computes in it)
# ----------------------------------------------------------------------------------------------

SMALL_ROWS = torch.tensor([[1e-3, 2e-3, 0.0, 0.0], [0.5, -1.0, 2.0, 0.25]])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("weight_dtype", [None, "same", torch.float32])
def test_rms_norm_default_eps_is_the_compute_dtypes(dtype, weight_dtype):
    x = SMALL_ROWS.to(dtype)
    weight = (
        None
        if weight_dtype is None
        else torch.linspace(0.5, 2.0, 4).to(dtype if weight_dtype == "same" else weight_dtype)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch's "Mismatch dtype between input and weight")
        expected = torch.nn.functional.rms_norm(x, (4,), weight)
    actual = tritongrad.nn.functional.rms_norm(from_torch(x), (4,), None if weight is None else from_torch(weight))
    assert_close(actual, expected)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_rms_norm_module_default_eps_in_half_precision(dtype):
    expected = torch.nn.RMSNorm(4).to(dtype)(SMALL_ROWS.to(dtype))
    actual = tritongrad.nn.RMSNorm(4).to(dtype)(from_torch(SMALL_ROWS.to(dtype)))
    assert_close(actual, expected)


# ----------------------------------------------------------------------------------------------
# scripts4b #1: weighted cross_entropy with label smoothing and no weight at all is NaN, not inf
# ----------------------------------------------------------------------------------------------

CROSS_ENTROPY_CASES = {
    "zero weights": (torch.zeros(2, 3), torch.tensor([0, 1]), [0.0, 0.0, 1.0], 0.1),
    "zero weights, smoothing 1": (torch.zeros(2, 3), torch.tensor([0, 1]), [0.0, 0.0, 1.0], 1.0),
    "zero weights, (N, C, d)": (torch.zeros(2, 3, 2), torch.tensor([[0, 1], [1, 1]]), [0.0, 0.0, 1.0], 0.1),
    "zero weight and an ignored row": (torch.zeros(2, 3), torch.tensor([0, -100]), [0.0, 0.0, 1.0], 0.1),
    "every row ignored": (torch.zeros(2, 3), torch.tensor([-100, -100]), [1.0, 2.0, 1.0], 0.1),
    "some weight": (torch.arange(6.0).reshape(2, 3) / 4, torch.tensor([0, 2]), [0.0, 0.5, 1.0], 0.1),
}


@pytest.mark.parametrize("case", CROSS_ENTROPY_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_weights_and_smoothing_with_no_total_weight(case, reduction):
    logits, target, weight, smoothing = CROSS_ENTROPY_CASES[case]

    def run(lib, logits, target):
        loss = lib.nn.functional.cross_entropy(
            logits, target, weight=lib.tensor(weight), label_smoothing=smoothing, reduction=reduction
        )
        loss.backward()
        return loss.detach()

    agree(case, run, [logits.clone().requires_grad_(), target])


# ----------------------------------------------------------------------------------------------
# scripts4b #2, #8: pad_sequence takes the first sequence's dtype; torch's exception types
# ----------------------------------------------------------------------------------------------

PAD_CASES = {
    "int then float": lambda lib: ([lib.tensor([1, 2]), lib.tensor([1.5])], {"batch_first": True}),
    "float then int": lambda lib: ([lib.tensor([1.5]), lib.tensor([1, 2])], {}),
    "int, float padding left": lambda lib: (
        [lib.tensor([1, 2]), lib.tensor([1.5])],
        {"batch_first": True, "padding_value": 2.7, "padding_side": "left"},
    ),
    "trailing dims broadcast": lambda lib: ([lib.ones(2, 3), lib.ones(1, 1)], {}),
    "trailing dims mismatch": lambda lib: ([lib.ones(2, 3), lib.ones(1, 2)], {}),
    "tensor padding value": lambda lib: ([lib.ones(2, 3), lib.ones(1, 3)], {"padding_value": lib.tensor(2.0)}),
    "a tensor of sequences": lambda lib: (lib.arange(6.0).reshape(2, 3), {}),
    "0-d first": lambda lib: ([lib.tensor(1), lib.tensor(2)], {}),
    "0-d later": lambda lib: ([lib.tensor([1]), lib.tensor(2)], {}),
    "bad padding side": lambda lib: ((lib.tensor([1, 2]), lib.tensor([3])), {"padding_side": "middle"}),
    "lists": lambda lib: ([[1, 2], [3]], {"batch_first": True}),
    "a list later": lambda lib: ([lib.tensor([1, 2]), [3]], {}),
    "empty": lambda lib: ([], {}),
    "not iterable": lambda lib: (5, {}),
    "padding value None": lambda lib: ([lib.ones(2)], {"padding_value": None}),
    "batch_first None": lambda lib: ([lib.ones(2)], {"batch_first": None}),
}


@pytest.mark.parametrize("case", PAD_CASES)
def test_pad_sequence_dtype_and_errors(case):
    def run(lib):
        sequences, options = PAD_CASES[case](lib)
        return lib.nn.utils.rnn.pad_sequence(sequences, **options)

    # (a trailing-shape mismatch is copy_'s error, whose message is tritongrad's expand's)
    agree(case, run, [], message=case != "trailing dims mismatch")


def test_pad_sequence_gradient_through_the_cast():
    def run(lib, first, second):
        padded = lib.nn.utils.rnn.pad_sequence([first, second], padding_side="left")
        (padded * lib.arange(6.0).reshape(3, 2)).sum().backward()
        return padded.detach(), type(padded.grad_fn).__name__

    agree(
        "pad_sequence grad",
        run,
        [torch.ones(3, requires_grad=True), torch.ones(2, dtype=torch.float64, requires_grad=True)],
    )


# ----------------------------------------------------------------------------------------------
# scripts4a #2, #3: triplet_margin_loss takes any (equal) number of dims; cosine_embedding_loss's
# dimension checks
# ----------------------------------------------------------------------------------------------

_A = torch.arange(24.0).reshape(2, 3, 4) / 10

TRIPLET_CASES = {
    "3-d none": ((_A, _A.flip(0), _A * 2), {"reduction": "none"}),
    "3-d mean": ((_A, _A.flip(0), _A * 2), {}),
    "0-d": ((torch.tensor(1.0), torch.tensor(0.0), torch.tensor(2.0)), {}),
    "4-d swap": ((torch.ones(1, 1, 1, 3), torch.zeros(1, 1, 1, 3), torch.ones(1, 1, 1, 3)), {"swap": True}),
    "1-d and 2-d": ((torch.ones(3), torch.ones(2, 3), torch.ones(3)), {}),
    "0-d and 1-d": ((torch.tensor(1.0), torch.ones(1), torch.tensor(1.0)), {}),
    "bad margin first": ((torch.ones(3), torch.ones(2, 3), torch.ones(3)), {"margin": 0}),
}


@pytest.mark.parametrize("case", TRIPLET_CASES)
def test_triplet_margin_loss_dims(case):
    (anchor, positive, negative), options = TRIPLET_CASES[case]

    def run(lib, anchor, positive, negative):
        loss = lib.nn.functional.triplet_margin_loss(anchor, positive, negative, **options)
        loss.sum().backward()
        return loss.detach()

    agree(case, run, [anchor.clone().requires_grad_(), positive, negative])


def test_triplet_margin_loss_module_on_3d_input():
    agree("module", lambda lib, a: lib.nn.TripletMarginLoss()(a, a.flip(0), a * 2), [_A])


COSINE_EMBEDDING_CASES = {
    "1-d target, 1-d inputs": (torch.ones(3), torch.ones(3), torch.tensor([1])),
    "0-d target, 2-d inputs": (torch.ones(1, 3), torch.ones(1, 3), torch.tensor(1)),
    "2-d target": (torch.ones(2, 3), torch.ones(2, 3), torch.tensor([[1, 1]])),
    "1-d target, 3-d inputs": (torch.ones(2, 2, 3), torch.ones(2, 2, 3), torch.tensor([1, 1])),
    "mixed input dims": (torch.ones(2, 3), torch.ones(3), torch.tensor([1, 1])),
    "0-d target, 1-d inputs": (torch.arange(3.0), torch.ones(3), torch.tensor(-1)),
    "1-d target, 2-d inputs": (torch.arange(6.0).reshape(2, 3), torch.ones(2, 3), torch.tensor([1, -1])),
}


@pytest.mark.parametrize("case", COSINE_EMBEDDING_CASES)
def test_cosine_embedding_loss_dims(case):
    agree(case, lambda lib, *args: lib.nn.functional.cosine_embedding_loss(*args), list(COSINE_EMBEDDING_CASES[case]))
    agree(case, lambda lib, *args: lib.nn.CosineEmbeddingLoss()(*args), list(COSINE_EMBEDDING_CASES[case]))


# ----------------------------------------------------------------------------------------------
# layers #6: a convolution of an input with 0 channels has 0 output channels (torch's answer)
# ----------------------------------------------------------------------------------------------

ZERO_CHANNEL_CASES = {
    "conv1d": ("conv1d", (1, 0, 3), (2, 0, 2), True, {}),
    "conv1d unbatched": ("conv1d", (0, 3), (2, 0, 2), False, {}),
    "conv1d empty batch": ("conv1d", (0, 0, 3), (2, 0, 2), True, {}),
    "conv1d same": ("conv1d", (1, 0, 3), (2, 0, 2), False, {"padding": "same"}),
    "conv1d strided": ("conv1d", (1, 0, 3), (2, 0, 2), True, {"stride": 2, "padding": 1}),
    "conv1d groups": ("conv1d", (1, 0, 3), (2, 0, 2), False, {"groups": 2}),
    "conv2d": ("conv2d", (1, 0, 3, 3), (2, 0, 2, 2), True, {}),
    "conv3d": ("conv3d", (1, 0, 2, 3, 3), (2, 0, 1, 2, 2), True, {}),
    "conv3d unbatched same": ("conv3d", (0, 3, 3, 3), (2, 0, 2, 2, 2), False, {"padding": "same"}),
    "conv1d bad bias": ("conv1d", (1, 0, 3), (2, 0, 2), "bad", {}),
    "conv1d kernel too large": ("conv1d", (1, 0, 1), (2, 0, 2), False, {}),
    "conv_transpose1d": ("conv_transpose1d", (1, 0, 3), (0, 2, 2), False, {}),
}


@pytest.mark.parametrize("case", ZERO_CHANNEL_CASES)
def test_convolution_of_zero_channels(case):
    name, input_shape, weight_shape, bias, options = ZERO_CHANNEL_CASES[case]
    inputs = [torch.ones(input_shape, requires_grad=True), torch.ones(weight_shape, requires_grad=True)]
    if bias:
        inputs.append(torch.ones(3 if bias == "bad" else weight_shape[0], requires_grad=True))

    def run(lib, *args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ('same' padding with an even kernel)
            out = getattr(lib.nn.functional, name)(*args, **options)
        out.sum().backward()
        return out.detach(), type(out.grad_fn).__name__

    agree(case, run, inputs)


@pytest.mark.parametrize("module", ["Conv1d", "Conv2d", "Conv3d"])
def test_conv_module_with_zero_input_channels(module):
    dims = int(module[-2])
    shape = (1, 0) + (3,) * dims

    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (torch: "Initializing zero-element tensors is a no-op")
            out = getattr(lib.nn, module)(0, 2, 2)(lib.ones(shape))
        return tuple(out.shape), out.numel()

    agree(module, run, [])


# ----------------------------------------------------------------------------------------------
# layers #5: nearest/linear source indices are floored as torch's floorf, also for float64
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
@pytest.mark.parametrize("length,scale", [(23, 2.3), (37, 3.0000001), (23, 1.7), (37, 2.9), (23, 0.7)])
def test_resample_source_index_rounding(dtype, mode, length, scale):
    x = torch.arange(float(length), dtype=dtype).reshape(1, 1, length).requires_grad_()
    options = {"scale_factor": scale, "mode": mode}
    if mode == "linear":
        options["align_corners"] = False

    def run(lib, x):
        out = lib.nn.functional.interpolate(x, **options)
        (out * lib.arange(float(out.shape[-1]), dtype=dtype)).sum().backward()
        return out.detach()

    agree(f"{mode} {length} x {scale}", run, [x])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_bicubic_source_index_rounding(dtype):
    x = torch.arange(46.0, dtype=dtype).reshape(1, 1, 2, 23)
    run = lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=(1.0, 2.3), mode="bicubic")  # noqa: E731
    agree("bicubic", run, [x])


# ----------------------------------------------------------------------------------------------
# numerics2 #11, #23: cosine_similarity clamps the norms in place (the gradient flows through them);
# eps < 0 and non-floating common dtypes are refused
# ----------------------------------------------------------------------------------------------

COSINE_CASES = {
    "tiny norm": (torch.tensor([[1e-9, 0.0, 0.0], [1.0, 2.0, 3.0]]), torch.tensor([[1.0, 1, 1], [0, 0, 1e-10]]), {}),
    "zero vector": (torch.zeros(2, 3), torch.arange(6.0).reshape(2, 3), {}),
    "eps 0.5": (torch.tensor([[0.1, 0.2]]), torch.tensor([[3.0, 4.0]]), {"eps": 0.5}),
    "broadcast, dim 0": (torch.tensor([[0.1], [0.2]]), torch.tensor([[1e-9, 2.0, 3.0], [0.0, 1.0, 1.0]]), {"dim": 0}),
}


@pytest.mark.parametrize("case", COSINE_CASES)
def test_cosine_similarity_gradient_below_eps(case):
    x1, x2, options = COSINE_CASES[case]

    def run(lib, x1, x2):
        out = lib.nn.functional.cosine_similarity(x1, x2, **options)
        out.sum().backward()
        return out.detach(), type(out.grad_fn).__name__

    agree(case, run, [x1.double().requires_grad_(), x2.double().requires_grad_()])


COSINE_ARGUMENT_CASES = {
    "eps -1": lambda lib: lib.nn.functional.cosine_similarity(lib.zeros(1, 2), lib.zeros(1, 2), eps=-1.0),
    "eps -1e-10": lambda lib: lib.nn.functional.cosine_similarity(lib.zeros(1, 2), lib.zeros(1, 2), eps=-1e-10),
    "long": lambda lib: lib.nn.functional.cosine_similarity(
        lib.ones(1, 2, dtype=torch.long), lib.ones(1, 2, dtype=torch.long)
    ),
    "long, eps -1": lambda lib: lib.nn.functional.cosine_similarity(
        lib.ones(1, 2, dtype=torch.long), lib.ones(1, 2, dtype=torch.long), eps=-1.0
    ),
    "bool": lambda lib: lib.nn.functional.cosine_similarity(
        lib.ones(1, 2, dtype=torch.bool), lib.ones(1, 2, dtype=torch.bool)
    ),
    "long and float": lambda lib: lib.nn.functional.cosine_similarity(lib.tensor([[1, 2]]), lib.tensor([[0.5, 1.5]])),
    "half and double": lambda lib: lib.nn.functional.cosine_similarity(
        lib.ones(2, dtype=torch.float16), lib.arange(2.0, dtype=torch.float64), dim=0
    ),
}


@pytest.mark.parametrize("case", COSINE_ARGUMENT_CASES)
def test_cosine_similarity_arguments(case):
    agree(case, COSINE_ARGUMENT_CASES[case], [])


# ----------------------------------------------------------------------------------------------
# layers #11, scripts4b #5: embedding_bag(weight, input) (the legacy order) is swapped, with a warning
# ----------------------------------------------------------------------------------------------

BAG_CASES = {
    "2-d input, mean": lambda lib: lib.nn.functional.embedding_bag(lib.arange(8.0).reshape(4, 2), lib.tensor([[0, 1]])),
    "offsets, sum": lambda lib: lib.nn.functional.embedding_bag(
        lib.arange(10.0).view(5, 2), lib.tensor([1, 2]), lib.tensor([0]), mode="sum"
    ),
    "int32 input is not swapped": lambda lib: lib.nn.functional.embedding_bag(
        lib.ones(4, 2), lib.tensor([[0, 1]], dtype=torch.int32)
    ),
}


@pytest.mark.parametrize("case", BAG_CASES)
def test_embedding_bag_legacy_argument_order(case):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = BAG_CASES[case](lib)
        return out, [str(w.message)[:40] for w in caught]

    agree(case, run, [])


# ----------------------------------------------------------------------------------------------
# layers #15, #16: interpolate's refusals of a tensor scale factor and non-integer sizes;
# local_response_norm of 4-d and 5-d input takes avg_pool3d's dtypes
# ----------------------------------------------------------------------------------------------

INTERPOLATE_CASES = {
    "0-d tensor scale": {"scale_factor": "tensor 1.5"},
    "1-d tensor scale": {"scale_factor": "tensor [1.5, 2]"},
    "tensor in a scale tuple": {"scale_factor": ("tensor 1.5", 2.0)},
    "integer tensor scale": {"scale_factor": "tensor 2"},
    "str scale": {"scale_factor": "a"},
    "bool scale": {"scale_factor": True},
    "tensor scale, bilinear": {"scale_factor": "tensor 1.5", "mode": "bilinear"},
    "tensor scale, bicubic": {"scale_factor": "tensor 1.5", "mode": "bicubic"},
    "tensor scale, nearest-exact": {"scale_factor": "tensor 1.5", "mode": "nearest-exact"},
    "tensor scale, antialias": {"scale_factor": "tensor 1.5", "mode": "bilinear", "antialias": True},
    "tensor scale, area": {"scale_factor": "tensor 1.5", "mode": "area"},
    "tensor scale, recomputed": {"scale_factor": "tensor 1.5", "recompute_scale_factor": True},
    "float in size": {"size": (2.0, 3)},
    "None in size": {"size": (2, None)},
    "float tensor in size": {"size": ("tensor 2.", 3)},
    "bool in size": {"size": (True, 2)},
    "float size": {"size": 2.0},
    "str size": {"size": "ab"},
    "float size, area": {"size": 2.0, "mode": "area"},
    "integer tensor size": {"size": "tensor 3"},
    "integer tensor in size": {"size": ("tensor 3", 2)},
}


def _resolve(lib, value):
    if isinstance(value, str) and value.startswith("tensor "):
        return lib.tensor(eval(value.removeprefix("tensor ")))  # noqa: S307 - the literals above
    if isinstance(value, tuple):
        return tuple(_resolve(lib, entry) for entry in value)
    return value


@pytest.mark.parametrize("case", INTERPOLATE_CASES)
def test_interpolate_argument_types(case):
    def run(lib, x):
        options = {key: _resolve(lib, value) for key, value in INTERPOLATE_CASES[case].items()}
        return lib.nn.functional.interpolate(x, **options)

    agree(case, run, [torch.arange(16.0).reshape(1, 1, 4, 4)])


@pytest.mark.parametrize("mode", ["linear", "nearest"])
def test_interpolate_argument_types_1d(mode):
    run = lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=lib.tensor(1.5), mode=mode)  # noqa: E731
    agree(mode, run, [torch.ones(1, 1, 4)])
    agree(mode, lambda lib, x: lib.nn.functional.interpolate(x, size=(2.0,), mode=mode), [torch.ones(1, 1, 4)])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int32, torch.bool, torch.int64, torch.float32])
@pytest.mark.parametrize("shape", [(1, 3, 2), (1, 3, 2, 2), (1, 3, 2, 1, 2), (0, 3, 2, 2)])
def test_local_response_norm_dtypes(dtype, shape):
    agree(f"{dtype} {shape}", lambda lib, x: lib.nn.functional.local_response_norm(x, 2), [torch.ones(shape).to(dtype)])


# ----------------------------------------------------------------------------------------------
# layers #18, #21: padding='same' with an even kernel warns as torch; messages of these files
# ----------------------------------------------------------------------------------------------

SAME_PADDING_CASES = {
    "conv2d even kernel": lambda lib: lib.nn.functional.conv2d(
        lib.ones(1, 1, 3, 3), lib.ones(1, 1, 2, 2), padding="same"
    ),
    "conv2d odd kernel": lambda lib: lib.nn.functional.conv2d(
        lib.ones(1, 1, 3, 3), lib.ones(1, 1, 3, 3), padding="same"
    ),
    "conv1d dilation 3": lambda lib: lib.nn.Conv1d(4, 6, 4, padding="same", dilation=3, groups=2)(lib.ones(1, 4, 5)),
    "conv1d dilation 2": lambda lib: lib.nn.functional.conv1d(
        lib.ones(1, 1, 5), lib.ones(1, 1, 2), padding="same", dilation=2
    ),
    "conv3d even depth": lambda lib: lib.nn.functional.conv3d(
        lib.ones(1, 1, 3, 3, 3), lib.ones(1, 1, 2, 1, 1), padding="same"
    ),
}


@pytest.mark.parametrize("case", SAME_PADDING_CASES)
def test_same_padding_even_kernel_warning(case):
    def warned(lib):
        was = lib.is_warn_always_enabled()
        lib.set_warn_always(True)  # (torch's warning is once per process otherwise)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                SAME_PADDING_CASES[case](lib)
        finally:
            lib.set_warn_always(was)
        # (without torch's "(Triggered internally at ...)" suffix)
        return [str(w.message).split(" (Triggered")[0] for w in caught if "padding='same'" in str(w.message)]

    assert warned(tritongrad) == warned(torch)


MESSAGE_CASES = {
    "embedding float indices": lambda lib: lib.nn.functional.embedding(lib.tensor([1.0, 2.0]), lib.ones(4, 2)),
    "embedding uint8 indices": lambda lib: lib.nn.functional.embedding(
        lib.tensor([1, 2], dtype=torch.uint8), lib.ones(4, 2)
    ),
    "embedding_bag 2-d input with offsets": lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([[1, 2]]), lib.ones(4, 2), lib.tensor([0])
    ),
    "embedding_bag per_sample_weights shape": lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0]), mode="sum", per_sample_weights=lib.ones(3)
    ),
    "embedding_bag float indices, int weight": lambda lib: lib.nn.functional.embedding_bag(
        lib.ones(1, 2), lib.ones(4, 2, dtype=torch.int32)
    ),
    "embedding_bag int16 2-d input, int32 table": lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([[1, 0]], dtype=torch.int16), lib.ones(2, 2, dtype=torch.int32)
    ),
    "embedding_bag float offsets, int32 table": lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 0]), lib.ones(2, 2, dtype=torch.int32), lib.tensor([0.0])
    ),
    "embedding_bag int16 indices, int32 table": lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 0], dtype=torch.int16), lib.ones(2, 2, dtype=torch.int32), lib.tensor([0])
    ),
    "group_norm long": lambda lib: lib.nn.functional.group_norm(lib.ones(2, 2, 3, dtype=torch.long), 1),
    "group_norm long, bad groups": lambda lib: lib.nn.functional.group_norm(lib.ones(2, 2, 3, dtype=torch.long), 3),
    "group_norm long, float weight": lambda lib: lib.nn.functional.group_norm(
        lib.ones(2, 2, 3, dtype=torch.long), 1, weight=lib.ones(2)
    ),
    "LayerNorm mixed dtype and shape": lambda lib: lib.nn.LayerNorm(4)(lib.ones(2, 3, dtype=torch.float64)),
    "LayerNorm mixed dtype": lambda lib: lib.nn.LayerNorm(3)(lib.ones(2, 3, dtype=torch.float64)),
    "ConvTranspose1d output_padding": lambda lib: lib.nn.ConvTranspose1d(1, 1, 3, output_padding=2, stride=2)(
        lib.ones(1, 1, 3)
    ),
    "conv_transpose2d dilation 0": lambda lib: lib.nn.functional.conv_transpose2d(
        lib.ones(1, 1, 3, 3), lib.ones(1, 1, 2, 2), dilation=0
    ),
    "conv_transpose1d dilation 0": lambda lib: lib.nn.functional.conv_transpose1d(
        lib.ones(1, 1, 3), lib.ones(1, 1, 2), dilation=0
    ),
    "conv_transpose3d dilation 0": lambda lib: lib.nn.functional.conv_transpose3d(
        lib.ones(1, 1, 3, 3, 3), lib.ones(1, 1, 2, 2, 2), dilation=(1, 0, 1)
    ),
    "conv1d dilation 0": lambda lib: lib.nn.functional.conv1d(lib.ones(1, 1, 3), lib.ones(1, 1, 2), dilation=0),
    "conv2d dilation 0": lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 3, 3), lib.ones(1, 1, 2, 2), dilation=0),
}


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_messages(case):
    agree(case, MESSAGE_CASES[case], [])

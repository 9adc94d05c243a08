"""The vision red-team findings (embedding_bag, interpolate, pooling, grid_sample), each compared with
torch 2.13 by ``agree`` (value, dtype, or exception type and the head of its message), plus value
and gradient comparisons of the fixed semantics over several shapes and modes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as torch_F

import tritongrad
from tests.test_hardening import agree

F64 = torch.float64
NAN, INF = float("nan"), float("inf")


def _table(lib, rows: int = 5, dim: int = 2, dtype=torch.float32, requires_grad: bool = False):
    """A (rows, dim) table of distinct non-zero values (never a constant: a wrong row shows)."""
    values = ((torch.arange(rows * dim, dtype=F64) * 7 % 11 - 5) / 3 + 0.25).view(rows, dim)
    return lib.tensor(values.tolist(), dtype=dtype, requires_grad=requires_grad)


def _bag(inp, offsets, mode, dtype=torch.float32, backward=True, **options):
    """embedding_bag(inp, table, offsets) and, with ``backward``, the table's gradient for an
    upstream gradient 1, 2, 3, ... (so each bag's share differs)."""

    def call(lib):
        weight = _table(lib, dtype=dtype, requires_grad=backward)
        off = None if offsets is None else lib.tensor(offsets, dtype=torch.int64)
        out = lib.nn.functional.embedding_bag(lib.tensor(inp), weight, off, mode=mode, **options)
        if not backward:
            return out
        out.backward(lib.arange(1.0, out.numel() + 1, dtype=dtype).view(out.shape))
        return out, weight.grad

    return call


# ----------------------------------------------------------------------------------------------
# embedding_bag
# ----------------------------------------------------------------------------------------------

BAG_REPROS = {
    "scale_grad_by_freq sum": _bag([0, 2, 2, 1], [0, 2], "sum", scale_grad_by_freq=True),
    "scale_grad_by_freq mean": _bag([0, 2, 2, 1], [0, 2], "mean", scale_grad_by_freq=True),
    "scale_grad_by_freq 2-d input": _bag([[0, 1, 2], [2, 3, 3]], None, "sum", scale_grad_by_freq=True),
    "scale_grad_by_freq with padding": _bag([0, 2, 2, 1], [0, 2], "mean", scale_grad_by_freq=True, padding_idx=2),
    "scale_grad_by_freq in max mode": _bag([0, 2, 2, 1], [0, 2], "max", scale_grad_by_freq=True),
    "module scale_grad_by_freq": lambda lib: _module_bag(lib),
    "padding_idx past the table": _bag([0, 2, 2, 1], [0, 2], "mean", padding_idx=7),
    "padding_idx before the table": _bag([0, 2, 2, 1], [0, 2], "mean", padding_idx=-6),
    "padding_idx -5": _bag([0, 2, 2, 1], [0, 2], "mean", padding_idx=-5),
    "offsets[0] not 0": _bag([0, 2, 2, 1], [1, 2], "mean"),
    "offsets[0] negative": _bag([0, 2, 2, 1], [-1, 2], "sum"),
    "offsets[-1] past the input": _bag([0, 2, 2, 1], [0, 5], "mean"),
    "offsets[-1] past the input, include_last_offset": _bag([0, 2, 2, 1], [0, 2, 5], "sum", include_last_offset=True),
    "index past the table": _bag([0, 5, 1], [0, 2], "mean"),
    "index past the table, sum": _bag([0, 5, 1], [0, 2], "sum"),
    "empty offsets with include_last_offset": _bag([0, 1], [], "mean", backward=False, include_last_offset=True),
    # (no bag: torch's backward of the empty result crashes the process, so values only)
    "one offset with include_last_offset": _bag([0, 1], [0], "sum", backward=False, include_last_offset=True),
    "float offsets": lambda lib: lib.nn.functional.embedding_bag(lib.tensor([0, 1]), _table(lib), lib.tensor([0.0])),
    "no offsets": _bag([0, 1], [], "sum", backward=False),
    "empty input": _bag([], [0, 0], "mean"),
    "last offset short of the input (mean)": lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([0, 1, 2]), lib.arange(6.0).view(3, 2), lib.tensor([0, 2]), include_last_offset=True
    ),
}

# torch's CPU raises these with an assertion message ("Expected i < index_size ...") or in some
# kernel paths not at all (float64, max); tritongrad raises the same type everywhere, with a message
# that names the offsets or the index.
BAG_REPROS_TYPE_ONLY = {
    "decreasing offsets": _bag([0, 2, 2, 1], [0, 2, 1], "sum", backward=False),
    "decreasing offsets, equal last": _bag([0, 2, 2, 1], [0, 3, 3, 2], "mean", backward=False),
    "negative index": _bag([0, 1, -1], [0, 2], "sum", backward=False),
    "index past the table, 2-d": _bag([[0, 1], [1, 5]], None, "sum", backward=False),
}


def _module_bag(lib):
    lib.manual_seed(0)
    bag = lib.nn.EmbeddingBag(5, 2, mode="mean", scale_grad_by_freq=True)
    with lib.no_grad():
        bag.weight.copy_(_table(lib))
    out = bag(lib.tensor([0, 2, 2, 1]), lib.tensor([0, 2]))
    out.sum().backward()
    return out, bag.weight.grad


@pytest.mark.parametrize("name", list(BAG_REPROS))
def test_embedding_bag_as_torchs(name):
    agree(name, BAG_REPROS[name], [], message=True)


@pytest.mark.parametrize("name", list(BAG_REPROS_TYPE_ONLY))
def test_embedding_bag_bad_offsets_raise_as_torchs(name):
    agree(name, BAG_REPROS_TYPE_ONLY[name], [], message=False)


def test_embedding_bag_bad_offsets_messages():
    weight = _table(tritongrad)
    with pytest.raises(RuntimeError, match=r"offsets\[2\] = 1 is less than offsets\[1\] = 2"):
        tritongrad.nn.functional.embedding_bag(tritongrad.tensor([0, 2, 2, 1]), weight, tritongrad.tensor([0, 2, 1]))
    with pytest.raises(RuntimeError, match=r"Index 2 of input takes value -1 which is not in the valid range \[0, 5\)"):
        tritongrad.nn.functional.embedding_bag(tritongrad.tensor([0, 1, -1]), weight, tritongrad.tensor([0, 2]))


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize(
    "inp, offsets, padding_idx",
    [
        ([1, 1, 3], [0], None),  # a once-seen index sorting after a repeated one (torch CPU: wrong count)
        ([4, 0, 2, 0, 4, 4, 1, 3], [0, 3, 3, 6], None),  # an empty bag, counts 1 to 3
        ([4, 0, 2, 0, 4, 4, 1, 3], [0, 5], 0),  # padding: no gradient into its row
        ([[3, 1, 3], [1, 1, 0]], None, None),  # 2-d input
    ],
)
def test_embedding_bag_scale_grad_by_freq_divides_by_each_index_count(inp, offsets, padding_idx, mode):
    """The weight gradient equals torch's F.embedding(scale_grad_by_freq=True) followed by the same
    bag reduction (torch's CUDA kernel; its 2.13 CPU embedding_bag kernel divides some rows by
    another index's count, pytorch#190063)."""
    flat = torch.tensor(inp).reshape(-1)
    if offsets is None:
        offsets_t, length = torch.arange(0, flat.numel(), len(inp[0])), len(inp[0])
        bounds = [(i, i + length) for i in range(0, flat.numel(), length)]
    else:
        offsets_t = torch.tensor(offsets)
        bounds = list(zip(offsets, offsets[1:] + [flat.numel()]))
    weight = _table(torch, dtype=F64, requires_grad=True)
    rows = torch_F.embedding(flat, weight, padding_idx=padding_idx, scale_grad_by_freq=True)
    bags = []
    for start, stop in bounds:
        keep = [i for i in range(start, stop) if padding_idx is None or int(flat[i]) != padding_idx]
        total = rows[keep].sum(0) if keep else rows[:0].sum(0)
        bags.append(total / max(len(keep), 1) if mode == "mean" else total)
    expected = torch.stack(bags)
    upstream = torch.arange(1.0, expected.numel() + 1, dtype=F64).view(expected.shape)
    expected.backward(upstream)

    ours_weight = _table(tritongrad, dtype=F64, requires_grad=True)
    ours = tritongrad.nn.functional.embedding_bag(
        tritongrad.tensor(inp), ours_weight, None if offsets is None else tritongrad.tensor(offsets_t.tolist()),
        mode=mode, scale_grad_by_freq=True, padding_idx=padding_idx,
    )  # fmt: skip
    ours.backward(tritongrad.tensor(upstream.tolist(), dtype=F64))
    torch.testing.assert_close(torch.tensor(ours.tolist(), dtype=F64), expected.detach(), msg="values")
    torch.testing.assert_close(torch.tensor(ours_weight.grad.tolist(), dtype=F64), weight.grad, msg="weight grad")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 3])
@pytest.mark.parametrize("offsets", [[0, 2], [0, 2, 4], [0, 2, 2], [0, 0, 3], [0, 5]])
def test_embedding_bag_include_last_offset_values_as_torchs(offsets, padding_idx, mode, dtype):
    """A last offset short of the input's end: torch's CPU result depends on its kernel path
    (pytorch#191965); tritongrad follows each path's values. (Gradients are not compared: torch's
    are not those of its forward there, and its float32 "sum" reads uninitialised memory.)"""
    call = _bag([0, 1, 2, 3, 1], offsets, mode, dtype, backward=False, padding_idx=padding_idx,
                include_last_offset=True)  # fmt: skip
    agree(f"{offsets} {padding_idx} {mode} {dtype}", call, [], message=True)


@pytest.mark.parametrize("contiguous", [True, False])
def test_embedding_bag_include_last_offset_per_sample_weights_as_torchs(contiguous):
    def call(lib):
        weights = lib.tensor([1.0, 2, 3, 4, 5]) if contiguous else lib.tensor([1.0, 0, 2, 0, 3, 0, 4, 0, 5, 0])[::2]
        return lib.nn.functional.embedding_bag(
            lib.tensor([0, 1, 2, 3, 1]), _table(lib), lib.tensor([0, 2, 4]), mode="sum", include_last_offset=True,
            per_sample_weights=weights,
        )  # fmt: skip

    agree(f"contiguous={contiguous}", call, [], message=True)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_bag_well_formed_gradients_as_torchs(mode, padding_idx):
    """Offsets ending at the input's end (the documented form): values and gradients as torch's."""
    inp = [0, 3, 1, 0, 4, 4, 2, 1, 3, 0, 2]
    for offsets, include_last in (([0, 4, 4, 7], False), ([0, 4, 4, 7, 11], True)):
        call = _bag(inp, offsets, mode, F64, padding_idx=padding_idx, include_last_offset=include_last)
        agree(f"{mode} {padding_idx} {offsets}", call, [], message=True)


# ----------------------------------------------------------------------------------------------
# interpolate
# ----------------------------------------------------------------------------------------------

_MODES = [
    ("nearest", 3, None), ("nearest", 4, None), ("nearest", 5, None),
    ("nearest-exact", 3, None), ("nearest-exact", 4, None), ("nearest-exact", 5, None),
    ("linear", 3, False), ("linear", 3, True), ("bilinear", 4, False), ("bilinear", 4, True),
    ("bicubic", 4, False), ("bicubic", 4, True), ("trilinear", 5, False), ("trilinear", 5, True),
    ("area", 3, None), ("area", 4, None), ("area", 5, None),
]  # fmt: skip

# Where torch's backward uses another source rule than its forward (its backward keeps the copy /
# doubling shortcuts): 1-d and 3-d 'nearest' and 'bicubic' without align_corners, whenever a dim keeps
# its size or doubles under a scale factor. There the gradient is checked by gradcheck instead.
_TORCH_BACKWARD_DIFFERS = {("nearest", 3), ("nearest", 5), ("bicubic", 4)}


def _ramp(shape, dtype=F64):
    values = (torch.arange(torch.Size(shape).numel(), dtype=F64) % 7 - 3) / 3
    return values.view(shape).to(dtype)


@pytest.mark.parametrize("mode, dims, align", _MODES)
@pytest.mark.parametrize("scale", [1.3, 1.1, 2.04, 0.7])
def test_interpolate_scale_factor_as_torchs(mode, dims, align, scale):
    """A scale factor whose floor keeps (1.3, 1.1 on 5) or doubles (2.04) the size: torch's kernels
    copy only where source_scale says; the rest resample with 1 / scale_factor."""
    shape = (1, 2) + (5, 4, 3)[: dims - 2]
    differs = (mode, dims) in _TORCH_BACKWARD_DIFFERS and not align and scale != 0.7

    def call(lib):
        x = lib.tensor(_ramp(shape).tolist(), dtype=F64, requires_grad=not differs)
        y = lib.nn.functional.interpolate(x, scale_factor=scale, mode=mode, align_corners=align)
        if differs:
            return y
        y.backward(lib.arange(1.0, y.numel() + 1, dtype=F64).view(y.shape))
        return y, x.grad

    agree(f"{mode} {dims}-d align={align} scale={scale}", call, [], message=True)
    if differs:  # (a smaller input: gradcheck differentiates every element)
        x = tritongrad.tensor(_ramp((1, 1) + (3, 2, 2)[: dims - 2]).tolist(), dtype=F64, requires_grad=True)
        fn = lambda t: tritongrad.nn.functional.interpolate(t, scale_factor=scale, mode=mode, align_corners=align)  # noqa: E731
        assert tritongrad.autograd.gradcheck(fn, (x,))


def test_interpolate_red_team_repros():
    cases = {
        "bicubic scale 1.3 on 3x3": lambda lib: lib.nn.functional.interpolate(
            (lib.arange(9.0) % 7 - 3).div(3).view(1, 1, 3, 3), scale_factor=1.3, mode="bicubic"
        ),
        "5-d nearest scale 1.3": lambda lib: lib.nn.functional.interpolate(
            (lib.arange(8.0) % 7 - 3).div(3).view(1, 1, 2, 2, 2), scale_factor=1.3
        ),
        "recompute_scale_factor with a size": lambda lib: lib.nn.functional.interpolate(
            lib.ones(1, 1, 3), size=4, recompute_scale_factor=True
        ),
        "recompute_scale_factor with a scale": lambda lib: lib.nn.functional.interpolate(
            lib.arange(5.0).view(1, 1, 5), scale_factor=1.5, mode="linear", recompute_scale_factor=True
        ),
        "antialias nearest": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3), size=2, antialias=True),
        "antialias 3-d linear": lambda lib: lib.nn.functional.interpolate(
            lib.ones(1, 1, 3), size=2, mode="linear", antialias=True
        ),
        "area 5-d": lambda lib: lib.nn.functional.interpolate(
            _as(lib, _ramp((1, 2, 4, 5, 3))), size=(3, 2, 2), mode="area"
        ),
    }
    for name, call in cases.items():
        agree(name, call, [], message=True)


def _as(lib, tensor):
    return tensor if lib is torch else lib.tensor(tensor.tolist(), dtype=tensor.dtype)


@pytest.mark.parametrize("mode, dims, align", [m for m in _MODES if m[2] is not True])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool, torch.int32])
def test_interpolate_integer_types_as_torchs(mode, dims, align, dtype):
    """uint8 works for the nearest modes, bilinear and bicubic (images, masks); every other integer
    type raises NotImplementedError naming torch's kernel."""
    shape = (1, 3) + (6, 5, 4)[: dims - 2]
    data = (torch.arange(torch.Size(shape).numel()) * 37 % 256).view(shape)

    def call(lib):
        x = lib.tensor(data.tolist(), dtype=dtype)
        return lib.nn.functional.interpolate(x, size=(4, 7, 3)[: dims - 2], mode=mode, align_corners=align)

    agree(f"{mode} {dims}-d {dtype}", call, [], message=True)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("channels", [1, 3, 5])  # torch: AVX path up to 4 channels, generic after
@pytest.mark.parametrize("size, scale", [((7, 5), None), ((3, 11), None), ((6, 4), None), (None, 1.3), (None, 0.6)])
def test_interpolate_uint8_rounds_as_torchs(mode, align, channels, size, scale):
    """torch's int16 fixed-point separable resize, bit for bit (random images, both layouts)."""
    generator = torch.Generator().manual_seed(channels * 31 + len(mode))
    image = torch.randint(0, 256, (2, channels, 6, 7), dtype=torch.uint8, generator=generator)
    for channels_last in (False, True):
        source = image.contiguous(memory_format=torch.channels_last) if channels_last else image

        def call(lib, x):
            return lib.nn.functional.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align)

        agree(f"{mode} align={align} C={channels} cl={channels_last} {size} {scale}", call, [source], message=True)


# ----------------------------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------------------------

_AVG_OPTIONS = [
    {"kernel_size": 2, "stride": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
]


@pytest.mark.parametrize("options", _AVG_OPTIONS, ids=str)
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_avg_pool_integers_as_torchs(options, dtype):
    """int64 averages truncate toward zero (negative sums too); other integer types raise
    NotImplementedError as torch's."""
    data = ((torch.arange(2 * 3 * 5 * 6 * 7) * 7919) % 41 - 20).view(2, 3, 5, 6, 7)
    if dtype in (torch.uint8, torch.bool):
        data = data.abs() % (2 if dtype == torch.bool else 256)

    def pool(lib, name, x):
        return getattr(lib.nn.functional, name)(x, **options)

    agree(
        "2-d",
        lambda lib: pool(lib, "avg_pool2d", lib.tensor(data[0].tolist(), dtype=dtype)[..., :6].transpose(-1, -2)),
        [],
    )
    agree("3-d", lambda lib: pool(lib, "avg_pool3d", lib.tensor(data.tolist(), dtype=dtype)), [])
    if "divisor_override" not in options:
        agree("1-d", lambda lib: pool(lib, "avg_pool1d", lib.tensor(data[0, 0].tolist(), dtype=dtype)), [])


@pytest.mark.parametrize(
    "shape, options",
    [
        ((1, 2, 2, 2), {"kernel_size": (1, 3, 1)}),
        ((1, 1, 2, 2, 2), {"kernel_size": (3, 1, 1)}),
        ((1, 1, 2, 3, 2), {"kernel_size": (3, 1, 1), "padding": (1, 0, 0), "stride": 1, "dilation": (2, 1, 1)}),
    ],
)
def test_max_pool3d_output_too_small_names_the_3d_shapes(shape, options):
    agree(str(options), lambda lib: lib.nn.functional.max_pool3d(lib.ones(shape), **options), [], message=True)


# ----------------------------------------------------------------------------------------------
# grid_sample
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_nan_and_infinite_coordinates_as_torchs(mode, padding_mode, align_corners):
    """bilinear/zeros: NaN (the corner weights are NaN); nearest/zeros: 0; border and reflection
    clamp (NaN to 0); bicubic: NaN whatever the padding."""
    points = [[NAN, 0.2], [0.1, NAN], [NAN, NAN], [INF, 0.0], [-INF, 0.3], [0.5, -0.25], [3e9, 0.1]]
    for dtype in (torch.float32, F64):

        def call(lib, dtype=dtype):
            x = lib.tensor(_ramp((1, 2, 3, 4)).tolist(), dtype=dtype)
            grid = lib.tensor([[points]], dtype=dtype)
            return lib.nn.functional.grid_sample(x, grid, mode=mode, padding_mode=padding_mode,
                                                 align_corners=align_corners)  # fmt: skip

        agree(f"{mode} {padding_mode} {align_corners} {dtype}", call, [], message=True)

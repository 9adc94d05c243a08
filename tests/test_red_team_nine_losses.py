"""The ninth red-team round's loss findings (scripts3b #2, scripts3a #5, dtypes #15, #16 and #26), each
compared with torch by ``agree``: the value (dtype included), or the exception type and the head of
its message.

- nll_loss / cross_entropy class-index targets: torch's checks in its order, for every input rank
  against 0-d, 1-d, 2-d and k-d targets of int64, uint8, int32 and float32 (the batch-size ValueError
  only where torch raises it; "0D or 1D target tensor expected" for an (N, 1) target).
- cross_entropy's rule for class probabilities (a target shaped like the input), its messages.
- margin_ranking_loss / hinge_embedding_loss of integer and bool inputs, soft_margin_loss and
  binary_cross_entropy exception types, the margin losses on the CPU's half types, embedding_bag of
  an integer table.
"""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree

INPUT_SHAPES = [(4,), (3, 4), (1, 4), (3, 4, 2), (3, 4, 2, 2), (3, 4, 2, 1, 2), (0, 4), (0, 4, 2)]
TARGET_SHAPES = [(), (1,), (3,), (2,), (1, 1), (3, 1), (3, 2), (1, 2), (3, 4), (3, 2, 2), (3, 2, 1), (3, 2, 1, 2)]
TARGET_DTYPES = [torch.int64, torch.uint8, torch.int32, torch.float32]


def _logits(shape, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator)


def _classes(shape, dtype, classes: int = 4, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, classes, shape, generator=generator).to(dtype)


def _class_loss(lib, name: str, x, y, **options):
    return getattr(lib.nn.functional, name)(x, y, **options)


def _class_loss_and_backward(lib, name: str, x, y, reduction: str):
    loss = _class_loss(lib, name, x, y, reduction=reduction)
    loss.sum().backward()
    return loss.detach()


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("input_shape", INPUT_SHAPES, ids=str)
def test_class_target_shapes_and_dtypes(name, input_shape):
    x = _logits(input_shape)
    for target_shape in TARGET_SHAPES:
        for dtype in TARGET_DTYPES:
            y = _classes(target_shape, dtype)
            agree(
                f"{name} {input_shape} {target_shape} {dtype}", lambda lib, x, y: _class_loss(lib, name, x, y), [x, y]
            )


@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize(
    "input_shape, target_shape",
    [
        ((4,), ()),  # ((4,) with a (1,) target: torch's backward refuses it, tritongrad's computes)
        ((3, 4), (3,)),
        ((3, 4, 2), (3, 2)),
        ((3, 4, 2, 2), (3, 2, 2)),
        ((2, 4, 2, 1, 2), (2, 2, 1, 2)),
    ],
    ids=str,
)
def test_class_target_values_by_reduction(input_shape, target_shape, reduction):
    x = _logits(input_shape).requires_grad_()
    y = _classes(target_shape, torch.int64)
    for name in ("nll_loss", "cross_entropy"):
        agree(
            f"{name} {input_shape} {target_shape} {reduction}",
            lambda lib, x, y, name=name: _class_loss_and_backward(lib, name, x, y, reduction),
            [x, y],
        )


WEIGHTS = {
    "too many": lambda: torch.ones(5),
    "2x2": lambda: torch.ones(2, 2),
    "float64": lambda: torch.ones(4, dtype=torch.float64),
    "int64": lambda: torch.ones(4, dtype=torch.int64),
    "requires grad": lambda: torch.ones(4).requires_grad_(),
}


@pytest.mark.parametrize("weight", list(WEIGHTS))
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize(
    "input_shape, target_shape",
    [
        ((3, 4), (3,)),
        ((3, 4), (3, 1)),
        ((4,), (2,)),
        ((3, 4, 2), (3, 2)),
        ((3, 4, 2, 2), (3, 2, 2)),
        ((3, 4, 2, 2), (3, 2, 1)),
    ],
    ids=str,
)
def test_class_weight_checks_in_torchs_order(input_shape, target_shape, smoothing, weight):
    """The weight's shape and dtype errors against the target's shape and dtype errors."""
    x = _logits(input_shape)
    for dtype in (torch.int64, torch.uint8, torch.int32):
        y = _classes(target_shape, dtype)
        w = WEIGHTS[weight]()

        def run(lib, x, y, w):
            if smoothing:
                return lib.nn.functional.cross_entropy(x, y, weight=w, label_smoothing=smoothing)
            return lib.nn.functional.nll_loss(x, y, weight=w)

        agree(f"{input_shape} {target_shape} {dtype} {weight} {smoothing}", run, [x, y, w])


@pytest.mark.parametrize("module", ["NLLLoss", "CrossEntropyLoss"])
@pytest.mark.parametrize("input_shape, target", [((3, 4), [[1], [2], [0]]), ((1, 4), [[1]])], ids=str)
def test_an_n_by_1_target_is_torchs_multi_target_error(module, input_shape, target):
    """A char-RNN tutorial's (1, 1) target: torch's RuntimeError, not the batch-size ValueError."""
    x = _logits(input_shape)
    y = torch.tensor(target)
    agree(f"{module} {target}", lambda lib, x, y: getattr(lib.nn, module)()(x, y), [x, y])


CROSS_ENTROPY_CASES = {
    # the "forgot flatten(0, 1)" GPT bug
    "3-d logits, (N, C) target": lambda: (_logits((2, 3, 5)), _classes((2, 3), torch.int64), {}),
    # a floating target of another shape holds class indices (torch's dtype error)
    "float target of (N,)": lambda: (_logits((6, 5)), torch.zeros(6), {}),
    "float target of (N, 1)": lambda: (_logits((6, 5)), torch.zeros(6, 1), {}),
    "float target of (C,) for (C,)": lambda: (_logits((5,)), torch.rand(5), {}),
    "float64 probabilities": lambda: (_logits((3, 4)), torch.rand(3, 4, dtype=torch.float64), {}),
    "float16 probabilities": lambda: (_logits((3, 4)), torch.rand(3, 4).half(), {}),
    "probabilities, smoothing": lambda: (_logits((3, 4, 2)), torch.rand(3, 4, 2), {"label_smoothing": 0.3}),
    # an integer target of the input's shape is taken as probabilities
    "int64 target of the input's shape": lambda: (_logits((3, 4)), _classes((3, 4), torch.int64), {}),
    "int64 target of the input's shape, smoothing 2": lambda: (
        _logits((3, 4)),
        _classes((3, 4), torch.int64),
        {"label_smoothing": 2.0},
    ),
    "smoothing 2": lambda: (_logits((3, 4)), _classes((3,), torch.int64), {"label_smoothing": 2.0}),
    "smoothing 1.5, probabilities": lambda: (_logits((3, 4)), torch.rand(3, 4), {"label_smoothing": 1.5}),
    "0-d logits, 0-d float target": lambda: (_logits(()), torch.rand(()), {}),
    "0-d logits, 0-d int target": lambda: (_logits(()), torch.tensor(1), {}),
    "0-d logits, (1,) target": lambda: (_logits(()), torch.tensor([1]), {}),
    "(C,) logits, (1,) target, smoothing": lambda: (_logits((4,)), torch.tensor([1]), {"label_smoothing": 0.2}),
    "(C,) logits, (1,) target, none": lambda: (_logits((4,)), torch.tensor([1]), {"reduction": "none"}),
    "uint8 target, weight, smoothing": lambda: (
        _logits((3, 4)),
        _classes((3,), torch.uint8),
        {"label_smoothing": 0.2, "weight": torch.rand(4)},
    ),
    "uint8 target, weight, smoothing, sum": lambda: (
        _logits((3, 4)),
        _classes((3,), torch.uint8),
        {"label_smoothing": 0.2, "weight": torch.rand(4), "reduction": "sum"},
    ),
    "bool target": lambda: (_logits((3, 4)), torch.tensor([True, False, True]), {}),
}


@pytest.mark.parametrize("case", list(CROSS_ENTROPY_CASES))
def test_cross_entropy_target_rules(case):
    x, y, options = CROSS_ENTROPY_CASES[case]()
    weight = options.pop("weight", None)  # (an input of agree's: it makes tritongrad's copy)
    agree(case, lambda lib, x, y, w: lib.nn.functional.cross_entropy(x, y, weight=w, **options), [x, y, weight])


def test_nll_loss_of_a_0d_input():
    agree("nll_loss 0-d", lambda lib, x, y: lib.nn.functional.nll_loss(x, y), [_logits(()), torch.tensor(1)])


# ----------------------------------------------------------------------------------------------
# dtypes #15: margin_ranking_loss / hinge_embedding_loss of integer and bool inputs
# ----------------------------------------------------------------------------------------------

INTEGER_DTYPES = [torch.int64, torch.int8, torch.uint8, torch.bool, torch.float16]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=str)
@pytest.mark.parametrize("margin", [0, 0.5])
def test_margin_ranking_loss_dtypes(dtype, reduction, margin):
    a = torch.tensor([1, 2, 0]).to(dtype)
    b = torch.tensor([2, 1, 1]).to(dtype)
    for target in (torch.tensor([1, -1, 1]), torch.tensor([True, False, True]), torch.tensor([1.0, -1.0, 1.0])):
        agree(
            f"margin_ranking_loss {dtype} {target.dtype} {reduction} {margin}",
            lambda lib, a, b, y: lib.nn.functional.margin_ranking_loss(a, b, y, margin=margin, reduction=reduction),
            [a, b, target],
        )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=str)
@pytest.mark.parametrize("margin", [1.0, 2.5, -2.5])
def test_hinge_embedding_loss_dtypes(dtype, reduction, margin):
    x = torch.tensor([1, 2, 0, 3]).to(dtype)
    for target in (torch.tensor([1, -1, -1, 0]), torch.tensor([1.0, -1.0, -1.0, 1.0])):
        agree(
            f"hinge_embedding_loss {dtype} {target.dtype} {reduction} {margin}",
            lambda lib, x, y: lib.nn.functional.hinge_embedding_loss(x, y, margin=margin, reduction=reduction),
            [x, target],
        )


@pytest.mark.parametrize("margin", [1.0, 2.5])
def test_hinge_embedding_loss_gradient(margin):
    x = torch.tensor([0.3, 2.0, -1.0, 3.0], requires_grad=True)
    y = torch.tensor([1, -1, -1, 1])
    agree(
        "hinge_embedding_loss backward",
        lambda lib, x, y: lib.nn.functional.hinge_embedding_loss(x, y, margin=margin).backward(),
        [x, y],
    )


def test_margin_ranking_loss_gradient():
    a = torch.tensor([0.3, 2.0, -1.0], requires_grad=True)
    b = torch.tensor([1.0, 0.5, -1.5], requires_grad=True)
    y = torch.tensor([1, -1, 1])
    agree(
        "margin_ranking_loss backward",
        lambda lib, a, b, y: lib.nn.functional.margin_ranking_loss(a, b, y, margin=0.2).backward(),
        [a, b, y],
    )


# ----------------------------------------------------------------------------------------------
# dtypes #26: soft_margin_loss and binary_cross_entropy exception types
# ----------------------------------------------------------------------------------------------

OPERAND_DTYPES = [torch.int64, torch.int8, torch.uint8, torch.bool, torch.float32, torch.float64, torch.complex64]


@pytest.mark.parametrize("input_dtype", OPERAND_DTYPES, ids=str)
def test_soft_margin_loss_operand_dtypes(input_dtype):
    x = torch.tensor([1, 2, 0]).to(input_dtype)
    for target_dtype in (torch.int64, torch.int16, torch.bool, torch.float32, torch.float64):
        y = torch.tensor([1, -1, 1]).to(target_dtype)
        if input_dtype.is_complex:  # (torch's complex soft margin computes; tritongrad has no kernel for it)
            continue
        agree(
            f"soft_margin_loss {input_dtype} {target_dtype}",
            lambda lib, x, y: lib.nn.functional.soft_margin_loss(x, y),
            [x, y],
        )


@pytest.mark.parametrize("input_dtype", OPERAND_DTYPES, ids=str)
def test_binary_cross_entropy_operand_dtypes(input_dtype):
    x = torch.tensor([1, 0, 1]).to(input_dtype)
    for target_dtype in (torch.int64, torch.bool, torch.float32, torch.float64, torch.complex64):
        y = torch.tensor([1, 0, 0]).to(target_dtype)
        agree(
            f"binary_cross_entropy {input_dtype} {target_dtype}",
            lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y),
            [x, y],
        )


# ----------------------------------------------------------------------------------------------
# dtypes #16: the margin losses on the CPU's half types, embedding_bag of a non-floating table
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("with_weight", [False, True])
def test_multi_margin_loss_half_types(dtype, with_weight):
    x = _logits((2, 3)).to(dtype)
    options = {"weight": torch.ones(3)} if with_weight else {}
    agree(
        f"multi_margin_loss {dtype}",
        lambda lib, x, y: lib.nn.functional.multi_margin_loss(x, y, **options),
        [x, torch.tensor([0, 1])],
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_multilabel_margin_loss_half_types(dtype):
    x = _logits((2, 3)).to(dtype)
    y = torch.tensor([[0, 1, -1], [1, -1, 0]])
    agree(f"multilabel_margin_loss {dtype}", lambda lib, x, y: lib.nn.functional.multilabel_margin_loss(x, y), [x, y])


@pytest.mark.parametrize(
    "dtype",
    [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64, torch.float16],
    ids=str,
)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_table_dtypes(dtype, mode):
    weight = torch.tensor([[1, 2], [3, 0]]).to(dtype)
    agree(
        f"embedding_bag {dtype} {mode}",
        lambda lib, i, w, o: lib.nn.functional.embedding_bag(i, w, o, mode=mode),
        [torch.tensor([1, 0]), weight, torch.tensor([0])],
    )


def test_embedding_bag_table_dtype_checked_before_the_indices():
    agree(
        "embedding_bag int16 indices, int64 table",
        lambda lib, i, w, o: lib.nn.functional.embedding_bag(i, w, o),
        [torch.tensor([1, 0], dtype=torch.int16), torch.ones(2, 2, dtype=torch.int64), torch.tensor([0])],
    )

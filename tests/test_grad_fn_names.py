"""grad_fn classes are named as torch names them, for every op family: each case runs in torch and
in tritongrad on inputs that require grad and compares ``type(y.grad_fn).__name__`` (and the node
names one step down the graph, down to ``AccumulateGrad``)."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import from_torch
from tritongrad.ops import elementwise

# (name, function of (lib, F, x, y, w, idx)); x, y: (3, 4) floats requiring grad; w: (4, 5); idx: int64.
CASES = [
    ("add", lambda lib, F, x, y, w, idx: x + y),
    ("add scalar", lambda lib, F, x, y, w, idx: x + 2),
    ("radd", lambda lib, F, x, y, w, idx: 2 + x),
    ("add alpha", lambda lib, F, x, y, w, idx: lib.add(x, y, alpha=2)),
    ("sub", lambda lib, F, x, y, w, idx: x - y),
    ("rsub", lambda lib, F, x, y, w, idx: 1 - x),
    ("mul", lambda lib, F, x, y, w, idx: x * y),
    ("mul scalar", lambda lib, F, x, y, w, idx: x * 3),
    ("div", lambda lib, F, x, y, w, idx: x / y),
    ("rdiv", lambda lib, F, x, y, w, idx: 1 / x),
    ("neg", lambda lib, F, x, y, w, idx: -x),
    ("pow scalar", lambda lib, F, x, y, w, idx: x**2),
    ("pow tensor", lambda lib, F, x, y, w, idx: x.abs() ** y),
    ("rpow", lambda lib, F, x, y, w, idx: 2**x),
    ("remainder", lambda lib, F, x, y, w, idx: x % 2),
    ("where", lambda lib, F, x, y, w, idx: lib.where(x > 0, x, y)),
    ("clamp", lambda lib, F, x, y, w, idx: x.clamp(-1, 1)),
    ("clamp tensor", lambda lib, F, x, y, w, idx: x.clamp(min=y)),
    ("matmul", lambda lib, F, x, y, w, idx: x @ w),
    ("mm", lambda lib, F, x, y, w, idx: lib.mm(x, w)),
    ("mv", lambda lib, F, x, y, w, idx: lib.mv(x, w[:, 0])),
    ("addmm", lambda lib, F, x, y, w, idx: lib.addmm(y[:, :1], x, w.t()[:4, :4], beta=2)),
    ("addmv", lambda lib, F, x, y, w, idx: lib.addmv(y[:, 0], x, w[:, 0])),
    ("baddbmm", lambda lib, F, x, y, w, idx: lib.baddbmm(y, x.unsqueeze(0), w[:, :4].unsqueeze(0))),
    ("addbmm", lambda lib, F, x, y, w, idx: lib.addbmm(y, x.unsqueeze(0), w[:, :4].unsqueeze(0), alpha=3)),
    ("addmm_", lambda lib, F, x, y, w, idx: (y * 1).addmm_(x, w[:, :4])),
    ("addcmul", lambda lib, F, x, y, w, idx: lib.addcmul(x, y, x, value=2)),
    ("addcdiv_", lambda lib, F, x, y, w, idx: (x * 1).addcdiv_(y, x.exp())),
    ("triu_", lambda lib, F, x, y, w, idx: (x * 1).triu_(1)),
    ("tensor_split", lambda lib, F, x, y, w, idx: lib.tensor_split(x, 2, 1)[1]),
    ("chunk", lambda lib, F, x, y, w, idx: x.chunk(2, 1)[1]),
    ("split", lambda lib, F, x, y, w, idx: lib.split(x, 3, 1)[1]),
    ("split with sizes", lambda lib, F, x, y, w, idx: x.split([1, 3], 1)[1]),
    ("unbind", lambda lib, F, x, y, w, idx: x.unbind(0)[2]),
    ("scatter_reduce", lambda lib, F, x, y, w, idx: x.scatter_reduce(0, idx.expand(4, 3).t(), y, "amax")),
    ("linear", lambda lib, F, x, y, w, idx: F.linear(x, w.t())),
    ("sum", lambda lib, F, x, y, w, idx: x.sum()),
    ("sum dim", lambda lib, F, x, y, w, idx: x.sum(dim=1)),
    ("mean", lambda lib, F, x, y, w, idx: x.mean()),
    ("mean dim", lambda lib, F, x, y, w, idx: x.mean(0)),
    ("prod", lambda lib, F, x, y, w, idx: x.prod()),
    ("max", lambda lib, F, x, y, w, idx: x.max()),
    ("max dim", lambda lib, F, x, y, w, idx: x.max(dim=1)[0]),
    ("amax", lambda lib, F, x, y, w, idx: x.amax(1)),
    ("var", lambda lib, F, x, y, w, idx: x.var()),
    ("std dim", lambda lib, F, x, y, w, idx: x.std(1)),
    ("norm", lambda lib, F, x, y, w, idx: x.norm()),
    ("logsumexp", lambda lib, F, x, y, w, idx: x.logsumexp(1)),
    ("cumsum", lambda lib, F, x, y, w, idx: x.cumsum(1)),
    ("sort", lambda lib, F, x, y, w, idx: x.sort(1)[0]),
    ("view", lambda lib, F, x, y, w, idx: x.view(12)),
    ("reshape of transposed", lambda lib, F, x, y, w, idx: x.t().reshape(12)),
    ("transpose", lambda lib, F, x, y, w, idx: x.transpose(0, 1)),
    ("t", lambda lib, F, x, y, w, idx: x.t()),
    ("permute", lambda lib, F, x, y, w, idx: x.permute(1, 0)),
    ("unsqueeze", lambda lib, F, x, y, w, idx: x.unsqueeze(0)),
    ("squeeze", lambda lib, F, x, y, w, idx: x.unsqueeze(0).squeeze()),
    ("squeeze dim", lambda lib, F, x, y, w, idx: x.unsqueeze(0).squeeze(0)),
    ("squeeze dims", lambda lib, F, x, y, w, idx: x.unsqueeze(0).squeeze((0, 2))),
    ("squeeze dim of size 3", lambda lib, F, x, y, w, idx: x.squeeze(0)),
    ("expand", lambda lib, F, x, y, w, idx: x[:1].expand(3, 4)),
    ("slice", lambda lib, F, x, y, w, idx: x[1:3]),
    ("select", lambda lib, F, x, y, w, idx: x[1]),
    ("index tensor", lambda lib, F, x, y, w, idx: x[idx]),
    ("gather", lambda lib, F, x, y, w, idx: x.gather(1, idx.view(3, 1))),
    ("index_select", lambda lib, F, x, y, w, idx: x.index_select(0, idx)),
    ("masked_fill", lambda lib, F, x, y, w, idx: x.masked_fill(y > 0, 0.0)),
    ("cat", lambda lib, F, x, y, w, idx: lib.cat([x, y])),
    ("stack", lambda lib, F, x, y, w, idx: lib.stack([x, y])),
    ("flip", lambda lib, F, x, y, w, idx: x.flip(0)),
    ("repeat", lambda lib, F, x, y, w, idx: x.repeat(2, 1)),
    ("clone", lambda lib, F, x, y, w, idx: x.clone()),
    ("contiguous", lambda lib, F, x, y, w, idx: x.t().contiguous()),
    ("to double", lambda lib, F, x, y, w, idx: x.double()),
    ("relu", lambda lib, F, x, y, w, idx: F.relu(x)),
    ("gelu", lambda lib, F, x, y, w, idx: F.gelu(x)),
    ("leaky_relu", lambda lib, F, x, y, w, idx: F.leaky_relu(x)),
    ("silu", lambda lib, F, x, y, w, idx: F.silu(x)),
    ("softmax", lambda lib, F, x, y, w, idx: F.softmax(x, dim=1)),
    ("log_softmax", lambda lib, F, x, y, w, idx: F.log_softmax(x, dim=1)),
    ("cross_entropy", lambda lib, F, x, y, w, idx: F.cross_entropy(x, idx)),
    ("nll_loss", lambda lib, F, x, y, w, idx: F.nll_loss(x, idx)),
    ("mse_loss", lambda lib, F, x, y, w, idx: F.mse_loss(x, y)),
    ("l1_loss", lambda lib, F, x, y, w, idx: F.l1_loss(x, y)),
    ("bce_with_logits", lambda lib, F, x, y, w, idx: F.binary_cross_entropy_with_logits(x, y.sigmoid())),
    ("in-place add_", lambda lib, F, x, y, w, idx: (x * 1).add_(y)),
    ("in-place mul_ on a view", lambda lib, F, x, y, w, idx: _mul_view(x)),
]

# (rows torch has only in torch.nn.functional, and threshold with its two required arguments: ACTIVATIONS)
UNARY_ROWS = [
    row.name
    for row in elementwise.UNARY
    if row.gradient is not None and not row.functional and row.name not in ("threshold", "polygamma")
]  # (polygamma takes its order first: the method form, x.polygamma(n), below)
BINARY_ROWS = [row.name for row in elementwise.BINARY if row.grad_input is not None or row.grad_other is not None]


def _mul_view(x):
    z = x * 1
    z[1:].mul_(2)
    return z


def _inputs():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(3, 4, generator=generator, dtype=torch.float64) + 0.5
    y = torch.rand(3, 4, generator=generator, dtype=torch.float64) + 0.5
    w = torch.randn(4, 5, generator=generator, dtype=torch.float64)
    idx = torch.tensor([2, 0, 1])
    ours = [from_torch(t, requires_grad=True) for t in (x, y, w)] + [from_torch(idx)]
    theirs = [t.clone().requires_grad_(True) for t in (x, y, w)] + [idx]
    return ours, theirs


def _names(tensor, depth: int = 3) -> list[str]:
    """The node's class name, then its first inputs' names, ``depth`` levels down."""
    names, node = [], tensor.grad_fn
    for _ in range(depth):
        if node is None:
            break
        names.append(type(node).__name__)
        edges = [n for n, _ in node.next_functions if n is not None]
        node = edges[0] if edges else None
    return names


def _compare(function, depth: int = 3) -> None:
    ours, theirs = _inputs()
    expected = _names(function(torch, torch.nn.functional, *theirs), depth)
    actual = _names(function(tritongrad, tritongrad.nn.functional, *ours), depth)
    assert actual == expected, f"grad_fn names: tritongrad {actual}, torch {expected}"


# Ops that tritongrad fuses into one node where torch composes several (torch's graph below the
# output node differs by design): only the output node's name is compared.
FUSED = {
    "cross_entropy": "log_softmax + nll_loss in torch",
    "l1_loss": "abs(sub) + mean in torch",
    "stack": "torch's stack takes the inputs directly",
    "reshape of transposed": "torch clones, then views",
}


@pytest.mark.parametrize("case", CASES, ids=[name for name, _ in CASES])
def test_grad_fn_name_matches_torch(case):
    _compare(case[1], depth=1 if case[0] in FUSED else 3)


@pytest.mark.parametrize("name", UNARY_ROWS)
def test_unary_table_row_grad_fn_name(name):
    _compare(lambda lib, F, x, y, w, idx: getattr(lib, name)(x))


@pytest.mark.parametrize("n", [1, 3])
def test_polygamma_grad_fn_name(n):
    _compare(lambda lib, F, x, y, w, idx: x.polygamma(n))


ACTIVATIONS = {
    "F.relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "F.relu6 inplace": lambda lib, x: lib.nn.functional.relu6(x * 1, inplace=True),
    "F.elu": lambda lib, x: lib.nn.functional.elu(x, 0.5),
    "F.elu_": lambda lib, x: lib.nn.functional.elu_(x * 1),
    "F.selu inplace": lambda lib, x: lib.nn.functional.selu(x * 1, inplace=True),
    "celu_": lambda lib, x: lib.celu_(x * 1, 2.0),
    "F.mish": lambda lib, x: lib.nn.functional.mish(x),
    "F.softplus": lambda lib, x: lib.nn.functional.softplus(x, 2.0, 1.0),
    "F.hardtanh_": lambda lib, x: lib.nn.functional.hardtanh_(x * 1),
    "F.hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "F.hardswish inplace": lambda lib, x: lib.nn.functional.hardswish(x * 1, True),
    "F.logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "F.softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "F.softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "F.threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.5, 2.0),
    "threshold_": lambda lib, x: lib.threshold_(x * 1, 0.5, 2.0),
    "F.tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "F.glu": lambda lib, x: lib.nn.functional.glu(x, 1),
    "F.rrelu": lambda lib, x: lib.nn.functional.rrelu(x),
    "F.rrelu_": lambda lib, x: lib.nn.functional.rrelu_(x * 1),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_grad_fn_name(name):
    _compare(lambda lib, F, x, y, w, idx: ACTIVATIONS[name](lib, x))


@pytest.mark.parametrize("name", BINARY_ROWS)
def test_binary_table_row_grad_fn_name(name):
    _compare(lambda lib, F, x, y, w, idx: getattr(lib.special if name == "zeta" else lib, name)(x + 1, y))


def test_leaf_node_is_accumulate_grad():
    ours, theirs = _inputs()
    assert type((ours[0] * 2).grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"
    assert type((theirs[0] * 2).grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"

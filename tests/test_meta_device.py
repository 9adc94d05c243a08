"""The meta device: tensors with a shape, strides and a dtype but no memory. Factories, modules,
forward and backward passes and optimizer steps on meta tensors give torch's shapes, dtypes and
devices without launching a kernel; reading values raises torch's errors; ``to_empty``,
``skip_init`` and ``load_state_dict(assign=True)`` give a meta-built module memory."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.utils import to_torch


def _described(value):
    """Tensors as (shape, device type, dtype), recursively; other values as they are."""
    if isinstance(value, (torch.Tensor, tritongrad.Tensor)):
        return (tuple(value.shape), value.device.type, value.dtype)
    if isinstance(value, (tuple, list)):
        return type(value)(_described(v) for v in value)
    return value


def _outcome(function, lib):
    try:
        return _described(function(lib))
    except Exception as error:  # noqa: BLE001 - compared with torch's
        return type(error).__name__


def same_as_torch(name: str, function) -> None:
    expected, got = _outcome(function, torch), _outcome(function, tritongrad)
    assert got == expected, f"{name}: tritongrad {got}, torch {expected}"


class _Net:
    """A LeNet-like CNN with batch norm (the 'Reasoning about Shapes' recipe's network), per library."""

    @staticmethod
    def build(lib):
        nn, F = lib.nn, lib.nn.functional

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
                self.bn, self.pool = nn.BatchNorm2d(16), nn.MaxPool2d(2, 2)
                self.fc1, self.fc2 = nn.Linear(16 * 5 * 5, 12), nn.Linear(12, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.bn(self.conv2(x))))
                return self.fc2(F.relu(self.fc1(lib.flatten(x, 1))))

        return Net().to(device="meta")


def _train_step(lib):
    net = _Net.build(lib)
    optimizer = lib.optim.Adam(net.parameters())
    loss = lib.nn.functional.cross_entropy(
        net(lib.rand(4, 3, 32, 32, device="meta")), lib.randint(0, 10, (4,), device="meta")
    )
    loss.backward()
    optimizer.step()
    return loss, net.fc1.weight.grad, net.fc1.weight, net.bn.running_mean


def _layer_shapes(lib):
    net, shapes = _Net.build(lib), []
    for module in net.children():
        module.register_forward_hook(lambda m, args, out: shapes.append((type(m).__name__, tuple(out.shape))))
    net(lib.rand(2, 3, 32, 32, device="meta"))
    return shapes


def _in_context(lib):
    with lib.device("meta"):
        made = (lib.ones(3), lib.tensor([1.0, 2.0]), lib.nn.Linear(2, 2).weight, lib.randn(2, 2))
    return (*made, lib.ones(1))


META = {
    "zeros": lambda lib: lib.zeros(2, 3, device="meta"),
    "rand int64 arange": lambda lib: (lib.rand(2, 3, device="meta"), lib.arange(5, device="meta")),
    "tensor from a list": lambda lib: lib.tensor([[1, 2]], device="meta"),
    "empty_like of meta": lambda lib: lib.empty_like(lib.ones(2, 3, device="meta", dtype=lib.float16)),
    "Linear/Conv2d(device=meta)": lambda lib: (
        lib.nn.Linear(3, 5, device="meta").weight,
        lib.nn.Conv2d(3, 5, 2, device="meta").bias,
    ),  # fmt: skip
    "with device('meta'), and after it": _in_context,
    "layer output shapes": _layer_shapes,
    "a huge conv input (no memory)": lambda lib: lib.nn.Conv2d(3, 5, 2, device="meta")(
        lib.empty(2**10, 3, 2**16, 2**16, device="meta")
    ),
    "loss, backward, Adam step": _train_step,
    "LSTM": lambda lib: lib.nn.LSTM(4, 8, device="meta")(lib.randn(5, 2, 4, device="meta")),
    "MultiheadAttention": lambda lib: lib.nn.MultiheadAttention(8, 2, device="meta", batch_first=True)(
        *(lib.randn(2, 3, 8, device="meta"),) * 3
    ),
    "Embedding and LayerNorm": lambda lib: lib.nn.LayerNorm(4, device="meta")(
        lib.nn.Embedding(10, 4, device="meta")(lib.zeros(2, 3, dtype=lib.long, device="meta"))
    ),
    "matmul softmax sum": lambda lib: (
        (lib.randn(3, 4, device="meta") @ lib.randn(4, 5, device="meta")).softmax(-1).sum(0)
    ),
    "item": lambda lib: lib.ones((), device="meta").item(),
    "tolist": lambda lib: lib.ones(2, device="meta").tolist(),
    "nonzero": lambda lib: lib.ones(2, device="meta").nonzero(),
    "meta + cpu": lambda lib: lib.ones(2, device="meta") + lib.ones(2),
    "cpu.copy_(meta)": lambda lib: lib.ones(2).copy_(lib.ones(2, device="meta")),
    "meta.copy_(cpu)": lambda lib: lib.ones(2, device="meta").copy_(lib.ones(2)),
    "meta.to(cpu)": lambda lib: lib.ones(2, device="meta").to("cpu"),
    "cpu.to(meta)": lambda lib: lib.ones(2).to("meta"),
    "repr": lambda lib: repr(lib.ones(2, 3, device="meta", dtype=lib.int64)),
    "repr with grad_fn": lambda lib: repr(lib.ones(2, device="meta", requires_grad=True) * 2),
    "Parameter repr": lambda lib: repr(lib.nn.Parameter(lib.empty(2, device="meta"))),
    "to_empty": lambda lib: lib.nn.Linear(3, 2, device="meta").to_empty(device="cpu").weight,
    "to_empty(recurse=False)": lambda lib: [
        p.device.type
        for p in lib.nn.Sequential(lib.nn.Linear(2, 2)).to("meta").to_empty(device="cpu", recurse=False).parameters()
    ],  # fmt: skip
    "skip_init": lambda lib: lib.nn.utils.skip_init(lib.nn.Linear, 5, 1).weight,
    "skip_init of a class without device": lambda lib: lib.nn.utils.skip_init(lib.nn.ReLU),
}


@pytest.mark.parametrize("case", list(META))
def test_meta_device_as_torch(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_as_torch(case, META[case])


@pytest.mark.parametrize("assign", [False, True])
def test_loading_a_checkpoint_into_a_meta_module(assign):
    """The 'loading nn.Module from a checkpoint' recipe: built on meta, then the checkpoint assigned
    (values and devices are the checkpoint's); without assign, torch's no-op copy and its warning."""
    source = tritongrad.nn.Linear(3, 2)
    with tritongrad.device("meta"):
        model = tritongrad.nn.Linear(3, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_state_dict(source.state_dict(), assign=assign)
    meta_warnings = [w for w in caught if "to a meta parameter" in str(w.message)]
    if assign:
        assert not meta_warnings and not model.weight.is_meta
        assert torch.equal(to_torch(model.weight), to_torch(source.weight))
        assert isinstance(model.weight, tritongrad.nn.Parameter)
    else:
        assert len(meta_warnings) == 2 and model.weight.is_meta


def test_meta_ops_launch_nothing_and_real_ops_still_compute():
    """After meta tensors exist, launches on them are skipped (none reaches the interpreter), and
    launches on real tensors still compute."""
    from triton.runtime import interpreter

    runs = []
    original = interpreter.InterpretedFunction.run

    def counting(self, *args, **kwargs):
        runs.append(self.fn.__name__)
        return original(self, *args, **kwargs)

    interpreter.InterpretedFunction.run = counting
    try:
        meta = tritongrad.randn(64, 64, device="meta", requires_grad=True)
        (meta @ meta).relu().sum().backward()
        assert runs == [], f"kernels ran on meta tensors: {runs}"
        x = torch.randn(5, 7)
        got = tritongrad.tensor(x.tolist()).exp().sum(0)
    finally:
        interpreter.InterpretedFunction.run = original
    assert runs, "no kernel ran for the real tensors"
    assert torch.allclose(to_torch(got), x.exp().sum(0), rtol=1e-5), "real tensors after meta ones"

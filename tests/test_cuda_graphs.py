"""tritongrad.cuda_graphs.make_graphed_step: a captured training step gives eager's losses and parameters.

On the CPU interpreter the graphed step falls back to eager, so the comparison
checks the contract (warmup steps on the static data, new batches copied into
the static inputs, the checks on misuse); on a GPU the same test replays a real
CUDA graph, and the ``gpu``-marked tests check that a replay launches nothing
from Python.
"""

from __future__ import annotations

import threading

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import tritongrad
from tests.guards import _staging_depth
from tritongrad import nn, runtime
from tritongrad.cuda_graphs import make_graphed_step
from tritongrad.kernels import loss_classes

DEVICE = runtime.device()
BATCH, FEATURES, HIDDEN, CLASSES = 6, 12, 16, 4
WARMUP = 2


def _model_and_optimizer(optimizer: str = "sgd"):
    tritongrad.manual_seed(1)  # the same initial weights for every call
    model = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES)).to(DEVICE)
    if optimizer == "sgd":
        return model, tritongrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if optimizer == "adamw capturable":
        return model, tritongrad.optim.AdamW(model.parameters(), lr=0.01, capturable=True)
    return model, tritongrad.optim.Adam(model.parameters(), lr=0.01)


def _step_fn(model, optimizer, set_to_none: bool = False):
    def step(x, target):
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = nn.functional.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _batches(count: int):
    tritongrad.manual_seed(2)
    return [
        (
            tritongrad.randn(BATCH, FEATURES, device=DEVICE),
            tritongrad.randint(0, CLASSES, (BATCH,), device=DEVICE),
        )
        for _ in range(count)
    ]


def _static_copies(x, target):
    """Fresh buffers holding the first batch: the graph's static inputs."""
    return x.clone(), target.clone()


def _assert_same_parameters(model_a, model_b, what: str) -> None:
    for (name, a), b in zip(model_a.named_parameters(), model_b.parameters()):
        error = (a - b).abs().max().item()
        assert error <= 1e-6, f"{what}: parameter {name} {tuple(a.shape)} differs by {error:.3g}"


@pytest.mark.parametrize("optimizer_kind", ["sgd", "adamw capturable"])
def test_graphed_steps_match_eager_steps(optimizer_kind):
    batches = _batches(3)
    eager_model, eager_optimizer = _model_and_optimizer(optimizer_kind)
    eager_step = _step_fn(eager_model, eager_optimizer)
    # Eager reference: the warmup steps train on the first batch, then one step per new batch.
    eager_losses = [eager_step(*batches[0]).item() for _ in range(WARMUP)]
    eager_losses += [eager_step(*batch).item() for batch in batches[1:]]

    model, optimizer = _model_and_optimizer(optimizer_kind)
    static_x, static_target = _static_copies(*batches[0])
    graphed = make_graphed_step(_step_fn(model, optimizer), static_x, static_target, warmup=WARMUP, optimizer=optimizer)
    assert graphed.is_graphed == (runtime.device_type() == "cuda")
    losses = [loss.item() for loss in graphed.warmup_outputs]
    for index, (x, target) in enumerate(batches[1:]):
        if index % 2 == 0:  # the user copies the batch in...
            static_x.copy_(x)
            static_target.copy_(target)
            loss = graphed()
        else:  # ...or hands it to the call, which copies it
            loss = graphed(x, target)
        losses.append(loss.item())  # read outside the step

    assert losses == pytest.approx(eager_losses, rel=1e-6, abs=1e-7), f"graphed {losses} vs eager {eager_losses}"
    _assert_same_parameters(model, eager_model, f"after {len(losses)} steps")


def test_new_inputs_must_match_the_static_shapes():
    model, optimizer = _model_and_optimizer()
    (x, target), (other_x, _) = _batches(2)
    graphed = make_graphed_step(_step_fn(model, optimizer), *_static_copies(x, target), warmup=1)
    with pytest.raises(ValueError, match=r"captured for shape \(6, 12\)"):
        graphed(other_x[:3], target)
    with pytest.raises(ValueError, match="takes 2 inputs"):
        graphed(other_x)


def test_adam_without_capturable_is_refused():
    model, optimizer = _model_and_optimizer("adam")
    (x, target), *_ = _batches(1)
    with pytest.raises(NotImplementedError, match="bias correction"):
        make_graphed_step(_step_fn(model, optimizer), x, target, optimizer=optimizer)


def test_gradients_set_to_none_are_refused():
    model, optimizer = _model_and_optimizer()
    (x, target), *_ = _batches(1)
    step = _step_fn(model, optimizer, set_to_none=True)
    with pytest.raises(RuntimeError, match=r"set_to_none=False"):
        make_graphed_step(step, x, target, warmup=2, optimizer=optimizer)


def test_arguments_are_checked():
    model, optimizer = _model_and_optimizer()
    (x, target), *_ = _batches(1)
    with pytest.raises(ValueError, match="warmup must be >= 1"):
        make_graphed_step(_step_fn(model, optimizer), x, target, warmup=0)
    with pytest.raises(TypeError, match="not a tritongrad Tensor"):
        make_graphed_step(_step_fn(model, optimizer), x._data, target)


@pytest.mark.gpu
def test_replay_launches_no_kernel_from_python(monkeypatch):
    from triton.runtime.jit import JITFunction

    model, optimizer = _model_and_optimizer()
    (x, target), *_ = _batches(1)
    graphed = make_graphed_step(_step_fn(model, optimizer), *_static_copies(x, target), optimizer=optimizer)
    assert graphed.graph is not None
    launches = []
    original_run = JITFunction.run

    def counted(self, *args, **kwargs):
        launches.append(self.fn.__name__)
        return original_run(self, *args, **kwargs)

    monkeypatch.setattr(JITFunction, "run", counted)
    first, second = graphed(), graphed()
    tritongrad.cuda.synchronize()
    assert launches == [], f"a replay launched {launches} from Python"
    assert first is second is graphed.static_outputs, "a replay returns the same static output tensor"


def test_a_loss_ticket_counter_is_made_without_host_data():
    """A capture runs on a stream of its own, so the cross-entropy forward makes its ticket counter
    there, inside the capture, where copying unpinned host memory to the GPU fails (seen on an H200:
    the counter was a torch.tensor([0])). It is an allocation zeroed by a fill kernel."""
    issued: list[str] = []

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if _staging_depth() == 0:  # not the interpreter copying kernel arguments
                issued.append(func.__name__)
            return func(*args, **(kwargs or {}))

    made = {}

    def in_a_fresh_thread():  # a new thread is a new key in the interpreter (a new stream on a GPU)
        with Record():
            made["key"], made["tickets"] = loss_classes._tickets(torch.device(DEVICE))

    thread = threading.Thread(target=in_a_fresh_thread)
    thread.start()
    thread.join()
    loss_classes._TICKETS.pop(made["key"])
    assert made["tickets"].tolist() == [0]
    host_data = [name for name in issued if name.startswith(("lift_fresh", "_to_copy", "copy_", "_copy_from"))]
    assert not host_data, f"making a ticket counter copied host data: {issued}"

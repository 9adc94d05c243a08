"""optim.LBFGS against torch.optim.LBFGS on deterministic problems (Rosenbrock, a small least squares with
two parameters, one of them transposed): parameters, returned losses and state after each step, with and
without the strong-Wolfe line search, float64 and float32; state dicts both ways; torch's errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import from_torch

# float64: the same operations as torch up to dot-product summation order. float32: torch keeps its
# scalars as float32 tensors and tritongrad as Python floats rounded alike, and tritongrad's add_ with
# alpha rounds twice where torch fuses: trajectories agree to a few float32 ulps per iteration.
TOLERANCES = {torch.float64: (1e-9, 1e-11), torch.float32: (2e-4, 1e-5)}


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def rosenbrock_start(dtype):
    return [torch.tensor([-1.5, 2.0, -0.5, 1.2], dtype=dtype)]


def least_squares(weight, bias):
    inputs, targets = least_squares.data[weight.dtype]
    return ((inputs @ weight.t() + bias - targets) ** 2).mean()


def least_squares_data(lib, dtype):
    """Inputs and targets from fixed formulas: X[i, j] = sin(i + 2j), Y[i, k] = cos(3i - k)."""
    i = torch.arange(8, dtype=torch.float64)
    inputs = torch.stack([torch.sin(i + 2 * j) for j in range(3)], 1).to(dtype)
    targets = torch.stack([torch.cos(3 * i - k) for k in range(2)], 1).to(dtype)
    return (inputs, targets) if lib is torch else (from_torch(inputs), from_torch(targets))


def least_squares_start(dtype):
    weight = torch.tensor([[0.5, -0.25], [0.125, 1.0], [-0.75, 0.3]], dtype=dtype).t()  # transposed (ours)
    return [weight, torch.tensor([0.1, -0.2], dtype=dtype)]


PROBLEMS = {"rosenbrock": (rosenbrock, rosenbrock_start), "least_squares": (least_squares, least_squares_start)}


def run_pair(problem, dtype, steps, **options):
    """Runs ours and torch's LBFGS side by side, yielding (ours, mine, theirs, reference, our loss, torch's loss)."""
    loss_fn, start = PROBLEMS[problem]
    values = start(dtype)
    mine = [tritongrad.nn.Parameter(from_torch(v)) for v in values]
    # torch's LBFGS flattens gradients with view(-1), which a transposed gradient refuses: its copy is
    # contiguous (both flatten in logical order, so the arithmetic is the same).
    reference = [torch.nn.Parameter(v.contiguous().clone()) for v in values]
    ours = tritongrad.optim.LBFGS(mine, **options)
    theirs = torch.optim.LBFGS(reference, **options)

    def closure_for(optimizer, params, lib):
        def closure():
            optimizer.zero_grad()
            least_squares.data = {dtype: least_squares_data(lib, dtype)}
            loss = loss_fn(*params)
            loss.backward()
            return loss

        return closure

    for _ in range(steps):
        our_loss = ours.step(closure_for(ours, mine, tritongrad))
        their_loss = theirs.step(closure_for(theirs, reference, torch))
        yield ours, mine, theirs, reference, our_loss, their_loss


def assert_state_agrees(ours, mine, theirs, reference, dtype, what):
    rtol, atol = TOLERANCES[dtype]
    for p, q in zip(mine, reference):
        torch.testing.assert_close(p._data, q.detach(), rtol=rtol, atol=atol, msg=lambda m: f"{what}: {m}")
    state, expected = ours.state[mine[0]], theirs.state[reference[0]]
    assert sorted(state) == sorted(expected), what
    assert (state["func_evals"], state["n_iter"]) == (expected["func_evals"], expected["n_iter"]), what
    assert len(state["old_dirs"]) == len(expected["old_dirs"]), what
    for name in ("d", "prev_flat_grad"):
        torch.testing.assert_close(state[name]._data, expected[name], rtol=rtol, atol=atol * 10)
    for name in ("t", "H_diag", "prev_loss"):
        assert float(state[name]) == pytest.approx(float(expected[name]), rel=rtol * 10, abs=atol), (what, name)
    for mine_ro, their_ro in zip(state["ro"], expected["ro"]):
        assert mine_ro == pytest.approx(float(their_ro), rel=rtol * 10), what


@pytest.mark.parametrize(
    "problem, line_search_fn, dtype",
    [
        ("rosenbrock", None, torch.float64),
        ("rosenbrock", "strong_wolfe", torch.float64),
        ("rosenbrock", None, torch.float32),
        ("rosenbrock", "strong_wolfe", torch.float32),
        ("least_squares", "strong_wolfe", torch.float64),
        ("least_squares", None, torch.float32),
    ],
    ids=str,
)
def test_steps_match_torch(problem, line_search_fn, dtype):
    # A short history (2 < 6 iterations) exercises dropping the oldest pair; few iterations per step keep
    # float32 away from the stopping tests' ties.
    options = dict(max_iter=3, history_size=2, line_search_fn=line_search_fn)
    for step, (ours, mine, theirs, reference, our_loss, their_loss) in enumerate(
        run_pair(problem, dtype, 2, **options)
    ):
        what = f"{problem} {line_search_fn} {dtype} step {step + 1}"
        rtol, atol = TOLERANCES[dtype]
        assert isinstance(our_loss, tritongrad.Tensor) and our_loss.dtype == dtype
        assert our_loss.item() == pytest.approx(their_loss.item(), rel=rtol, abs=atol), what
        assert_state_agrees(ours, mine, theirs, reference, dtype, what)


def test_defaults_lr_and_max_eval_like_torch():
    *_, (ours, mine, theirs, reference, _, _) = run_pair("least_squares", torch.float64, 1, lr=0.5, max_iter=6,
                                                         max_eval=4, tolerance_change=1e-12)  # fmt: skip
    assert ours.state[mine[0]]["func_evals"] == theirs.state[reference[0]]["func_evals"] == 4
    assert_state_agrees(ours, mine, theirs, reference, torch.float64, "max_eval")
    defaults = tritongrad.optim.LBFGS([tritongrad.nn.Parameter(tritongrad.ones(2))]).defaults
    assert defaults == torch.optim.LBFGS([torch.nn.Parameter(torch.ones(2))]).defaults


def test_converged_start_returns_after_one_evaluation():
    # A zero gradient meets tolerance_grad at once: one evaluation, no state beyond the counters.
    x = tritongrad.nn.Parameter(tritongrad.ones(4, dtype=tritongrad.float64))
    optimizer = tritongrad.optim.LBFGS([x])

    def closure():
        optimizer.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 0.0
    assert optimizer.state[x] == {"func_evals": 1, "n_iter": 0}


def test_torch_state_dict_loads_and_continues_like_torch():
    options = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    pairs = run_pair("least_squares", torch.float64, 2, **options)
    ours, mine, theirs, reference, _, _ = next(pairs)
    saved = theirs.state_dict()
    fresh = [tritongrad.nn.Parameter(from_torch(q.detach())) for q in reference]
    restored = tritongrad.optim.LBFGS(fresh, **options)

    def wrap(value):
        if isinstance(value, torch.Tensor):
            return tritongrad.Tensor._wrap(value.clone())
        return [wrap(v) for v in value] if isinstance(value, list) else value

    restored.load_state_dict({"state": {i: {k: wrap(v) for k, v in values.items()}
                                        for i, values in saved["state"].items()},
                              "param_groups": saved["param_groups"]})  # fmt: skip
    assert restored.state_dict()["param_groups"] == saved["param_groups"]
    assert isinstance(restored.state[fresh[0]]["H_diag"], float)
    # torch's next step from its state; ours from torch's state and from its own, round-tripped.
    _, _, _, _, _, _ = next(pairs)
    copy = [tritongrad.nn.Parameter(from_torch(p._data)) for p in fresh]
    own = tritongrad.optim.LBFGS(copy, **options)
    own.load_state_dict(restored.state_dict())
    for optimizer, params in ((restored, fresh), (own, copy)):

        def closure(optimizer=optimizer, params=params):
            optimizer.zero_grad()
            least_squares.data = {torch.float64: least_squares_data(tritongrad, torch.float64)}
            loss = least_squares(*params)
            loss.backward()
            return loss

        optimizer.step(closure)
        assert_state_agrees(optimizer, params, theirs, reference, torch.float64, "after load_state_dict")


def test_style_transfer_idiom_on_an_input_image():
    """The neural-style tutorial: LBFGS([input_img]) on an image tensor with requires_grad_, clamped in
    the closure under no_grad, stepped while a counter runs."""
    image = torch.linspace(0, 1, 2 * 3 * 4, dtype=torch.float64).view(1, 2, 3, 4)
    target = torch.cos(torch.arange(24, dtype=torch.float64)).view(1, 2, 3, 4)

    def transfer(lib):
        input_img = (image.clone() if lib is torch else from_torch(image)).requires_grad_(True)
        goal = target if lib is torch else from_torch(target)
        optimizer = lib.optim.LBFGS([input_img], max_iter=4)  # (the tutorial's default is 20)
        run = [0]

        def closure():
            with lib.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            loss = ((input_img - goal) ** 2).mean() + (input_img * input_img).sum() * 1e-3
            loss.backward()
            run[0] += 1
            return loss

        while run[0] <= 4:
            optimizer.step(closure)
        return input_img.detach()

    torch.testing.assert_close(transfer(tritongrad)._data, transfer(torch), rtol=1e-9, atol=1e-11)


def test_errors_like_torch():
    for lib in (torch, tritongrad):
        p = lib.nn.Parameter(lib.ones(2))
        with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
            lib.optim.LBFGS([p], lr=-1)
        with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
            lib.optim.LBFGS([{"params": [p]}, {"params": [lib.nn.Parameter(lib.ones(1))]}])
        optimizer = lib.optim.LBFGS([p], line_search_fn="backtracking")

        def closure(optimizer=optimizer, p=p):
            optimizer.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
            optimizer.step(closure)

"""Optimizer hooks as torch.optim has them: step pre/post hooks (per instance and global, in torch's
order, a pre-hook replacing the arguments), state_dict and load_state_dict pre/post hooks (prepend,
a returned dict replacing the original), each removable through its handle."""

from __future__ import annotations

import pytest
import torch
import torch.optim.optimizer as torch_optimizer

import tritongrad
import tritongrad.optim.optimizer as our_optimizer

GLOBAL_HOOKS = {torch: torch_optimizer, tritongrad: our_optimizer}


def make(lib):
    p = lib.nn.Parameter(lib.ones(2))
    p.grad = lib.ones(2)
    return lib.optim.SGD([p], lr=0.5), p


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Rprop"])
def test_step_hooks_run_in_torchs_order_and_remove(name):
    def record(lib):
        log = []
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.ones(2)
        optimizer = getattr(lib.optim, name)([p], lr=0.5)
        handles = [
            GLOBAL_HOOKS[lib].register_optimizer_step_pre_hook(lambda o, a, k: log.append("global pre")),
            GLOBAL_HOOKS[lib].register_optimizer_step_post_hook(lambda o, a, k: log.append("global post")),
            optimizer.register_step_pre_hook(lambda o, a, k: log.append(("pre", type(o).__name__, len(a), k))),
            optimizer.register_step_post_hook(lambda o, a, k: log.append("post")),
        ]
        try:
            optimizer.step()
            handles[2].remove()
            handles[0].remove()
            optimizer.step()
        finally:
            for handle in handles:
                handle.remove()
        optimizer.step()
        return log

    expected = ["global pre", ("pre", name, 1, {}), "post", "global post", "post", "global post"]
    assert record(tritongrad) == record(torch) == expected


def test_a_step_pre_hook_may_replace_the_arguments():
    for lib in (torch, tritongrad):
        optimizer, p = make(lib)
        optimizer.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: 7.0}))
        assert optimizer.step() == 7.0
        optimizer.register_step_pre_hook(lambda o, args, kwargs: "not a pair")
        with pytest.raises(RuntimeError, match="must return None or a tuple of"):
            optimizer.step()


def test_hooks_of_one_instance_do_not_fire_for_another():
    calls = []
    first, _ = make(tritongrad)
    second, _ = make(tritongrad)
    first.register_step_post_hook(lambda o, a, k: calls.append(o))
    second.step()
    first.step()
    assert calls == [first]


def test_state_dict_and_load_state_dict_hooks_like_torch():
    def record(lib):
        log = []
        optimizer, p = make(lib)
        optimizer.register_state_dict_pre_hook(lambda o: log.append("sd pre"))
        optimizer.register_state_dict_pre_hook(lambda o: log.append("sd pre first"), prepend=True)

        def add_marker(o, state_dict):
            log.append("sd post")
            return {**state_dict, "marker": 1}

        handle = optimizer.register_state_dict_post_hook(add_marker)
        saved = optimizer.state_dict()
        log.append(sorted(saved))
        handle.remove()
        log.append(sorted(optimizer.state_dict()))

        def halve_lr(o, state_dict):
            log.append(("load pre", sorted(state_dict)))
            groups = [{**g, "lr": g["lr"] / 2} for g in state_dict["param_groups"]]
            return {"state": state_dict["state"], "param_groups": groups}

        optimizer.register_load_state_dict_pre_hook(halve_lr)
        optimizer.register_load_state_dict_post_hook(lambda o: log.append(("load post", o.param_groups[0]["lr"])))
        optimizer.load_state_dict(saved)
        return log

    expected = record(torch)
    assert record(tritongrad) == expected
    assert expected[-1] == ("load post", 0.25)


def test_load_state_dict_post_hook_sees_the_restored_step_tensors():
    steps = []
    p = tritongrad.nn.Parameter(tritongrad.ones(2))
    p.grad = tritongrad.ones(2)
    optimizer = tritongrad.optim.Adam([p])
    optimizer.step()
    optimizer.register_load_state_dict_post_hook(lambda o: steps.append(o.state[p]["step"]))
    optimizer.load_state_dict({**optimizer.state_dict(), "state": {0: {**optimizer.state[p], "step": 3}}})
    assert isinstance(steps[0], tritongrad.Tensor) and steps[0].item() == 3.0

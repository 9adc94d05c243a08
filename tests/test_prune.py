"""nn.utils.prune against torch: the masks L1Unstructured / LnStructured / global_unstructured /
CustomFromMask choose (exactly torch's entries on random weights, ties not occurring), iterative
pruning through PruningContainer, the forward-pre-hook mechanism (weight_orig + weight_mask, the
state-dict keys, the masked forward and its gradient), remove, is_pruned, the random methods'
counts, and torch's errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.utils.prune as torch_prune

from tests.utils import assert_close, from_torch, random_values, to_torch
from tritongrad import nn
from tritongrad.nn.utils import prune


def _pair(make):
    """torch's and our module from ``make(library)``, ours holding torch's parameters."""
    theirs, ours = make(torch.nn), make(nn)
    ours.load_state_dict({key: from_torch(value) for key, value in theirs.state_dict().items()})
    return theirs, ours


def _assert_same_pruning(ours, theirs, name: str = "weight", what: str = "") -> None:
    assert list(ours.state_dict()) == list(theirs.state_dict()), (list(ours.state_dict()), list(theirs.state_dict()))
    ours_mask, theirs_mask = to_torch(getattr(ours, name + "_mask")), getattr(theirs, name + "_mask")
    assert ours_mask.dtype == theirs_mask.dtype, f"{what}: mask dtype {ours_mask.dtype}, torch {theirs_mask.dtype}"
    differ = (ours_mask != theirs_mask).nonzero().tolist()
    assert not differ, f"{what}: {name} masks differ at {differ[:5]} (shape {tuple(theirs_mask.shape)})"
    assert_close(getattr(ours, name), getattr(theirs, name), what=f"{what}: pruned {name}")


AMOUNTS = [0.0, 0.3, 5, 1.0]  # nothing, a fraction, a count, everything


@pytest.mark.parametrize("amount", AMOUNTS)
def test_l1_unstructured_matches_torch(amount):
    theirs, ours = _pair(lambda lib: lib.Conv2d(3, 4, (3, 2)))
    torch_prune.l1_unstructured(theirs, "weight", amount)
    prune.l1_unstructured(ours, "weight", amount)
    _assert_same_pruning(ours, theirs, what=f"l1_unstructured amount={amount}")
    assert list(ours.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    # the hook re-applies the mask before each forward; the gradient reaches weight_orig through it
    x = random_values((2, 3, 5, 4), torch.float32)
    expected, got = theirs(x), ours(from_torch(x))
    assert_close(got, expected, kind="matmul", what="pruned forward")
    grad = random_values(tuple(expected.shape), torch.float32)
    expected.backward(grad)
    got.backward(from_torch(grad))
    assert_close(ours.weight_orig.grad, theirs.weight_orig.grad, kind="matmul", what="weight_orig grad")


def test_importance_scores_and_iterative_pruning():
    theirs, ours = _pair(lambda lib: lib.Linear(9, 7))
    scores = random_values((7, 9), torch.float32)
    torch_prune.l1_unstructured(theirs, "weight", 0.25, importance_scores=scores)
    prune.l1_unstructured(ours, "weight", 0.25, importance_scores=from_torch(scores))
    _assert_same_pruning(ours, theirs, what="importance scores")
    # again, on what is left (a PruningContainer), then a structured pruning on top
    torch_prune.l1_unstructured(theirs, "weight", 10)
    prune.l1_unstructured(ours, "weight", 10)
    _assert_same_pruning(ours, theirs, what="second l1_unstructured")
    torch_prune.ln_structured(theirs, "weight", 2, n=1, dim=0)
    prune.ln_structured(ours, "weight", 2, n=1, dim=0)
    _assert_same_pruning(ours, theirs, what="ln_structured after two l1_unstructured")
    hooks = [hook for hook in ours._forward_pre_hooks.values() if isinstance(hook, prune.BasePruningMethod)]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 3
    assert [type(method).__name__ for method in hooks[0]] == ["L1Unstructured", "L1Unstructured", "LnStructured"]


@pytest.mark.parametrize("n, dim", [(1, 0), (2, 1), (float("inf"), -1), (float("-inf"), 2), (3.5, -3)])
def test_ln_structured_matches_torch(n, dim):
    theirs, ours = _pair(lambda lib: lib.Conv2d(5, 6, 3))
    torch_prune.ln_structured(theirs, "weight", 0.4, n=n, dim=dim)
    prune.ln_structured(ours, "weight", 0.4, n=n, dim=dim)
    _assert_same_pruning(ours, theirs, what=f"ln_structured n={n} dim={dim}")


def test_ln_structured_frobenius_on_a_matrix():
    theirs, ours = _pair(lambda lib: lib.Linear(6, 8))
    torch_prune.ln_structured(theirs, "weight", 3, n="fro", dim=0)
    prune.ln_structured(ours, "weight", 3, n="fro", dim=0)
    _assert_same_pruning(ours, theirs, what="ln_structured n='fro'")


def test_global_unstructured_and_custom_mask():
    theirs_linear, ours_linear = _pair(lambda lib: lib.Linear(7, 5))
    theirs_conv, ours_conv = _pair(lambda lib: lib.Conv1d(2, 3, 4))
    # one tensor already pruned: global pruning starts from its mask
    torch_prune.l1_unstructured(theirs_linear, "weight", 6)
    prune.l1_unstructured(ours_linear, "weight", 6)
    for library, linear, conv in ((torch_prune, theirs_linear, theirs_conv), (prune, ours_linear, ours_conv)):
        library.global_unstructured([(linear, "weight"), (conv, "weight"), (linear, "bias")],
                                    library.L1Unstructured, amount=0.35)  # fmt: skip
    _assert_same_pruning(ours_linear, theirs_linear, what="global: linear weight")
    _assert_same_pruning(ours_linear, theirs_linear, "bias", what="global: linear bias")
    _assert_same_pruning(ours_conv, theirs_conv, what="global: conv weight")
    mask = (random_values((3,), torch.float32) > 0).to(torch.float32)
    torch_prune.custom_from_mask(theirs_conv, "bias", mask)
    prune.custom_from_mask(ours_conv, "bias", from_torch(mask))
    _assert_same_pruning(ours_conv, theirs_conv, "bias", what="custom_from_mask")


def test_remove_and_is_pruned():
    theirs, ours = _pair(lambda lib: lib.Sequential(lib.Linear(4, 4), lib.ReLU(), lib.Linear(4, 3)))
    assert not prune.is_pruned(ours)
    torch_prune.l1_unstructured(theirs[2], "weight", 0.5)
    prune.l1_unstructured(ours[2], "weight", 0.5)
    prune.identity(ours[0], "bias")
    torch_prune.identity(theirs[0], "bias")
    assert prune.is_pruned(ours) and prune.is_pruned(ours[2]) and not prune.is_pruned(ours[1])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    parameter = ours[2].weight_orig
    torch_prune.remove(theirs[2], "weight")
    prune.remove(ours[2], "weight")
    assert ours[2].weight is parameter and isinstance(parameter, nn.Parameter)  # the same Parameter, masked
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_close(ours[2].weight, theirs[2].weight, what="weight after remove")
    assert not ours[2]._forward_pre_hooks
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(ours[2], "weight")


def test_random_methods_prune_the_right_counts():
    layer = prune.random_unstructured(nn.Linear(6, 5), "weight", 0.4)
    mask = to_torch(layer.weight_mask)
    assert int((mask == 0).sum()) == 12 and set(mask.unique().tolist()) <= {0.0, 1.0}
    assert_close(layer.weight, to_torch(layer.weight_orig) * mask, what="randomly pruned weight")
    conv = prune.random_structured(nn.Conv2d(3, 8, 2), "weight", 3, dim=0)
    per_channel = to_torch(conv.weight_mask).sum(dim=(1, 2, 3))
    assert sorted(per_channel.tolist()) == [0.0] * 3 + [12.0] * 5, per_channel
    # pruning method objects work without modules too (``prune``)
    t = from_torch(random_values((4, 5), torch.float32))
    pruned = prune.L1Unstructured(amount=7).prune(t)
    expected = torch_prune.L1Unstructured(amount=7).prune(to_torch(t))
    assert_close(pruned, expected, what="L1Unstructured.prune")


BAD_CALLS = {
    "amount above 1": lambda lib, nn_: lib.l1_unstructured(nn_.Linear(3, 3), "weight", 1.5),
    "negative count": lambda lib, nn_: lib.l1_unstructured(nn_.Linear(3, 3), "weight", -2),
    "amount type": lambda lib, nn_: lib.random_unstructured(nn_.Linear(3, 3), "weight", "half"),
    "count above size": lambda lib, nn_: lib.l1_unstructured(nn_.Linear(3, 3), "weight", 10),
    "structured vector": lambda lib, nn_: lib.ln_structured(nn_.Linear(3, 3), "bias", 1, n=2, dim=0),
    "structured dim": lambda lib, nn_: lib.random_structured(nn_.Linear(3, 3), "weight", 1, dim=2),
    "not pruned": lambda lib, nn_: lib.remove(nn_.Linear(3, 3), "weight"),
    "global with structured": lambda lib, nn_: lib.global_unstructured(
        [(nn_.Linear(3, 3), "weight")], lib.RandomStructured, amount=1),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_errors_like_torch(name):
    outcomes = []
    for library, modules in ((torch_prune, torch.nn), (prune, nn)):
        try:
            BAD_CALLS[name](library, modules)
        except Exception as error:  # noqa: BLE001 (what each library raises is the point)
            outcomes.append((type(error), str(error).replace("tritongrad.nn.utils.prune", "torch.nn.utils.prune")))
        else:
            outcomes.append(None)
    theirs, ours = outcomes
    assert theirs is not None and ours is not None, outcomes
    assert ours[0] is theirs[0], outcomes
    if name not in ("not pruned",):  # (that message prints the module)
        assert ours[1] == theirs[1], outcomes

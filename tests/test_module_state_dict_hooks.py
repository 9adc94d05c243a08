"""nn.Module's state-dict hooks (state_dict pre/post, load_state_dict pre/post, torch's private
forms) and forward hooks with ``always_call``, each compared with torch by ``agree``."""

from __future__ import annotations

import warnings

import pytest

from tests.test_hardening import agree


def _always_called_hooks(lib):
    class Failing(lib.nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    calls = []
    module = Failing()
    module.register_forward_hook(lambda m, args, output: calls.append(("always", output)), always_call=True)
    module.register_forward_hook(lambda m, args, output: calls.append(("only on success", output)))
    module.register_forward_hook(lambda m, args, output: 1 / 0, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module(lib.ones(1))
        except ValueError as error:
            calls.append(str(error))
    return [calls, [str(w.message) for w in caught]]


def _state_dict_hooks(lib):
    log = []
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
    model.register_state_dict_pre_hook(lambda m, prefix, keep_vars: log.append((type(m).__name__, prefix, keep_vars)))
    model[0].register_state_dict_post_hook(lambda m, sd, prefix, meta: log.append((prefix, sorted(sd), meta)))

    def add_entry(m, state, prefix, meta):
        state[prefix + "extra"] = lib.ones(1)

    model[0].register_state_dict_post_hook(add_entry)
    keys = sorted(model.state_dict())
    replaced = lib.nn.Linear(2, 2)
    replaced._register_state_dict_hook(lambda m, sd, prefix, meta: {"only": lib.zeros(1)})
    returning = lib.nn.Linear(2, 2)
    returning.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd)
    try:
        returning.state_dict()
        refused = None
    except RuntimeError as error:
        refused = str(error)
    return [log, keys, sorted(replaced.state_dict()), refused]


def _load_pre_hook_renames_old_keys(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 2))

    def upgrade(m, state, prefix, meta, strict, missing, unexpected, errors):
        for key in list(state):
            if key.startswith(prefix + "w_old"):
                state[key.replace("w_old", "weight")] = state.pop(key)

    model[0].register_load_state_dict_pre_hook(upgrade)
    old = {"0.w_old": lib.ones(2, 2), "0.bias": lib.zeros(2)}
    return [str(model.load_state_dict(old)), model[0].weight, sorted(old)]


def _private_load_pre_hook_reports_an_error(lib):
    model = lib.nn.Linear(2, 2)
    model._register_load_state_dict_pre_hook(
        lambda sd, prefix, meta, strict, missing, unexpected, errors: errors.append("custom problem")
    )
    return model.load_state_dict(model.state_dict())


def _load_post_hook_clears_missing_keys(lib):
    model = lib.nn.Linear(2, 2)
    model.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.clear())
    return str(model.load_state_dict({"weight": lib.ones(2, 2)}))


def _load_post_hook_returning_a_value(lib):
    model = lib.nn.Linear(2, 2)
    model.register_load_state_dict_post_hook(lambda m, keys: 3)
    return model.load_state_dict(model.state_dict())


CASES = {
    "forward hooks with always_call when forward raises": _always_called_hooks,
    "state_dict pre and post hooks": _state_dict_hooks,
    "load_state_dict pre hook renaming an old checkpoint's keys": _load_pre_hook_renames_old_keys,
    "private load pre hook appending an error": _private_load_pre_hook_reports_an_error,
    "load post hook clearing missing keys": _load_post_hook_clears_missing_keys,
    "load post hook returning a value": _load_post_hook_returning_a_value,
}


@pytest.mark.parametrize("name", list(CASES))
def test_module_hooks_as_torch(name):
    agree(name, CASES[name], [], message=True)


def _parameter_container_reprs(lib):
    class Holder(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3))])
            self.linear = lib.nn.Linear(2, 2)

    listed = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(8, 1, 3, 3)), lib.nn.Parameter(lib.ones(2))])
    named = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2)), "b": lib.nn.Parameter(lib.ones(1, 3).double())})
    return [repr(listed), repr(Holder()), repr(named), repr(lib.nn.ParameterList()), repr(lib.nn.ParameterDict())]


def test_parameter_container_reprs_as_torch():
    agree("ParameterList / ParameterDict reprs", _parameter_container_reprs, [], message=True)

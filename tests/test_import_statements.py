"""torch's submodules imported by name, with tritongrad in torch's place: the import statements at
the top of real scripts (``import torch.backends.cudnn as cudnn``) work and bind tritongrad's objects."""

from __future__ import annotations

import importlib

import pytest

import tritongrad

# (import statement written for torch, the tritongrad object it must bind to the name it binds)
STATEMENTS = [
    ("import torch.backends.cudnn as cudnn", "cudnn", lambda: tritongrad.backends.cudnn),
    ("from torch.backends import cudnn", "cudnn", lambda: tritongrad.backends.cudnn),
    ("from torch.cuda.amp import autocast, GradScaler", "GradScaler", lambda: tritongrad.cuda.amp.GradScaler),
    ("import torch.cuda.amp as amp", "amp", lambda: tritongrad.cuda.amp),
    ("import torch.onnx as onnx", "onnx", lambda: tritongrad.onnx),
    ("import torch.jit as jit", "jit", lambda: tritongrad.jit),
    ("import torch.utils.model_zoo as model_zoo", "model_zoo", lambda: tritongrad.utils.model_zoo),
    ("from torch.hub import load_state_dict_from_url", "load_state_dict_from_url",
     lambda: tritongrad.hub.load_state_dict_from_url),
    ("import torch.autograd.profiler as profiler", "profiler", lambda: tritongrad.autograd.profiler),
    ("from torch.profiler import profile, record_function, ProfilerActivity", "profile",
     lambda: tritongrad.profiler.profile),
    ("from torch.utils.data._utils.collate import default_collate", "default_collate",
     lambda: tritongrad.utils.data.default_collate),
    ("from torch.nn.parallel.distributed import DistributedDataParallel", "DistributedDataParallel",
     lambda: tritongrad.nn.parallel.DistributedDataParallel),
    ("import torch.compiler as compiler", "compiler", lambda: tritongrad.compiler),
]  # fmt: skip


@pytest.mark.parametrize("statement, name, expected", STATEMENTS, ids=[s[0] for s in STATEMENTS])
def test_import_statement_binds_tritongrad(statement, name, expected):
    scope: dict = {}
    exec(statement.replace("torch", "tritongrad", 1), scope)  # noqa: S102 - the statement under test
    assert scope[name] is expected(), f"{statement}: bound {scope[name]!r}"


def test_onnx_export_refuses_by_name_and_nothing_is_in_an_export():
    with pytest.raises(NotImplementedError, match="cannot be exported to ONNX"):
        tritongrad.onnx.export(tritongrad.nn.Linear(2, 2), tritongrad.randn(1, 2), "model.onnx")
    assert tritongrad.onnx.is_in_onnx_export() is False


def test_load_state_dict_from_url_downloads_once_and_loads_tritongrad_tensors(tmp_path):
    model = tritongrad.nn.Linear(3, 2)
    source = tmp_path / "source" / "linear-0123abcd.pt"
    source.parent.mkdir()
    tritongrad.save(model.state_dict(), str(source))
    cache = tmp_path / "cache"
    state = tritongrad.hub.load_state_dict_from_url(source.as_uri(), model_dir=str(cache), progress=False)
    assert (cache / source.name).exists()
    assert isinstance(state["weight"], tritongrad.Tensor)
    assert state["weight"].tolist() == model.weight.tolist()
    source.unlink()  # the cached copy serves the second call
    again = tritongrad.hub.load_state_dict_from_url(source.as_uri(), model_dir=str(cache), progress=False)
    assert again["bias"].tolist() == model.bias.tolist()


def test_hub_entry_points_refuse_by_name():
    with pytest.raises(NotImplementedError, match="torch.hub.load"):
        tritongrad.hub.load("pytorch/vision", "resnet18")


def test_every_namespace_alias_is_importable_by_module_name():
    names = (
        "backends.cudnn",
        "backends.cuda",
        "backends.mps",
        "cuda.amp",
        "cpu",
        "mps",
        "jit",
        "compiler",
        "utils.data._utils.collate",
        "profiler",
        "onnx",
        "hub",
        "utils.model_zoo",
        "autograd.profiler",
    )
    for name in names:
        assert importlib.import_module(f"tritongrad.{name}") is not None, name

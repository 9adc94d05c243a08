"""``torch.nn.modules.module``: the path torch's Module lives at (code imports it from there, as in
``from torch.nn.modules.module import Module``); tritongrad's Module is tritongrad/nn/module.py."""

from tritongrad.nn.module import Module

__all__ = ["Module"]

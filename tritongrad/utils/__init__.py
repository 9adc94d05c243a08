"""Utilities with torch.utils' names: ``tritongrad.utils.data`` (datasets, samplers, DataLoader),
``tritongrad.utils.checkpoint`` (activation checkpointing), ``hooks`` (the hook handles) and ``model_zoo``
(torch.hub's download)."""

from tritongrad.utils import checkpoint, data, hooks, model_zoo

__all__ = ["checkpoint", "data", "hooks", "model_zoo"]

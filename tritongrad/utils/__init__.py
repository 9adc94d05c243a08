"""Utilities with torch.utils' names: ``tritongrad.utils.data`` (datasets, samplers, DataLoader) and
``tritongrad.utils.checkpoint`` (activation checkpointing)."""

from tritongrad.utils import checkpoint, data

__all__ = ["checkpoint", "data"]

"""Utilities with torch.utils' names: ``tritongrad.utils.data`` (datasets, samplers, DataLoader)."""

from tritongrad.utils import data

__all__ = ["data"]

"""``torch.utils.hooks``: the hook handles (defined in ``tritongrad/hooks.py``, below the modules that
hand them out)."""

from tritongrad.hooks import RemovableHandle

__all__ = ["RemovableHandle"]

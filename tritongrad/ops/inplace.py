"""Writing into a tensor in place under autograd: torch's rules and the one way every op does it.

``check_inplace`` raises torch's errors for writes autograd cannot follow (a leaf that requires
grad, a view of one, a view made under no_grad). ``apply_inplace`` runs an in-place op: straight
into the buffer when nothing is recorded; otherwise out of place on a snapshot, copied back, with
the tensor's history moved to the new node (for a view, the base's history becomes CopySlices).
Every in-place op (``add_``, ``exp_``, ``x[i] = v``, ``masked_fill_``, ...) goes through here.
"""

from __future__ import annotations

import re

from tritongrad.autograd.function import move_retained_grad
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import category, dtype_word
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels.strided import check_no_partial_overlap
from tritongrad.ops.views import contiguous_copy, rebase_after_write_through_view
from tritongrad.tensor import Tensor

__all__ = ["check_inplace", "apply_inplace"]


def check_inplace(self: Tensor) -> None:
    """torch's rules for writing in place into a tensor that takes part in autograd (and into an
    inference tensor, whatever the grad mode)."""
    if self._is_inference:  # (refused outside inference_mode unless it has a version counter: see tensor.py)
        self._version_counter.check_writable()
    if not is_grad_enabled():
        return
    custom = getattr(self, "_custom_function_view", None)
    if custom is not None and self.requires_grad:
        name, number = custom
        raise RuntimeError(
            f"Output {number} of {name} is a view and is being modified inplace. This view was created inside a "
            "custom Function (or because an input was returned as-is) and the autograd logic to handle view+inplace "
            "would override the custom backward associated with the custom Function, leading to incorrect "
            "gradients. This behavior is forbidden. You can fix this by cloning the output of the custom Function."
        )
    marked = getattr(self, "_multi_output_view", None)
    if marked is not None and self._base is not None and self.requires_grad:
        name, number = marked
        if name is None:  # a view of such an output: torch names the view's own op (Slice, Select, ...)
            name = re.sub(r"Backward\d*$", "", self.grad_fn.name())
        raise RuntimeError(
            f"Output {number} of {name} is a view and is being modified inplace. This view is the output of a "
            "function that returns multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one."
        )
    base = self._base
    if base is not None and self._grad_fn is None and not self._requires_grad and base.requires_grad:
        if self._made_without_grad:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want "
                "the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
            )
    if self.requires_grad:
        # torch asks of a view whether its base is a leaf, whether or not the base requires grad:
        # ``arange(12.).view(3, 4).requires_grad_()`` is a leaf view, and a write into it (or into a
        # view of it) is refused, since its history cannot be rebased onto the base's.
        if base is not None and base.is_leaf:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if base is None and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def apply_untracked(self: Tensor, kernel_into) -> Tensor:
    """An in-place op autograd does not see (torch's logical_and_/or_/xor_/not_, which have no
    derivative and no autograd kernel): written straight into the buffer, even a leaf that requires
    grad, whose history is left as it is; only the version counter records the write."""
    if self._is_inference:  # (refused outside inference_mode unless it has a version counter: see tensor.py)
        self._version_counter.check_writable()
    kernel_into()
    self._version_counter.bump()
    return self


def _move_tangent(self: Tensor, forward_grad: tuple) -> None:
    """The tangent of an in-place op's result (autograd/forward_ad.py) becomes ``self``'s: written into
    the tangent ``self`` has at that level, which so stays the same tensor (as torch's), else set."""
    existing = self._forward_grad
    if existing is not None and existing[0] is forward_grad[0]:
        if existing[1] is not forward_grad[1]:
            existing[1].copy_(forward_grad[1])
    else:
        self._forward_grad = forward_grad


def apply_inplace(self: Tensor, out_of_place, kernel_into, other=None) -> Tensor:
    """Runs an in-place op: straight into the buffer when nothing is recorded, else out of place
    on a snapshot of self, copied back, with self's grad_fn moved to the new node (for a view:
    the base's history becomes a CopySlices node, see ops/views.py)."""
    check_inplace(self)  # (reading grad_fn/requires_grad there refreshes a stale view's history)
    recording = is_grad_enabled() and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
    if not recording:
        kernel_into()
        self._version_counter.bump()
        return self
    if isinstance(other, Tensor):  # the kernel that would check it runs on a snapshot here
        check_no_partial_overlap(self._data, other._data)
    snapshot = Tensor._wrap(contiguous_copy(self)._data)
    snapshot.grad_fn, snapshot._output_nr, snapshot._requires_grad = (
        self.grad_fn,
        self._output_nr,
        self.requires_grad,
    )
    if self._forward_grad is not None:  # a dual tensor's tangent goes through the op with it
        snapshot._forward_grad = self._forward_grad
    result = out_of_place(snapshot)
    if category(result.dtype) > category(self.dtype):  # (the kernel refuses it when nothing records)
        raise RuntimeError(
            f"result type {dtype_word(result.dtype)} can't be cast to the desired output type {dtype_word(self.dtype)}"
        )
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
        )
    elementwise_kernels.launch_unary("copy", result._data, out=self._data)
    self._version_counter.bump()
    if result._forward_grad is not None:
        _move_tangent(self, result._forward_grad)
    node = result.grad_fn
    if node is not None and hasattr(node, "_save_output_as"):
        node._save_output_as(result._data, self)
    if self._base is not None:
        rebase_after_write_through_view(self, result)
        return self
    old_node = self.grad_fn
    self.grad_fn, self._output_nr, self._requires_grad = result.grad_fn, result._output_nr, result.requires_grad
    self._history_epoch += 1
    move_retained_grad(self, old_node)
    return self

"""Shape and layout ops composed of views, gathers and copies (each a kernel): ravel, the
h/v/d splits, rot90, split_with_sizes, narrow_copy, diagflat, block_diag, kron, tensordot,
tril/triu_indices, combinations; torch's names, arguments and errors."""

from __future__ import annotations

from tritongrad.tensor import attach_methods

__all__: list[str] = []

# Functions that are also Tensor methods.
TENSOR_METHODS: tuple[str, ...] = ()

attach_methods({name: globals()[name] for name in TENSOR_METHODS})

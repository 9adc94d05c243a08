"""Numeric ops composed of elementwise, reduction and sorting kernels: float_power, logit,
signbit, sinc, diff, dist, gcd/lcm, isin, bucketize/searchsorted, logcumsumexp, trapezoid,
vander, quantile/nanquantile, logspace; torch's names, arguments, dtypes and errors."""

from __future__ import annotations

from tritongrad.tensor import attach_methods

__all__: list[str] = []

# Functions that are also Tensor methods.
TENSOR_METHODS: tuple[str, ...] = ()

attach_methods({name: globals()[name] for name in TENSOR_METHODS})

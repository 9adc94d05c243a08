"""Triton kernels and their launchers, one family per module.

Launchers take and return torch tensors used purely as buffers (pointer, shape,
strides, dtype); they allocate with ``torch.empty*`` and never ask torch to
compute. Nothing here knows about tritongrad's Tensor or autograd.
"""

"""Triton kernels and their launchers, one family per module.

Launchers take and return torch tensors used purely as buffers (pointer, shape,
strides, dtype); they allocate with ``torch.empty*`` and never ask torch to
compute. Nothing here knows about tritongrad's Tensor or autograd.
"""

from tritongrad import runtime

if runtime.is_interpreter():
    # Before any kernel runs: the interpreter of triton <= 3.6 fails on numpy >= 2.4 otherwise.
    from tritongrad.kernels import interpreter_compat

    interpreter_compat.install()

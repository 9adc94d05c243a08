"""tritongrad.nn.utils: gradient clipping, flattening parameters to a vector, variable-length
sequences (``rnn``), the hook-based ``weight_norm`` and ``spectral_norm``, conv/linear + batch-norm fusion,
``parametrize`` / ``parametrizations``, ``prune``, ``skip_init`` and the deprecated ``stateless``, as
torch.nn.utils."""

import warnings

from tritongrad.nn.utils import parametrizations, parametrize, prune, rnn, stateless
from tritongrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from tritongrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from tritongrad.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from tritongrad.nn.utils.init import skip_init
from tritongrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from tritongrad.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
    "parameters_to_vector", "vector_to_parameters", "rnn", "parametrize", "parametrizations", "prune", "stateless",
    "weight_norm", "remove_weight_norm", "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
    "fuse_linear_bn_weights", "spectral_norm", "remove_spectral_norm", "skip_init",
]  # fmt: skip


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated: ``clip_grad_norm_`` (torch's old name, with its FutureWarning)."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)

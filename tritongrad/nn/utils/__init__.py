"""tritongrad.nn.utils: gradient clipping, flattening parameters to a vector and variable-length
sequences (``rnn``), as torch.nn.utils."""

from tritongrad.nn.utils import rnn
from tritongrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from tritongrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector", "vector_to_parameters", "rnn",
]  # fmt: skip

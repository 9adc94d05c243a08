"""``tritongrad.distributions``: a subset of torch.distributions built from tritongrad ops (so every
log_prob, entropy and rsample is differentiable through tritongrad's autograd).

Distributions: Normal, Bernoulli, Categorical, OneHotCategorical(StraightThrough), Uniform,
Exponential, Laplace, Independent, MultivariateNormal, TransformedDistribution (Exp, Affine, Sigmoid, Softplus, Tanh and
Compose transforms) and LogNormal; ``kl_divergence`` with ``register_kl`` for their same-family pairs.
MultivariateNormal (through linalg.cholesky and solve_triangular) with the matrix constraints.
Not here yet: the gamma family (Gamma, Beta, Dirichlet, Poisson, Binomial); the kernels they need
(lgamma, digamma) exist now, the distributions are not written.
"""

from tritongrad.distributions import constraints, transforms
from tritongrad.distributions.bernoulli import Bernoulli
from tritongrad.distributions.categorical import Categorical
from tritongrad.distributions.distribution import Distribution
from tritongrad.distributions.exp_family import ExponentialFamily
from tritongrad.distributions.exponential import Exponential
from tritongrad.distributions.independent import Independent
from tritongrad.distributions.kl import kl_divergence, register_kl
from tritongrad.distributions.laplace import Laplace
from tritongrad.distributions.log_normal import LogNormal
from tritongrad.distributions.multivariate_normal import MultivariateNormal
from tritongrad.distributions.normal import Normal
from tritongrad.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from tritongrad.distributions.transformed_distribution import TransformedDistribution
from tritongrad.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
    SoftplusTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from tritongrad.distributions.uniform import Uniform

__all__ = [
    "AffineTransform", "Bernoulli", "Categorical", "ComposeTransform", "Distribution", "ExpTransform", "Exponential",
    "ExponentialFamily", "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical",
    "OneHotCategoricalStraightThrough", "SigmoidTransform", "SoftplusTransform", "TanhTransform", "Transform",
    "TransformedDistribution", "Uniform", "constraints", "identity_transform", "kl_divergence", "register_kl",
    "transforms",
]  # fmt: skip

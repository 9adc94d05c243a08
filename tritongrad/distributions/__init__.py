"""``tritongrad.distributions``: a subset of torch.distributions built from tritongrad ops (so every
log_prob, entropy and rsample is differentiable through tritongrad's autograd).

Distributions: Normal, Bernoulli, Categorical, OneHotCategorical(StraightThrough), Uniform,
Exponential, Laplace, Independent, MultivariateNormal, TransformedDistribution (Exp, Affine, Sigmoid, Softplus, Tanh and
Compose transforms) and LogNormal; ``kl_divergence`` with ``register_kl`` for their same-family pairs
and torch's cross-family ones among them.
MultivariateNormal (through linalg.cholesky and solve_triangular) with the matrix constraints.
The gamma family on kernels/random_gamma.py's samplers: Gamma, Chi2, Beta, Dirichlet, StudentT
(reparameterized), Poisson, Binomial and Geometric. Not here yet: Multinomial, Gamma.cdf.
"""

from tritongrad.distributions import constraints, transforms
from tritongrad.distributions.bernoulli import Bernoulli
from tritongrad.distributions.beta import Beta
from tritongrad.distributions.binomial import Binomial
from tritongrad.distributions.categorical import Categorical
from tritongrad.distributions.chi2 import Chi2
from tritongrad.distributions.dirichlet import Dirichlet
from tritongrad.distributions.distribution import Distribution
from tritongrad.distributions.exp_family import ExponentialFamily
from tritongrad.distributions.exponential import Exponential
from tritongrad.distributions.gamma import Gamma
from tritongrad.distributions.geometric import Geometric
from tritongrad.distributions.independent import Independent
from tritongrad.distributions.kl import kl_divergence, register_kl
from tritongrad.distributions.laplace import Laplace
from tritongrad.distributions.log_normal import LogNormal
from tritongrad.distributions.multivariate_normal import MultivariateNormal
from tritongrad.distributions.normal import Normal
from tritongrad.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from tritongrad.distributions.poisson import Poisson
from tritongrad.distributions.studentT import StudentT
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
    "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Chi2", "ComposeTransform", "Dirichlet",
    "Distribution", "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Geometric", "Independent", "Laplace",
    "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
    "SigmoidTransform", "SoftplusTransform", "StudentT", "TanhTransform", "Transform", "TransformedDistribution",
    "Uniform", "constraints", "identity_transform", "kl_divergence", "register_kl", "transforms",
]  # fmt: skip

"""``tritongrad.distributions``: a subset of torch.distributions built from tritongrad ops (so every
log_prob, entropy and rsample is differentiable through tritongrad's autograd).

Distributions: Normal, Bernoulli, Categorical, OneHotCategorical(StraightThrough), Uniform,
Exponential, Laplace, Independent, MultivariateNormal, TransformedDistribution (Exp, Affine, Sigmoid, Softplus, Tanh and
Compose transforms) and LogNormal; ``kl_divergence`` with ``register_kl`` for their same-family pairs
and torch's cross-family ones among them.
MultivariateNormal (through linalg.cholesky and solve_triangular) with the matrix constraints.
The gamma family on kernels/random_gamma.py's samplers: Gamma, Chi2, Beta, Dirichlet, StudentT
(reparameterized), Poisson, Binomial and Geometric.
MixtureSameFamily (Gaussian mixtures, mixture density networks), Multinomial, Cauchy, HalfNormal,
HalfCauchy, Gumbel, Weibull, Pareto, Kumaraswamy, LogisticNormal, RelaxedBernoulli /
LogitRelaxedBernoulli, RelaxedOneHotCategorical / ExpRelaxedCategorical (Gumbel-softmax),
ContinuousBernoulli, NegativeBinomial, FisherSnedecor, InverseGamma, LowRankMultivariateNormal and
VonMises, with the transforms they use (Power, Abs, StickBreaking, Softmax, Reshape, Independent,
LowerCholesky, PositiveDefinite, CorrCholesky, CumulativeDistribution, Cat, Stack), LKJCholesky, Wishart and
GeneralizedPareto; ``biject_to``/``transform_to`` (constraint_registry.py) map unconstrained space onto a
constraint. LogitRelaxedBernoulli and ExpRelaxedCategorical live in their modules only, as in torch.
"""

from tritongrad.distributions import constraint_registry, constraints, transforms
from tritongrad.distributions.bernoulli import Bernoulli
from tritongrad.distributions.beta import Beta
from tritongrad.distributions.binomial import Binomial
from tritongrad.distributions.categorical import Categorical
from tritongrad.distributions.cauchy import Cauchy
from tritongrad.distributions.chi2 import Chi2
from tritongrad.distributions.constraint_registry import biject_to, transform_to
from tritongrad.distributions.continuous_bernoulli import ContinuousBernoulli
from tritongrad.distributions.dirichlet import Dirichlet
from tritongrad.distributions.distribution import Distribution
from tritongrad.distributions.exp_family import ExponentialFamily
from tritongrad.distributions.exponential import Exponential
from tritongrad.distributions.fishersnedecor import FisherSnedecor
from tritongrad.distributions.gamma import Gamma
from tritongrad.distributions.generalized_pareto import GeneralizedPareto
from tritongrad.distributions.geometric import Geometric
from tritongrad.distributions.gumbel import Gumbel
from tritongrad.distributions.half_cauchy import HalfCauchy
from tritongrad.distributions.half_normal import HalfNormal
from tritongrad.distributions.independent import Independent
from tritongrad.distributions.inverse_gamma import InverseGamma
from tritongrad.distributions.kl import kl_divergence, register_kl
from tritongrad.distributions.kumaraswamy import Kumaraswamy
from tritongrad.distributions.laplace import Laplace
from tritongrad.distributions.lkj_cholesky import LKJCholesky
from tritongrad.distributions.log_normal import LogNormal
from tritongrad.distributions.logistic_normal import LogisticNormal
from tritongrad.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from tritongrad.distributions.mixture_same_family import MixtureSameFamily
from tritongrad.distributions.multinomial import Multinomial
from tritongrad.distributions.multivariate_normal import MultivariateNormal
from tritongrad.distributions.negative_binomial import NegativeBinomial
from tritongrad.distributions.normal import Normal
from tritongrad.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from tritongrad.distributions.pareto import Pareto
from tritongrad.distributions.poisson import Poisson
from tritongrad.distributions.relaxed_bernoulli import RelaxedBernoulli
from tritongrad.distributions.relaxed_categorical import RelaxedOneHotCategorical
from tritongrad.distributions.studentT import StudentT
from tritongrad.distributions.transformed_distribution import TransformedDistribution
from tritongrad.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from tritongrad.distributions.uniform import Uniform
from tritongrad.distributions.von_mises import VonMises
from tritongrad.distributions.weibull import Weibull
from tritongrad.distributions.wishart import Wishart

__all__ = [
    "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Chi2", "ComposeTransform", "Dirichlet",
    "Distribution", "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Geometric", "Independent", "Laplace",
    "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
    "SigmoidTransform", "SoftplusTransform", "StudentT", "TanhTransform", "Transform", "TransformedDistribution",
    "Uniform", "constraints", "identity_transform", "kl_divergence", "register_kl", "transforms",
    # the rest of torch.distributions that tutorials use, and their transforms
    "AbsTransform", "Cauchy", "ContinuousBernoulli", "CumulativeDistributionTransform",
    "FisherSnedecor", "Gumbel", "HalfCauchy", "HalfNormal", "IndependentTransform", "InverseGamma", "Kumaraswamy",
    "LogisticNormal", "LowRankMultivariateNormal", "LowerCholeskyTransform",
    "MixtureSameFamily", "Multinomial", "NegativeBinomial", "Pareto", "PowerTransform", "RelaxedBernoulli",
    "RelaxedOneHotCategorical", "ReshapeTransform", "SoftmaxTransform", "StickBreakingTransform", "VonMises", "Weibull",
    "LKJCholesky", "Wishart", "GeneralizedPareto", "CatTransform", "StackTransform", "CorrCholeskyTransform",
    "PositiveDefiniteTransform", "biject_to", "transform_to", "constraint_registry",
]  # fmt: skip

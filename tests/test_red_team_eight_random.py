"""The eighth red-team round's randomness and distributions findings (items #1-#13, #15, #16 and #17's
Distribution shapes), each compared with torch by ``agree``: the value, or the exception type and the head
of its message. Random draws are compared by their properties (shape, dtype, range, moments), since
tritongrad's Philox streams are its own."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# ----------------------------------------------------------------------------------------------
# #1: a Generator deep-copies and pickles with its state, and a lock of its own
# ----------------------------------------------------------------------------------------------

COPIES = {
    "deepcopy": copy.deepcopy,
    "copy": copy.copy,
    "pickle": lambda g: pickle.loads(pickle.dumps(g)),
}


@pytest.mark.parametrize("how", list(COPIES))
def test_generator_copies_keep_the_seed_and_stream(how):
    def run(lib):
        g = lib.Generator().manual_seed(9)
        lib.rand(3, generator=g)
        h = COPIES[how](g)
        same_state = bool((h.get_state() == g.get_state()).all())
        same_next = bool((lib.rand(4, generator=h) == lib.rand(4, generator=g)).all())
        return h is g, h.initial_seed(), same_state, same_next

    agree(how, run, [])


def test_generator_copy_has_its_own_lock_and_state():
    g = tritongrad.Generator().manual_seed(3)
    h = copy.deepcopy(g)
    assert h._lock is not g._lock
    tritongrad.rand(8, generator=h)
    assert not bool((h.get_state() == g.get_state()).all())


def test_dataloader_with_a_generator_deep_copies():
    agree(
        "DataLoader deepcopy",
        lambda lib: len(
            list(
                copy.deepcopy(
                    lib.utils.data.DataLoader(
                        range(10), batch_size=3, shuffle=True, generator=lib.Generator().manual_seed(2)
                    )
                )
            )
        ),
        [],
    )


# ----------------------------------------------------------------------------------------------
# #2, #3: randint_like's forms (high alone, low and high; low never alone)
# ----------------------------------------------------------------------------------------------

RANDINT_LIKE = {
    "low= alone": ((), {"low": 1}),
    "high= alone": ((), {"high": 4}),
    "low= high=": ((), {"low": 1, "high": 4}),
    "nothing": ((), {}),
    "low, high=": ((1,), {"high": 4}),
    "high, low=": ((1,), {"low": 0}),
    "three": ((1, 2, 3), {}),
    "float": ((1.5,), {}),
    "low, high": ((2, 5), {}),
    "high": ((3,), {}),
}


@pytest.mark.parametrize("name", list(RANDINT_LIKE))
def test_randint_like_forms(name):
    args, kwargs = RANDINT_LIKE[name]

    def run(lib):
        result = lib.randint_like(lib.zeros(40), *args, **kwargs)
        low = args[0] if len(args) == 2 else kwargs.get("low", 0) if "high" in kwargs else 0
        high = args[-1] if len(args) == 2 or (args and "high" not in kwargs) else kwargs["high"]
        return result.shape, result.dtype, bool((result >= low).all()), bool((result < high).all())

    agree(name, run, [])


# ----------------------------------------------------------------------------------------------
# #4, #7: normal(Tensor, Tensor) in mean's dtype; out= resized for the forms with a tensor std
# ----------------------------------------------------------------------------------------------

NORMAL_DTYPES = {
    "float32 mean, float64 std": (torch.float32, torch.float64),
    "float16 mean, float32 std": (torch.float16, torch.float32),
    "bfloat16 mean, float64 std": (torch.bfloat16, torch.float64),
    "float32 mean, int64 std": (torch.float32, torch.int64),
    "float32 mean, bool std": (torch.float32, torch.bool),
    "int64 mean, float32 std": (torch.int64, torch.float32),
    "float32 mean, complex std": (torch.float32, torch.complex64),
    "number mean, float64 std": (None, torch.float64),
    "number mean, int64 std": (None, torch.int64),
}


@pytest.mark.parametrize("name", list(NORMAL_DTYPES))
def test_normal_takes_means_dtype(name):
    mean_dtype, std_dtype = NORMAL_DTYPES[name]

    def run(lib):
        mean = 0.0 if mean_dtype is None else lib.zeros(3, dtype=mean_dtype)
        result = lib.normal(mean, lib.ones(3, dtype=std_dtype))
        return result.dtype, result.shape

    agree(name, run, [])


def test_normal_gradients_keep_each_arguments_dtype():
    def run(lib):
        mean = lib.zeros(3, requires_grad=True)
        std = lib.ones(3, dtype=lib.float64, requires_grad=True)
        lib.normal(mean, std).sum().backward()
        return mean.grad, std.grad

    agree("normal grads", run, [])


NORMAL_OUT = {
    "tensors, empty out": (True, True, (0,)),
    "number mean, empty out": (False, True, (0,)),
    "tensors, larger out": (True, True, (5,)),
    "number mean, 2-d out": (False, True, (1, 5)),
    "tensor mean, number std, empty out": (True, False, (0,)),
    "tensor mean, number std, broadcast out": (True, False, (2, 3)),
}


@pytest.mark.parametrize("name", list(NORMAL_OUT))
def test_normal_out_is_resized_as_torch(name):
    mean_is_tensor, std_is_tensor, out_shape = NORMAL_OUT[name]

    def run(lib):
        out = lib.empty(out_shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = lib.normal(lib.zeros(3) if mean_is_tensor else 0.0, lib.ones(3) if std_is_tensor else 1.0, out=out)
        return result is out, tuple(out.shape), len(caught)

    agree(name, run, [])


# ----------------------------------------------------------------------------------------------
# #5, #6: the gamma family's log_prob reads the value in the parameters' dtype; its cdfs exist
# ----------------------------------------------------------------------------------------------

GAMMA_CASES = {
    "Gamma float64 value": lambda D, lib: D.Gamma(lib.tensor([2.0]), 1.0).log_prob(
        lib.tensor([2.0], dtype=lib.float64)
    ),
    "Chi2 float64 value": lambda D, lib: D.Chi2(lib.tensor([2.0])).log_prob(lib.tensor([2.0], dtype=lib.float64)),
    "HalfCauchy float64 value": lambda D, lib: D.HalfCauchy(lib.tensor([2.0])).log_prob(
        lib.tensor([2.0], dtype=lib.float64)
    ),
    "Gamma number": lambda D, lib: D.Gamma(lib.tensor([2.0]), 1.0).log_prob(2.0),
    "Gamma list": lambda D, lib: D.Gamma(lib.tensor([2.0]), 1.0).log_prob([2.0]),
    "Gamma array": lambda D, lib: D.Gamma(lib.tensor([2.0]), 1.0).log_prob(np.array([2.0])),
    "HalfCauchy bool": lambda D, lib: D.HalfCauchy(lib.tensor([2.0])).log_prob(lib.tensor([True])),
    "HalfCauchy number": lambda D, lib: D.HalfCauchy(lib.tensor([2.0])).log_prob(2.0),
    "HalfNormal float64 value": lambda D, lib: D.HalfNormal(lib.tensor([2.0])).log_prob(
        lib.tensor([2.0], dtype=lib.float64)
    ),
    "Gamma cdf": lambda D, lib: D.Gamma(lib.tensor([2.0, 0.5]), lib.tensor([3.0])).cdf(lib.tensor([1.0])),
    "Chi2 cdf": lambda D, lib: D.Chi2(lib.tensor([3.0])).cdf(lib.tensor([0.5])),
    "InverseGamma cdf": lambda D, lib: D.InverseGamma(lib.tensor([3.0]), lib.tensor([5.0])).cdf(lib.tensor([2.0])),
    "Gamma cdf outside support": lambda D, lib: D.Gamma(lib.tensor([2.0]), 1.0).cdf(lib.tensor([-1.0])),
    "InverseGamma cdf outside support": lambda D, lib: D.InverseGamma(lib.tensor([3.0]), lib.tensor([5.0])).cdf(
        lib.tensor([-2.0])
    ),
    "Gamma cdf unvalidated": lambda D, lib: D.Gamma(lib.tensor([2.0]), 1.0, validate_args=False).cdf(
        lib.tensor([-1.0, 0.0, float("inf")])
    ),
    "Gamma cdf float64": lambda D, lib: D.Gamma(lib.tensor([2.0], dtype=lib.float64), 1.0).cdf(
        lib.tensor([1.5], dtype=lib.float64)
    ),
}


@pytest.mark.parametrize("name", list(GAMMA_CASES))
def test_gamma_family_log_prob_and_cdf(name):
    agree(name, lambda lib: GAMMA_CASES[name](lib.distributions, lib), [])


def test_gamma_cdf_gradient_to_the_rate():
    def run(lib):
        rate = lib.tensor([1.5], requires_grad=True)
        lib.distributions.Gamma(lib.tensor([2.0]), rate).cdf(lib.tensor([1.0])).sum().backward()
        return rate.grad

    agree("Gamma cdf rate grad", run, [])


# ----------------------------------------------------------------------------------------------
# #8: random_/randint beyond 2**mantissa on floating types warn and draw, as torch's
# ----------------------------------------------------------------------------------------------

FLOAT_RANGES = {
    "float32 to 2**25": lambda lib: lib.zeros(3).random_(2**25),
    "float32 from -2**25": lambda lib: lib.zeros(3).random_(-(2**25), 0),
    "randint float32": lambda lib: lib.randint(0, 2**25, (3,), dtype=lib.float32),
    "bfloat16 to 1000": lambda lib: lib.zeros(3, dtype=lib.bfloat16).random_(1000),
    "float64 to 2**60": lambda lib: lib.zeros(3, dtype=lib.float64).random_(2**60),
    "randint float16 5000": lambda lib: lib.randint(0, 5000, (2,), dtype=lib.float16),
    "float16 from -5000": lambda lib: lib.zeros(3, dtype=lib.float16).random_(-5000, 0),
    "float16 within": lambda lib: lib.zeros(3, dtype=lib.float16).random_(2049),
    "float16 past its max": lambda lib: lib.zeros(3, dtype=lib.float16).random_(0, 70000),
    "float16 below its min": lambda lib: lib.zeros(3, dtype=lib.float16).random_(-70000, 0),
    "float32 to 2**63 - 1": lambda lib: lib.zeros(3).random_(0, 2**63 - 1),
    "int8 past its max": lambda lib: lib.zeros(3, dtype=lib.int8).random_(0, 200),
}


@pytest.mark.parametrize("name", list(FLOAT_RANGES))
def test_random_beyond_the_exact_integers_warns(name):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = FLOAT_RANGES[name](lib)
        words = [str(w.message).split(" (Triggered")[0] for w in caught]
        return result.dtype, result.shape, bool((result == result.round()).all()), words

    agree(name, run, [])


def test_random_beyond_the_exact_integers_stays_in_range():
    with pytest.warns(UserWarning, match="out of bounds"):
        result = tritongrad.zeros(200).random_(-(2**30), 2**30)
    assert bool((result >= -(2**30)).all()) and bool((result <= 2**30).all())


# ----------------------------------------------------------------------------------------------
# #9: arguments of the wrong type are refused (TypeError), as torch's parser refuses them
# ----------------------------------------------------------------------------------------------

WRONG_TYPES = {
    "random_ floats": lambda lib: lib.zeros(3).random_(1.0, 3.0),
    "random_ float to": lambda lib: lib.zeros(3).random_(2.0),
    "random_ int, float": lambda lib: lib.zeros(3).random_(1, 3.0),
    "random_ bool": lambda lib: lib.zeros(3).random_(True),
    "random_ to=float": lambda lib: lib.zeros(3).random_(to=3.0),
    "random_ tensor": lambda lib: lib.zeros(3).random_(lib.tensor(3)).shape,
    "random_ numpy int": lambda lib: lib.zeros(3).random_(np.int64(3)).shape,
    "random_ from, None": lambda lib: lib.zeros(3).random_(0, None).shape,
    "multinomial float": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 1.0),
    "multinomial bool": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), True),
    "multinomial tensor": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), lib.tensor(1)).shape,
    "multinomial numpy": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), np.int64(1)).shape,
    "normal int size": lambda lib: lib.normal(0.0, 1.0, 3),
    "normal list size": lambda lib: lib.normal(0.0, 1.0, [3]).shape,
    "bernoulli p=tensor": lambda lib: lib.bernoulli(lib.tensor([0.0, 1.0]), p=lib.tensor([1.0, 0.0])),
    "bernoulli tensor p": lambda lib: lib.bernoulli(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 0.0])),
    "bernoulli number p": lambda lib: lib.bernoulli(lib.tensor([0.0, 1.0]), 0.5).shape,
    "method bernoulli tensor": lambda lib: lib.zeros(3).bernoulli(lib.tensor([1.0, 0.0, 1.0])),
    "method bernoulli int": lambda lib: lib.zeros(3).bernoulli(1),
}


@pytest.mark.parametrize("name", list(WRONG_TYPES))
def test_arguments_of_the_wrong_type(name):
    # (the head of torch's message names the arguments as its parser saw them: positional or by keyword)
    agree(name, WRONG_TYPES[name], [], message=not name.startswith(("normal int", "method bernoulli tensor")))


# ----------------------------------------------------------------------------------------------
# #10: exponential_ with an infinite rate gives zeros
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("rate", [float("inf"), float("nan"), 0.0, -1.0])
def test_exponential_infinite_rate(dtype, rate):
    agree(f"{dtype} {rate}", lambda lib: lib.zeros(3, dtype=dtype).exponential_(rate), [])


# ----------------------------------------------------------------------------------------------
# #11: complex rand/randn: each part U[0, 1), or N(0, 1/2)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", ["rand", "randn", "rand_like", "randn_like"])
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_random_factories(factory, dtype):
    def run(lib):
        lib.manual_seed(0)
        if factory.endswith("_like"):
            result = getattr(lib, factory)(lib.zeros(4000, dtype=dtype))
        else:
            result = getattr(lib, factory)(4000, dtype=dtype)
        parts = lib.view_as_real(result)
        if factory.startswith("randn"):
            moments = [
                abs(parts[:, i].mean().item()) < 0.05 and abs(parts[:, i].var().item() - 0.5) < 0.05 for i in (0, 1)
            ]
        else:
            moments = [bool((parts >= 0).all() and (parts < 1).all())] + [
                abs(parts[:, i].mean().item() - 0.5) < 0.03 for i in (0, 1)
            ]
        return result.dtype, result.shape, moments, result._version

    agree(f"{factory} {dtype}", run, [])


@pytest.mark.parametrize("factory", ["rand", "randn"])
def test_complex_random_into_out(factory):
    def run(lib):
        out = lib.empty(0, dtype=lib.complex64)
        result = getattr(lib, factory)(3, out=out)
        return result is out, out.shape, out._version > 0

    agree(factory, run, [])


# ----------------------------------------------------------------------------------------------
# #12: biject_to / transform_to, the constraints and transforms they use, GeneralizedPareto
# ----------------------------------------------------------------------------------------------

X = [0.3, -1.2, 0.7]


def _registry_cases():
    def x(lib):
        return lib.tensor(X, dtype=lib.float64)

    return {
        "biject positive": lambda D, lib: D.biject_to(D.constraints.positive)(lib.tensor([0.0])),
        "transform simplex": lambda D, lib: D.transform_to(D.constraints.simplex)(lib.tensor([0.0, 1.0])),
        "biject simplex": lambda D, lib: D.biject_to(D.constraints.simplex)(lib.tensor([0.0, 1.0])),
        "interval": lambda D, lib: D.transform_to(D.constraints.interval(-1.0, 3.0))(x(lib)),
        "unit interval": lambda D, lib: D.transform_to(D.constraints.unit_interval)(x(lib)),
        "less than": lambda D, lib: D.transform_to(D.constraints.less_than(2.0))(x(lib)),
        "greater than eq": lambda D, lib: D.transform_to(D.constraints.greater_than_eq(2.0))(x(lib)),
        "real": lambda D, lib: D.transform_to(D.constraints.real)(x(lib)),
        "independent": lambda D, lib: D.biject_to(D.constraints.independent(D.constraints.positive, 1))(x(lib)),
        "corr cholesky": lambda D, lib: D.transform_to(D.constraints.corr_cholesky)(x(lib)),
        "corr cholesky inverse": lambda D, lib: D.biject_to(D.constraints.corr_cholesky).inv(
            D.biject_to(D.constraints.corr_cholesky)(x(lib))
        ),
        "corr cholesky log det": lambda D, lib: D.transforms.CorrCholeskyTransform().log_abs_det_jacobian(
            x(lib), D.transforms.CorrCholeskyTransform()(x(lib))
        ),
        "corr cholesky shapes": lambda D, lib: (
            D.transforms.CorrCholeskyTransform().forward_shape((2, 6)),
            D.transforms.CorrCholeskyTransform().inverse_shape((4, 4)),
        ),
        "positive definite": lambda D, lib: D.transform_to(D.constraints.positive_definite)(
            lib.tensor([[0.3, -1.2], [0.5, 0.1]])
        ),
        "positive definite inverse": lambda D, lib: D.transforms.PositiveDefiniteTransform().inv(
            lib.tensor([[4.0, 2.0], [2.0, 3.0]])
        ),
        "positive semidefinite": lambda D, lib: type(D.transform_to(D.constraints.positive_semidefinite)).__name__,
        "lower cholesky not bijective": lambda D, lib: D.biject_to(D.constraints.lower_cholesky),
        "unregistered": lambda D, lib: D.transform_to(D.constraints.boolean),
        "register a bad key": lambda D, lib: D.constraint_registry.ConstraintRegistry().register(3, lambda c: c),
        "cat": lambda D, lib: D.biject_to(D.constraints.cat([D.constraints.positive, D.constraints.real], 0, [1, 2]))(
            x(lib)
        ),
        "stack": lambda D, lib: D.transform_to(
            D.constraints.stack([D.constraints.positive, D.constraints.unit_interval], 1)
        )(lib.full((3, 2), 0.5)),
    }


REGISTRY = _registry_cases()


@pytest.mark.parametrize("name", list(REGISTRY))
def test_constraint_registry(name):
    def run(lib):
        result = REGISTRY[name](lib.distributions, lib)
        return repr(result) if isinstance(result, lib.distributions.transforms.Transform) else result

    agree(name, run, [])


def _functor_cases():
    def cat(T):
        return T.CatTransform([T.ExpTransform(), T.identity_transform], 0, [2, 1])

    def stack(T):
        return T.StackTransform([T.ExpTransform(), T.SigmoidTransform()], 1)

    return {
        "cat forward": lambda T, lib: cat(T)(lib.tensor(X)),
        "cat inverse": lambda T, lib: cat(T).inv(lib.tensor(X).abs()),
        "cat log det": lambda T, lib: cat(T).log_abs_det_jacobian(lib.tensor(X), cat(T)(lib.tensor(X))),
        "cat log det 2-d": lambda T, lib: (
            lambda c: c.log_abs_det_jacobian(lib.tensor(X)[:, None], c(lib.tensor(X)[:, None]))
        )(T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)], 0, [2, 1])),
        "cat wrong length": lambda T, lib: T.CatTransform([T.ExpTransform()], 0, [2])(lib.tensor(X)),
        "cat lengths mismatch": lambda T, lib: T.CatTransform([T.ExpTransform()], 0, [2, 1]),
        "cat not transforms": lambda T, lib: T.CatTransform([3]),
        "cat cached": lambda T, lib: (lambda c, v: c.inv(c(v)) is v)(cat(T).with_cache(), lib.tensor(X)),
        "cat properties": lambda T, lib: (cat(T).bijective, cat(T).event_dim, cat(T).length, repr(cat(T).domain.cseq)),
        "stack forward": lambda T, lib: stack(T)(lib.ones(3, 2)),
        "stack inverse": lambda T, lib: stack(T).inv(lib.full((3, 2), 0.5)),
        "stack log det": lambda T, lib: stack(T).log_abs_det_jacobian(lib.ones(3, 2), stack(T)(lib.ones(3, 2))),
        "stack wrong size": lambda T, lib: T.StackTransform([T.ExpTransform()], 1)(lib.ones(3, 2)),
        "stack dim out of range": lambda T, lib: stack(T)(lib.ones(3)),
        "stack properties": lambda T, lib: (
            stack(T).bijective,
            stack(T).domain.event_dim,
            repr(stack(T).codomain.cseq),
        ),
    }


FUNCTORS = _functor_cases()


@pytest.mark.parametrize("name", list(FUNCTORS))
def test_cat_and_stack_transforms(name):
    agree(name, lambda lib: FUNCTORS[name](lib.distributions.transforms, lib), [])


CONSTRAINTS = {
    "symmetric": lambda C, lib: C.symmetric.check(lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "symmetric batch": lambda C, lib: C.symmetric.check(
        lib.tensor([[[1.0, 2.0], [2.1, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    ),
    "square": lambda C, lib: C.square.check(lib.ones(2, 2, 3)),
    "square yes": lambda C, lib: C.square.check(lib.ones(2, 3, 3)),
    "positive semidefinite": lambda C, lib: C.positive_semidefinite.check(
        lib.tensor([[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]])
    ),
    "positive semidefinite asymmetric": lambda C, lib: C.positive_semidefinite.check(
        lib.tensor([[1.0, 2.0], [0.0, 1.0]])
    ),
    "positive definite": lambda C, lib: C.positive_definite.check(
        lib.tensor([[[1.0, 2.0], [2.0, 1.0]], [[2.0, 1.0], [1.0, 2.0]]])
    ),
    "cat": lambda C, lib: C.cat([C.positive, C.real], 0, [1, 2]).check(lib.tensor([-1.0, 0.0, 1.0])),
    "cat attributes": lambda C, lib: (C.cat([C.positive, C.simplex]).event_dim, C.cat([C.boolean, C.real]).is_discrete),
    "cat lengths mismatch": lambda C, lib: C.cat([C.positive], 0, [1, 2]),
    "cat not constraints": lambda C, lib: C.cat([3]),
    "cat dim out of range": lambda C, lib: C.cat([C.positive], 1).check(lib.ones(3)),
    "stack": lambda C, lib: C.stack([C.positive, C.unit_interval], 1).check(lib.tensor([[1.0, 2.0], [-1.0, 0.5]])),
    "stack event dim": lambda C, lib: (C.stack([C.simplex], -2).event_dim, C.stack([C.simplex], 0).event_dim),
    "independent negative": lambda C, lib: C.independent(C.real, -1),
    "independent float": lambda C, lib: C.independent(C.real, 1.5),
    "independent not a constraint": lambda C, lib: C.independent(3, 1),
    "classes": lambda C, lib: [
        isinstance(C.positive_definite, type(C.symmetric)),
        isinstance(C.symmetric, type(C.square)),
    ],
}


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_matrix_and_functor_constraints(name):
    agree(name, lambda lib: CONSTRAINTS[name](lib.distributions.constraints, lib), [])


GENERALIZED_PARETO = {
    "log_prob": lambda D, lib: D.GeneralizedPareto(
        lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0]), lib.tensor([0.5, 0.0])
    ).log_prob(lib.tensor([1.5, 2.0])),
    "cdf": lambda D, lib: D.GeneralizedPareto(0.0, 1.0, lib.tensor([0.5, -0.5, 0.0])).cdf(lib.tensor([1.5])),
    "icdf": lambda D, lib: D.GeneralizedPareto(0.0, 1.0, lib.tensor([0.5, -0.5, 0.0])).icdf(lib.tensor([0.3])),
    "moments": lambda D, lib: (lambda d: (d.mean, d.variance, d.entropy(), d.mode))(
        D.GeneralizedPareto(1.0, 2.0, lib.tensor([0.2, 0.7, 1.5]))
    ),
    "support": lambda D, lib: D.GeneralizedPareto(0.0, 1.0, lib.tensor([-0.5])).support.upper_bound,
    "rsample": lambda D, lib: D.GeneralizedPareto(0.0, 1.0, 0.5).rsample((4,)).shape,
    "bad scale": lambda D, lib: D.GeneralizedPareto(0.0, -1.0, 0.5),
    "outside support": lambda D, lib: D.GeneralizedPareto(0.0, 1.0, -0.5).log_prob(lib.tensor([3.0])),
    "expand": lambda D, lib: D.GeneralizedPareto(lib.zeros(2), 1.0, 0.0).expand((3, 2)).batch_shape,
}


@pytest.mark.parametrize("name", list(GENERALIZED_PARETO))
def test_generalized_pareto(name):
    agree(name, lambda lib: GENERALIZED_PARETO[name](lib.distributions, lib), [])


def test_generalized_pareto_gradients():
    # (float32: torch compares a float64 concentration with a float32 zero in isclose and raises)
    def run(lib):
        scale = lib.tensor([1.5], requires_grad=True)
        concentration = lib.tensor([0.3], requires_grad=True)
        d = lib.distributions.GeneralizedPareto(0.0, scale, concentration)
        (d.log_prob(lib.tensor([2.0])) + d.cdf(lib.tensor([1.0]))).sum().backward()
        return scale.grad, concentration.grad

    agree("GeneralizedPareto grads", run, [])


UTILS = {
    "tril to vec": lambda U, lib: U.tril_matrix_to_vec(lib.arange(9.0).reshape(3, 3)),
    "tril to vec -1": lambda U, lib: U.tril_matrix_to_vec(lib.arange(9.0).reshape(3, 3), -1),
    "tril to vec batch": lambda U, lib: U.tril_matrix_to_vec(lib.arange(18.0).reshape(2, 3, 3), 1),
    "tril to vec bad diag": lambda U, lib: U.tril_matrix_to_vec(lib.ones(3, 3), 3),
    "vec to tril": lambda U, lib: U.vec_to_tril_matrix(lib.arange(1.0, 7.0)),
    "vec to tril -1": lambda U, lib: U.vec_to_tril_matrix(lib.arange(1.0, 4.0), -1),
    "vec to tril batch": lambda U, lib: U.vec_to_tril_matrix(lib.ones(2, 3)),
    "vec to tril bad length": lambda U, lib: U.vec_to_tril_matrix(lib.ones(4)),
}


@pytest.mark.parametrize("name", list(UTILS))
def test_tril_vector_utils(name):
    agree(name, lambda lib: UTILS[name](lib.distributions.utils, lib), [])


def test_public_namespace_is_torchs():
    ours = {n for n in dir(tritongrad.distributions) if not n.startswith("_")}
    theirs = {n for n in dir(torch.distributions) if not n.startswith("_")}
    assert ours == theirs, (sorted(theirs - ours), sorted(ours - theirs))
    assert tritongrad.distributions.HalfCauchy.__module__ == "tritongrad.distributions.half_cauchy"
    assert tritongrad.random.thread_safe_generator() is None


# ----------------------------------------------------------------------------------------------
# #13, #15, #16: Generator methods, devices and seeds; fork_rng's cpu quirk; the independent asserts
# ----------------------------------------------------------------------------------------------

GENERATOR = {
    "clone_state": lambda lib: (
        lambda g: (g.clone_state().initial_seed(), bool((g.clone_state().get_state() == g.get_state()).all()))
    )(lib.Generator().manual_seed(9)),
    "get_offset": lambda lib: lib.Generator().get_offset(),
    "set_offset": lambda lib: lib.Generator().set_offset(4),
    "graphsafe_get_state": lambda lib: lib.Generator().graphsafe_get_state(),
    "graphsafe_set_state": lambda lib: lib.Generator().graphsafe_set_state(lib.Generator()),
    "device None": lambda lib: str(lib.Generator(device=None).device),
    "numpy int64 seed": lambda lib: lib.Generator().manual_seed(np.int64(5)),
    "numpy int32 seed": lambda lib: lib.Generator().manual_seed(np.int32(5)),
    "numpy float seed": lambda lib: lib.Generator().manual_seed(np.float64(2.0)),
    "bool seed": lambda lib: lib.Generator().manual_seed(True),
    "None seed": lambda lib: lib.Generator().manual_seed(None),
}


@pytest.mark.parametrize("name", list(GENERATOR))
def test_generator_methods(name):
    agree(name, GENERATOR[name], [])


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch builds a CUDA generator where a GPU is present")
def test_cuda_generator_without_cuda():
    agree("cuda generator", lambda lib: lib.Generator(device="cuda"), [])


@pytest.mark.parametrize("devices", [None, [], [0]])
def test_fork_rng_with_device_type_cpu(devices):
    def run(lib):
        with lib.random.fork_rng(devices=devices, device_type="cpu"):
            return "ran"

    agree(str(devices), run, [])


def test_multivariate_normal_of_no_dims_raises_a_runtime_error():
    agree(
        "MVN zero dims",
        lambda lib: lib.distributions.MultivariateNormal(lib.zeros(0), lib.zeros(0, 0)).log_prob(lib.zeros(0)),
        [],
        message=False,
    )


# ----------------------------------------------------------------------------------------------
# #17: Distribution keeps the batch and event shapes as given
# ----------------------------------------------------------------------------------------------

SHAPES = {
    "tuples": ((2,), (3,)),
    "lists": ([2], [3]),
    "sizes": (torch.Size([2]), torch.Size([3])),
    "defaults": None,
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_distribution_keeps_its_shapes_as_given(name):
    def run(lib):
        shapes = SHAPES[name] or ()
        d = lib.distributions.Distribution(*shapes, validate_args=False)
        return d.batch_shape, d.event_shape, type(d.batch_shape).__name__, type(d.event_shape).__name__

    agree(name, run, [])


@pytest.mark.parametrize("name", ["Normal", "Dirichlet", "MultivariateNormal", "Independent", "expand"])
def test_subclass_shapes_are_sizes(name):
    def run(lib):
        D = lib.distributions
        d = {
            "Normal": lambda: D.Normal(lib.zeros(2), 1.0),
            "Dirichlet": lambda: D.Dirichlet(lib.ones(2, 3)),
            "MultivariateNormal": lambda: D.MultivariateNormal(lib.zeros(2), lib.eye(2)),
            "Independent": lambda: D.Independent(D.Normal(lib.zeros(2, 3), 1.0), 1),
            "expand": lambda: D.Normal(0.0, 1.0).expand((4,)),
        }[name]()
        return type(d.batch_shape).__name__, type(d.event_shape).__name__, d.batch_shape, d.event_shape

    agree(name, run, [])

"""Random ops: in-place fills (``uniform_``, ``normal_``, ``exponential_``, ``random_``,
``bernoulli_``) and ``bernoulli``, ``multinomial``, ``randperm``, ``normal``.

Each draws from ``generator`` (a ``tritongrad.Generator``) or the default generator, on the Philox
kernels of kernels/random.py and kernels/sampling.py. The numbers differ from torch's for the same
seed (tritongrad's streams are its own); distributions, dtypes, shapes and errors are torch's.
"""

from __future__ import annotations

import numbers

import torch

from tritongrad import caller_warnings, creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled, no_grad
from tritongrad.dtypes import dtype_word, type_meta_name
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import random as kernels
from tritongrad.kernels import sampling as sampling_kernels
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.inplace import apply_inplace, check_inplace
from tritongrad.ops.out_argument import check_no_grad, check_out_tensor, write_out
from tritongrad.random import philox_seed_and_offset, resolve_generator
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["bernoulli", "multinomial", "normal", "randperm"]

_INTEGER_RANGE = {
    torch.bool: (0, 2),
    torch.uint8: (0, 2**8),
    torch.int8: (-(2**7), 2**7),
    torch.int16: (-(2**15), 2**15),
    torch.int32: (-(2**31), 2**31),
    torch.int64: (-(2**63), 2**63),
}
# randperm's largest n per floating dtype (torch's words for it); the integer types' n - 1 must fit.
_RANDPERM_FLOAT_LIMITS = {torch.float16: (2049, "2049"), torch.float32: (2**24 + 1, "2^24+1"),
                          torch.float64: (2**53 + 1, "2^53+1")}  # fmt: skip
_C_INTEGER_NAMES = {torch.uint8: "uint8_t", torch.int8: "int8_t", torch.int16: "int16_t", torch.int32: "int32_t",
                    torch.int64: "int64_t"}  # fmt: skip
# random_() on a floating tensor draws integers in [0, 2**mantissa] (torch's rule: all of them exact).
_FLOAT_RANDOM_LIMIT = {torch.float16: 2**11, torch.bfloat16: 2**8, torch.float32: 2**24, torch.float64: 2**53}


class _RandomFill(Function):
    """A tensor overwritten by samples, in the graph as torch records it (UniformBackward0, ...): the
    samples do not depend on what they overwrite, so its gradient is zeros."""

    @staticmethod
    def forward(ctx, overwritten, sample: torch.Tensor):
        ctx.meta = (tuple(overwritten.shape), overwritten.dtype, overwritten.device)
        return Tensor._wrap(sample)

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, device = ctx.meta
        return creation.zeros(shape, dtype=dtype, device=device), None


_RANDOM_FILL_NODES: dict[str, type] = {}


def random_fill(tensor: Tensor, node: str, fill) -> Tensor:
    """``tensor`` overwritten by ``fill(target)`` (which writes samples into target, untracked): in
    place when nothing records; else the samples are drawn into a new tensor and written in as an
    in-place op named ``node`` (torch's UniformBackward0, NormalBackward0, ...), whose gradient to the
    old values is zeros, so nothing flows back through what was overwritten."""
    check_inplace(tensor)
    if not (is_grad_enabled() and tensor.requires_grad):
        with no_grad():
            fill(tensor)
        return tensor
    sample = creation.empty(tuple(tensor.shape), dtype=tensor.dtype, device=tensor.device)
    with no_grad():
        fill(sample)
    if node not in _RANDOM_FILL_NODES:
        _RANDOM_FILL_NODES[node] = type(node, (_RandomFill,), {"_backward_name": node})
    record = _RANDOM_FILL_NODES[node].apply
    return apply_inplace(tensor, lambda overwritten: record(overwritten, sample._data), lambda: None)


def _fill_random(tensor: Tensor, launch, generator, *parameters, node: str) -> Tensor:
    """A random kernel's fill of ``tensor`` (recorded as ``node`` where autograd follows tensor)."""
    generator = resolve_generator(generator)
    return random_fill(tensor, node, lambda target: _launch_random(target, launch, generator, *parameters))


def _launch_random(tensor: Tensor, launch, generator, *parameters) -> Tensor:
    """Runs a random kernel on a contiguous buffer (a scratch one if ``tensor`` is a strided view)."""
    target = tensor._data
    scratch = target if target.is_contiguous() else torch.empty(tuple(target.shape), dtype=target.dtype,
                                                                 device=target.device)  # fmt: skip
    seed, offset = generator.philox_seed_and_offset(scratch.numel())
    launch(scratch, *parameters, seed, offset)
    if scratch is not target:
        elementwise_kernels.launch_unary("copy", scratch, out=target)
    tensor._version_counter.bump()
    return tensor


def check_continuous(distribution: str, tensor: Tensor) -> None:
    """torch's refusal of a fill from a continuous distribution (exponential_, cauchy_) into a
    tensor of an integer or bool dtype."""
    if not tensor.dtype.is_floating_point:
        raise RuntimeError(
            f"{distribution} distribution is a continuous probability distribution. dtype must be a floating point "
            f"but you specified {dtype_word(tensor.dtype)}"
        )


def _check_floating(name: str, tensor: Tensor, kernel_name: str) -> None:
    if not tensor.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for '{dtype_word(tensor.dtype)}' ({name})")


def uniform_(tensor: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """Fills ``tensor`` with U[from, to) samples (default [0, 1)): ``uniform_(from, to)``, positionally or
    by torch's keyword names ``from``/``to`` (Python keywords, so only through ``**``); nothing else."""
    if len(args) > 2:
        raise TypeError(f"uniform_() takes from 0 to 2 positional arguments but {len(args)} were given")
    bounds = dict(zip(("from", "to"), args))
    for name in ("from", "to"):
        if name in kwargs:
            if name in bounds:
                raise TypeError(f"uniform_() got multiple values for argument '{name}'")
            bounds[name] = kwargs.pop(name)
    _no_other_keywords("uniform_", kwargs)
    a, b = bounds.get("from", 0.0), bounds.get("to", 1.0)
    _check_floating("uniform_", tensor, "check_uniform_bounds")
    limits = torch.finfo(tensor.dtype)
    for name, value in (("from", a), ("to", b)):
        if not limits.min <= value <= limits.max:  # (NaN included)
            raise RuntimeError(f"{name} is out of bounds for {type_meta_name(tensor.dtype)}")
    if b - a > limits.max:
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{dtype_word(tensor.dtype)}>::max(), but found to={b} "
            f"and from={a} which result in to-from to exceed the limit"
        )
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill_random(tensor, kernels.launch_uniform_, generator, float(a), float(b), node="UniformBackward0")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fills ``tensor`` with N(mean, std**2) samples."""
    _check_floating("normal_", tensor, "normal_kernel_cpu")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_random(tensor, kernels.launch_normal_, generator, float(mean), float(std), node="NormalBackward0")


def exponential_(tensor: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fills ``tensor`` with Exponential(lambd) samples (density lambd * exp(-lambd * x))."""
    check_continuous("Exponential", tensor)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_random(tensor, kernels.launch_exponential_, generator, float(lambd), node="ExponentialBackward0")


def random_(tensor: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """Fills ``tensor`` with integers: ``random_()`` on [0, top], ``random_(to)`` on [0, to),
    ``random_(from, to)`` on [from, to) (``to=None``: up to top), where top is the dtype's largest
    value (2**mantissa for floating types: every integer up to it is exact)."""
    names = ("to",) if len(args) == 1 and "to" not in kwargs else ("from", "to")
    bounds = dict(zip(names, args))
    malformed = len(args) > 2 or set(kwargs) & set(bounds) or set(kwargs) - {"from", "to"}
    bounds.update(kwargs)
    if malformed or not all(_is_integer_bound(value) or (name == "to" and value is None and "from" in bounds)
                            for name, value in bounds.items()):  # fmt: skip
        # torch's parser takes ints only (numpy's integers and integer tensors too): not floats, nor bools
        got = ", ".join([_type_word(value) for value in args] + [f"{k}={_type_word(v)}" for k, v in kwargs.items()])
        raise TypeError(
            f"random_() received an invalid combination of arguments - got ({got}{', ' if kwargs else ''}), but "
            "expected one of:\n * (*, torch.Generator generator = None)\n * (int from, int to, *, torch.Generator "
            "generator = None)\n * (int to, *, torch.Generator generator = None)\n"
        )
    for value in bounds.values():  # torch's argument parser unpacks each bound as an int64 first
        if value is not None and not isinstance(value, Tensor) and not -(2**63) <= int(value) < 2**63:
            raise ValueError("Overflow when unpacking long long")
    dtype = tensor.dtype
    if dtype.is_complex:
        if not bounds:  # (the full-range fill goes straight to the kernel, which has no complex version)
            raise NotImplementedError(f"\"random_kernel_cpu\" not implemented for '{dtype_word(dtype)}'")
        raise RuntimeError("check_random_bounds handles only integral, floating-point and boolean types")
    top = _FLOAT_RANDOM_LIMIT[dtype] if dtype.is_floating_point else _INTEGER_RANGE[dtype][1] - 1
    low = _integer("random_", bounds.get("from", 0))
    high = top + 1 if bounds.get("to") is None else _integer("random_", bounds["to"])
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    lowest = -top if dtype.is_floating_point else _INTEGER_RANGE[dtype][0]
    for name, value in (("from", low), ("to - 1", high - 1)):
        if lowest <= value <= top:
            continue
        if not dtype.is_floating_point or abs(value) > torch.finfo(dtype).max:
            raise RuntimeError(f"{name} is out of bounds for {type_meta_name(dtype)}")
        # torch's rule for floating types: past 2**mantissa not every integer is exact, so it warns and
        # draws anyway (the int64 draws are rounded to the type, as its casts round them)
        caller_warnings.warn(
            f"{name} is out of bounds [-(2^{top.bit_length() - 1}), 2^{top.bit_length() - 1}]. Due to precision "
            f"limitations {type_meta_name(dtype)} can support discrete uniform distribution only within this range. "
            "This warning will become an error in version 1.7 release, please fix the code in advance"
        )
    node = "RandomBackward0" if "from" in bounds else "RandomBackward1" if "to" in bounds else "RandomBackward2"
    return _fill_random(tensor, kernels.launch_randint_, generator, low, high, node=node)


def _is_integer_bound(value) -> bool:
    if isinstance(value, Tensor):
        return value.numel() == 1 and not value.dtype.is_floating_point and value.dtype != torch.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _type_word(value) -> str:
    """An argument's type as torch's "invalid combination of arguments" messages name it."""
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _integer(name: str, value) -> int:
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, float) and not value.is_integer():
        raise TypeError(f"{name}(): bounds must be integers, got {value}")
    return int(value)


def _no_other_keywords(name: str, kwargs: dict) -> None:
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kwargs))}'")


def randint_(tensor: Tensor, low: int, high: int, *, generator=None) -> Tensor:
    """Fills ``tensor`` with integers uniform in [low, high)."""
    return random_(tensor, low, high, generator=generator)


def _any_outside(x: Tensor, low: float, high: float) -> bool:
    """True if some entry of ``x`` is below ``low``, above ``high`` or NaN (one kernel, one readback)."""
    return bool(kernels.launch_count_outside(_contiguous_data(x.detach()), low, high).item())


def _contiguous_data(tensor: Tensor) -> torch.Tensor:
    return tensor._data if tensor._data.is_contiguous() else tensor.detach().contiguous()._data


def bernoulli_(tensor: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fills ``tensor`` with 1 (probability ``p``) or 0; ``p`` is a number or a tensor broadcast to
    ``tensor``'s shape."""
    if isinstance(p, Tensor):
        if not p.dtype.is_floating_point:
            raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{dtype_word(p.dtype)}'")
        if _any_outside(p, 0.0, 1.0):
            raise RuntimeError(
                "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (bernoulli_ expects all probabilities "
                "p to be in [0, 1])"
            )
        probabilities = p.detach().to(device=tensor.device).expand(tuple(tensor.shape))
        return _fill_random(
            tensor, kernels.launch_bernoulli_, generator, _contiguous_data(probabilities), node="BernoulliBackward1"
        )
    if not isinstance(p, numbers.Real):
        raise TypeError(f"bernoulli_(): argument 'p' must be a number or a Tensor, not {type(p).__name__}")
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill_random(tensor, kernels.launch_bernoulli_, generator, float(p), node="BernoulliBackward2")


def bernoulli(input: Tensor, p: float | None = None, *, generator=None, out=None) -> Tensor:
    """Samples 0/1 values: ``bernoulli(probabilities)`` draws 1 with each entry's probability (a
    tensor of ``input``'s shape and dtype); ``bernoulli(input, p)`` with one probability ``p``.
    ``out=`` (only without ``p``, as torch's): any dtype, resized silently.

    Example::

        >>> tritongrad.bernoulli(tritongrad.full((3,), 0.5))
        tensor([1., 0., 1.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be Tensor, not {type(input).__name__}")
    if p is not None and not (isinstance(p, numbers.Real) or (isinstance(p, Tensor) and p.numel() == 1)):
        # torch's overloads are (input) and (input, float p): a tensor of probabilities goes to bernoulli_
        raise TypeError(
            f"bernoulli() received an invalid combination of arguments - got (Tensor, {_type_word(p)}), but expected "
            "one of:\n * (Tensor input, *, torch.Generator generator = None, Tensor out = None)\n"
            " * (Tensor input, float p, *, torch.Generator generator = None)\n"
        )
    if out is not None:
        if p is not None:
            raise TypeError("bernoulli(): out= is taken only by bernoulli(input, *, generator=None, out=None)")
        check_no_grad("bernoulli", out, input)
        return _into_random_out("bernoulli", out, bernoulli(input, generator=generator))
    sample = creation.empty(tuple(input.shape), dtype=input.dtype, device=input.device)
    if p is not None:
        return creation.sampled(bernoulli_(sample, p, generator=generator))
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{dtype_word(input.dtype)}'")
    if _any_outside(input, 0.0, 1.0):
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (bernoulli expects all probabilities to "
            "be in [0, 1])"
        )
    sample = _launch_random(sample, kernels.launch_bernoulli_, resolve_generator(generator), _contiguous_data(input))
    creation.sampled(sample)
    return _Bernoulli.apply(input, sample) if input.requires_grad and is_grad_enabled() else sample


def _into_random_out(name: str, out: Tensor, sample: Tensor) -> Tensor:
    """A sample drawn in its own dtype, cast into ``out`` (resized silently, as torch's samplers resize it)."""
    return creation.factory_out(name, out, sample.detach().to(out.dtype)._data)


class _Bernoulli(Function):
    """A sample of bernoulli(p) in the graph, as torch records it (BernoulliBackward0): the
    gradient to p is zeros (a sample is not reparametrised)."""

    _backward_name = "BernoulliBackward0"

    @staticmethod
    def forward(ctx, probabilities, sample):
        ctx.meta = (tuple(probabilities.shape), probabilities.dtype, probabilities.device)
        return sample

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, device = ctx.meta
        return creation.zeros(*shape, dtype=dtype, device=device), None


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None, out=None) -> Tensor:
    """``num_samples`` category indices per row of the weights ``input`` (1-D: one distribution,
    2-D: one per row), drawn with probability proportional to the weights; int64, shape
    (num_samples,) or (rows, num_samples). Without replacement a row's samples are distinct and
    ``num_samples`` is at most the number of categories. The weights are checked as torch's CPU
    checks them (negative, inf, NaN, a zero row sum): one scan kernel and one readback of per-row
    statistics. With replacement: inverse CDF (binary search of the scan); without: the
    exponential race (the smallest E / p keys, E ~ Exponential(1), by a Triton merge sort).

    Example::

        >>> tritongrad.multinomial(tritongrad.tensor([0.1, 0.0, 0.9]), 4, replacement=True)
        tensor([2, 2, 0, 2])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' must be Tensor, not {type(input).__name__}")
    if out is not None:
        check_out_tensor("multinomial", out)
        if out.dtype != torch.int64:
            raise RuntimeError(f"multinomial expects Long tensor out, got: {dtype_word(out.dtype)}")
        return _into_random_out("multinomial", out, multinomial(input, num_samples, replacement, generator=generator))
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {dtype_word(input.dtype)}")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {input.dim()} dims (shape {tuple(input.shape)})")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (numbers.Integral, Tensor)):
        raise TypeError(
            f"multinomial(): argument 'num_samples' (position 2) must be int, not {_type_word(num_samples)}"
        )
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"(n_sample={num_samples}, prob_dist.size(-1)={categories})"
        )
    if categories > sampling_kernels.MAX_CATEGORIES:
        raise RuntimeError(f"number of categories cannot exceed 2^24 (got {categories})")
    weights = _contiguous_data(input.detach()).view(-1, categories)
    rows = weights.shape[0]
    if rows == 0:
        return Tensor._wrap(torch.empty((0, num_samples), dtype=torch.int64, device=input.device))
    stats, cdf = sampling_kernels.multinomial_row_stats(weights, with_cdf=replacement)
    row_stats = stats.tolist()
    if any(bad for bad, _, _, _ in row_stats):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if any(not total > 0 for _, total, _, _ in row_stats):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    generator = resolve_generator(generator)
    count = rows * (num_samples if replacement else categories)
    seed, offset = generator.philox_seed_and_offset(count)
    samples = sampling_kernels.launch_multinomial(weights, num_samples, replacement, seed, offset, cdf, stats)
    return Tensor._wrap(samples.view(num_samples) if input.dim() == 1 else samples)


def randperm(
    n: int,
    *,
    generator=None,
    out=None,
    dtype: torch.dtype | None = None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    layout=None,
) -> Tensor:
    """A uniformly random permutation of 0 .. n-1 (random keys sorted by a Triton merge sort), int64
    unless ``dtype`` (or ``out``) says otherwise; ``layout`` is torch.strided (or None) only.

    Example::

        >>> tritongrad.randperm(4)
        tensor([2, 0, 3, 1])
    """
    if isinstance(n, Tensor):
        n = n.item()
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    n = int(n)
    if not -(2**63) <= n < 2**63:  # (torch's argument parser unpacks n as an int64 first)
        raise ValueError("Overflow when unpacking long long")
    creation._check_layout("randperm", layout, False)  # (pin_memory: as before, not checked here)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if out is not None:
        check_out_tensor("randperm", out)
    given, dtype = dtype, dtype or (out.dtype if out is not None else torch.int64)
    if dtype == torch.bool:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if dtype in _RANDPERM_FLOAT_LIMITS:  # (bfloat16 has none in torch: its values round, repeating)
        limit, words = _RANDPERM_FLOAT_LIMITS[dtype]
        if n > limit:
            raise RuntimeError(f"n cannot be greater than {words} for {dtype_word(dtype)} type.")
    elif not dtype.is_floating_point and n - 1 > _INTEGER_RANGE[dtype][1] - 1:
        raise RuntimeError(f"value cannot be converted to type {_C_INTEGER_NAMES[dtype]} without overflow")
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    result = creation.empty(n, dtype=given if out is not None else dtype, device=device, out=out)
    seed, offset = philox_seed_and_offset(n, generator)
    sampling_kernels.launch_randperm(result._data, seed, offset)
    return result.requires_grad_(requires_grad) if requires_grad else result


class _Normal(Function):
    """mean + std * z for a fixed standard-normal z; like torch, the gradients are zeros (a sample
    is not reparametrised)."""

    @staticmethod
    def forward(ctx, mean, std, z):
        ctx.shapes = [(tuple(v.shape), v.dtype, v.device) if isinstance(v, Tensor) else None for v in (mean, std)]
        return z * std + mean

    @staticmethod
    def backward(ctx, grad):
        zeros = [creation.zeros(*meta[0], dtype=meta[1], device=meta[2]) if meta else None for meta in ctx.shapes]
        return zeros[0], zeros[1], None


_NORMAL_BACKWARD = {
    (True, False): type("NormalTensorFloat", (_Normal,), {"_backward_name": "NormalBackward1"}),
    (False, True): type("NormalFloatTensor", (_Normal,), {"_backward_name": "NormalBackward2"}),
    (True, True): type("NormalTensorTensor", (_Normal,), {"_backward_name": "NormalBackward3"}),
}


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False):
    """Normal samples with the given means and standard deviations.

    Forms (torch's): ``normal(mean_tensor, std_tensor)`` (broadcast together),
    ``normal(mean_tensor, std=1.0)``, ``normal(mean, std_tensor)``, and
    ``normal(mean, std, size)`` for numbers. Gradients to tensor means and stds are zeros, as torch's.
    ``out=``: a floating tensor; with tensor arguments its shape takes part in the broadcast, as torch's.
    """
    mean_is_tensor, std_is_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (mean_is_tensor or std_is_tensor):
        if not isinstance(size, (tuple, list, torch.Size)):
            # torch's overloads: (float mean, float std, tuple of ints size, ...); a bare int is not a size
            got = [_type_word(mean), _type_word(std)] + ([] if size is None else [f"size={_type_word(size)}"])
            raise TypeError(
                f"normal() received an invalid combination of arguments - got ({', '.join(got)}), but expected one "
                "of:\n * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = "
                "None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool "
                "pin_memory = False, bool requires_grad = False)\n"
            )
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        sample = creation.empty(*tuple(size), dtype=dtype, device=device, out=out)
        creation.sampled(normal_(sample, float(mean), float(std), generator=generator), out)
        return sample.requires_grad_(requires_grad) if requires_grad else sample
    if size is not None:
        raise TypeError("normal(): size is only accepted when mean and std are numbers")
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    # torch makes the samples in mean's dtype (std's for a number mean): only that tensor must be floating,
    # and a tensor std of another real dtype is read in it.
    dtype = tensors[0].dtype
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{dtype_word(dtype)}'")
    if std_is_tensor and std.dtype.is_complex:
        raise RuntimeError("normal expects standard deviation to be non-complex")
    if std_is_tensor and _any_outside(std.to(dtype), 0.0, float("inf")):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not std_is_tensor and not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = broadcast_shapes(*(tuple(v.shape) for v in tensors))
    if out is not None:
        check_no_grad("normal", out, mean, std)
        if not out.dtype.is_floating_point:
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{dtype_word(out.dtype)}'")
        if not std_is_tensor:
            # normal(Tensor, float, out=) samples in out's shape, which broadcasts with mean's (torch's size
            # error where it does not); the forms with a tensor std resize out to their own shape.
            shape = broadcast_shapes(shape, tuple(out.shape))
            mean = mean.expand(shape)
        return write_out("normal", out, normal(mean, std, generator=generator).detach(), rule="any")
    z = creation.empty(shape, dtype=dtype, device=tensors[0].device)
    with no_grad():
        normal_(z, generator=generator)
    std_in_dtype = std.to(dtype) if std_is_tensor and std.dtype != dtype else std
    return _NORMAL_BACKWARD[(mean_is_tensor, std_is_tensor)].apply(mean, std_in_dtype, z)


attach_methods(
    {
        name: globals()[name]
        for name in ("uniform_", "normal_", "exponential_", "random_", "bernoulli_", "bernoulli", "multinomial")
    }
)

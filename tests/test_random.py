"""Random numbers: the Philox kernels (bits, determinism, stream layout, distributions, dropout) and
the public API (Generator, the default generator, generator= on every random function, randperm,
multinomial, bernoulli, normal, float64's 53 random bits).

Statistical checks use ~64K samples and bounds of 6 standard errors, so a correct generator
fails them with probability ~1e-9 per check (and every test starts from a fixed seed anyway).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import DEVICE, from_torch, to_torch
from tritongrad.kernels import random as kr

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
SEED = 0x1234_5678_9ABC_DEF0
SAMPLES = 1 << 16
SIGMAS = 6.0


# ---------------------------------------------------------------------------------------------
# A plain-Python Philox4x32-10 (Salmon et al., SC 2011) to check the kernels' bits against.
# ---------------------------------------------------------------------------------------------

MASK32 = 0xFFFFFFFF


def philox4x32_10(counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]:
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        product0 = 0xD2511F53 * c0
        product1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (
            (product1 >> 32) ^ c1 ^ k0,
            product1 & MASK32,
            (product0 >> 32) ^ c3 ^ k1,
            product0 & MASK32,
        )
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


def stream_number(seed: int, index: int) -> int:
    """Random 32-bit number `index` of the stream with key `seed` (the layout kernels/random.py documents)."""
    call = index // 4
    counter = (call & MASK32, call >> 32, 0, 0)
    return philox4x32_10(counter, (seed & MASK32, seed >> 32))[index % 4]


def test_reference_philox_known_answer():
    # Random123's known-answer vector for philox4x32-10 with zero counter and key.
    assert philox4x32_10((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)


@pytest.mark.parametrize("offset", [0, 6, 2**33 + 1])  # aligned; mid-call start; counter above 32 bits
def test_uniform_bits_match_reference_philox(offset):
    out = torch.empty(23)  # prime: ends mid-call
    kr.launch_uniform_(out, 0.0, 1.0, SEED, offset)
    expected = [(stream_number(SEED, offset + i) >> 8) / 2**24 for i in range(out.numel())]
    assert out.tolist() == expected, f"offset {offset}: got {out.tolist()[:4]}..., expected {expected[:4]}..."


# ---------------------------------------------------------------------------------------------
# Determinism and stream layout
# ---------------------------------------------------------------------------------------------


def _fill(kind: str, out: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    if kind == "uniform":
        return kr.launch_uniform_(out, -1.0, 1.0, seed, offset)
    if kind == "normal":
        return kr.launch_normal_(out, 0.0, 1.0, seed, offset)
    if kind == "randint":
        return kr.launch_randint_(out, -1000, 1000, seed, offset)
    return kr.launch_bernoulli_(out, 0.5, seed, offset)


def _empty_for(kind: str, n: int) -> torch.Tensor:
    return torch.empty(n, dtype=torch.int64 if kind == "randint" else torch.float32)


@pytest.mark.parametrize("kind", ["uniform", "normal", "randint", "bernoulli"])
def test_same_seed_and_offset_repeat_and_other_offsets_differ(kind):
    n = 1031  # prime
    first = _fill(kind, _empty_for(kind, n), SEED, 8)
    again = _fill(kind, _empty_for(kind, n), SEED, 8)
    assert torch.equal(first, again), f"{kind}: same (seed, offset) gave different numbers"
    later = _fill(kind, _empty_for(kind, n), SEED, 8 + n + 1)
    other_seed = _fill(kind, _empty_for(kind, n), SEED + 1, 8)
    # Bernoulli(0.5) agrees by chance on half the elements; the others almost never.
    limit = 0.6 if kind == "bernoulli" else 0.05
    for name, other in (("offset", later), ("seed", other_seed)):
        agreement = (first == other).double().mean().item()
        assert agreement < limit, f"{kind}: another {name} agrees on {agreement:.3f} of the elements"


@pytest.mark.parametrize("kind", ["uniform", "normal", "randint", "bernoulli"])
def test_offset_slides_along_one_stream(kind):
    # Element i at offset o + k is element i + k at offset o: the stream does not depend on
    # where a launch starts, which program it lands in, or the block size.
    whole = _fill(kind, _empty_for(kind, 70), SEED, 4)
    for skip in (1, 2, 3, 4, 5):
        part = _fill(kind, _empty_for(kind, 70 - skip), SEED, 4 + skip)
        assert torch.equal(part, whole[skip:]), f"{kind}: offset +{skip} is not the same stream shifted"


def test_launches_larger_than_one_block_continue_the_stream():
    n = 65536 * 2 + 37  # > one block in the interpreter (2**16) and on a GPU
    whole = kr.launch_uniform_(torch.empty(n), 0.0, 1.0, SEED, 0)
    tail = kr.launch_uniform_(torch.empty(41), 0.0, 1.0, SEED, n - 41)
    assert torch.equal(whole[-41:], tail)


# ---------------------------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_uniform_statistics_and_bounds(dtype):
    low, high = -2.0, 3.0
    out = kr.launch_uniform_(torch.empty(SAMPLES, dtype=dtype), low, high, SEED, 12)
    values = out.double()
    assert values.min().item() >= low and values.max().item() < high, (
        f"{dtype}: values in [{values.min().item()}, {values.max().item()}] outside [{low}, {high})"
    )
    width = high - low
    standard_error = width / math.sqrt(12 * SAMPLES)
    mean_error = abs(values.mean().item() - (low + high) / 2)
    assert mean_error < SIGMAS * standard_error, f"{dtype}: mean off by {mean_error}"
    assert abs(values.std().item() - width / math.sqrt(12)) < 0.01 * width, f"{dtype}: std {values.std().item()}"
    # Every tenth of the range gets its share.
    counts = torch.histc(values, bins=10, min=low, max=high)
    share = SAMPLES / 10
    assert (counts - share).abs().max().item() < SIGMAS * math.sqrt(share), f"{dtype}: histogram {counts.tolist()}"


def test_uniform_half_open_range_in_low_precision():
    # bf16 has 8 significant bits: a 24-bit uniform would round onto `high` about once in 2**9.
    out = kr.launch_uniform_(torch.empty(SAMPLES, dtype=torch.bfloat16), 0.0, 1.0, SEED, 0)
    assert out.max().item() < 1.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_normal_statistics(dtype):
    mean, std = 1.5, 0.5
    values = kr.launch_normal_(torch.empty(SAMPLES, dtype=dtype), mean, std, SEED, 4).double()
    assert torch.isfinite(values).all()
    mean_error = abs(values.mean().item() - mean)
    assert mean_error < SIGMAS * std / math.sqrt(SAMPLES), f"{dtype}: mean off by {mean_error}"
    std_error = abs(values.std().item() - std)
    assert std_error < SIGMAS * std / math.sqrt(2 * SAMPLES) + 0.005 * std, f"{dtype}: std off by {std_error}"
    # Shape, not just moments: the mass within one sigma.
    within = ((values - mean).abs() < std).double().mean().item()
    expected = math.erf(1 / math.sqrt(2))
    assert abs(within - expected) < SIGMAS * math.sqrt(expected * (1 - expected) / SAMPLES) + 0.005, within


def test_normal_lanes_are_uncorrelated():
    # Lanes 0/1 (and 2/3) are the cos/sin halves of one Box-Muller pair: independent, not just uncorrelated
    # in theory; check the sample correlation of neighbours.
    values = kr.launch_normal_(torch.empty(SAMPLES), 0.0, 1.0, SEED, 0).view(-1, 4).double()
    correlation = torch.corrcoef(values.T)
    off_diagonal = (correlation - torch.eye(4, dtype=torch.float64)).abs().max().item()
    assert off_diagonal < SIGMAS / math.sqrt(SAMPLES / 4), f"lane correlations:\n{correlation}"


@pytest.mark.parametrize(
    "dtype, low, high",
    [
        (torch.int64, -3, 7),
        (torch.int32, -(2**31), -(2**31) + 5),  # at the type's lower edge
        (torch.int16, 100, 113),
        (torch.int8, -128, 128),  # the whole type
        (torch.uint8, 250, 256),
        (torch.bool, 0, 2),
        (torch.float32, -5, 5),
        (torch.bfloat16, -256, 257),  # every integer bf16 holds exactly
    ],
)
def test_randint_covers_range_uniformly(dtype, low, high):
    out = kr.launch_randint_(torch.empty(SAMPLES, dtype=dtype), low, high, SEED, 16)
    values = out.long()
    assert values.min().item() >= low and values.max().item() <= high - 1, (
        f"{dtype}: values in [{values.min().item()}, {values.max().item()}] outside [{low}, {high})"
    )
    if dtype.is_floating_point:
        assert torch.equal(out, out.round()), f"{dtype}: non-integer values"
    counts = torch.bincount(values - low, minlength=high - low)
    assert counts.numel() == high - low and (counts > 0).all(), f"{dtype}: counts {counts.tolist()}"
    share = SAMPLES / (high - low)
    worst = (counts.double() - share).abs().max().item()
    assert worst < SIGMAS * math.sqrt(share), f"{dtype}: counts {counts.tolist()} (expected ~{share:.0f} each)"


@pytest.mark.parametrize(
    "low, high",
    [
        (-(2**40), 2**40),  # wide: 64 random bits, modulo
        (-(2**63), 2**63),  # int64's whole range
        (2**62, 2**63),  # near the top edge
    ],
)
def test_randint_wide_int64_ranges(low, high):
    values = kr.launch_randint_(torch.empty(SAMPLES, dtype=torch.int64), low, high, SEED, 0)
    assert values.min().item() >= low and values.max().item() <= high - 1
    # Mean and spread in units of the range (computed in float64 to avoid int64 overflow).
    span = float(high - low)
    position = (values.double() - float(low)) / span
    assert abs(position.mean().item() - 0.5) < SIGMAS / math.sqrt(12 * SAMPLES)
    assert position.min().item() < 0.001 and position.max().item() > 0.999
    assert values.unique().numel() > SAMPLES - 10, "64-bit draws should almost never repeat"


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.bool, torch.int32]
)
def test_bernoulli_scalar_probability(dtype):
    p = 0.3
    out = kr.launch_bernoulli_(torch.empty(SAMPLES, dtype=dtype), p, SEED, 0)
    assert set(out.double().unique().tolist()) <= {0.0, 1.0}
    rate = out.double().mean().item()
    assert abs(rate - p) < SIGMAS * math.sqrt(p * (1 - p) / SAMPLES), f"{dtype}: rate {rate}"
    assert kr.launch_bernoulli_(torch.empty(1031, dtype=dtype), 0.0, SEED, 0).double().sum().item() == 0
    assert kr.launch_bernoulli_(torch.empty(1031, dtype=dtype), 1.0, SEED, 0).double().sum().item() == 1031


@pytest.mark.parametrize("p_dtype", [torch.float32, torch.float64, torch.float16])
def test_bernoulli_tensor_probabilities(p_dtype):
    # Elementwise probabilities: a block of certain zeros, certain ones, and p = 0.25.
    n = 3 * 20000
    probabilities = torch.cat([torch.zeros(20000), torch.ones(20000), torch.full((20000,), 0.25)]).to(p_dtype)
    out = kr.launch_bernoulli_(torch.empty(n), probabilities, SEED, 0)
    assert out[:20000].sum().item() == 0 and out[20000:40000].sum().item() == 20000
    rate = out[40000:].mean().item()
    assert abs(rate - 0.25) < SIGMAS * math.sqrt(0.25 * 0.75 / 20000), f"rate {rate}"


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------

DROPOUT_TOLERANCE = {torch.float32: 1e-6, torch.float64: 1e-14, torch.float16: 1e-3, torch.bfloat16: 1e-2}


def _nonzero_input(n: int, dtype: torch.dtype) -> torch.Tensor:
    x = torch.randn(n, dtype=torch.float64)
    return (x + torch.where(x >= 0, 0.1, -0.1)).to(dtype)  # bounded away from 0: out == 0 means dropped


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [0, 1, 1031, 65536 + 37])  # empty, single, prime, > one block
def test_dropout_forward_backward_share_mask_and_scale(n, dtype):
    p = 0.3
    x = _nonzero_input(n, dtype)
    grad_out = _nonzero_input(n, dtype)
    out = kr.launch_dropout_fwd(x, p, SEED, 20)
    grad_in = kr.launch_dropout_bwd(grad_out, p, SEED, 20)
    assert out.shape == x.shape and out.dtype == dtype and grad_in.dtype == dtype
    dropped = out == 0
    assert torch.equal(dropped, grad_in == 0), f"n={n} {dtype}: backward mask differs from forward mask"
    tolerance = DROPOUT_TOLERANCE[dtype]
    kept = ~dropped
    for name, source, result in (("forward", x, out), ("backward", grad_out, grad_in)):
        expected = source[kept].double() / (1 - p)
        error = ((result[kept].double() - expected).abs() / expected.abs()).max().item() if kept.any() else 0.0
        assert error <= tolerance, f"{name} n={n} {dtype}: kept values not scaled by 1/(1-p), max rel error {error}"
    if n > 10000:
        rate = dropped.double().mean().item()
        assert abs(rate - p) < SIGMAS * math.sqrt(p * (1 - p) / n), f"{dtype}: dropped {rate}, p={p}"


def test_dropout_offsets_give_independent_masks():
    x = _nonzero_input(4096, torch.float32)
    first = kr.launch_dropout_fwd(x, 0.5, SEED, 0) == 0
    second = kr.launch_dropout_fwd(x, 0.5, SEED, 4096) == 0
    agreement = (first == second).double().mean().item()
    assert abs(agreement - 0.5) < SIGMAS * math.sqrt(0.25 / 4096), f"masks agree on {agreement}"


@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout_extreme_probabilities(dtype):
    x = _nonzero_input(1031, dtype)
    assert torch.equal(kr.launch_dropout_fwd(x, 0.0, SEED, 0), x), "p=0 must return an exact copy"
    assert torch.equal(kr.launch_dropout_bwd(x, 0.0, SEED, 0), x)
    zeros = kr.launch_dropout_fwd(x, 1.0, SEED, 0)
    assert (zeros == 0).all(), "p=1 must give zeros"
    assert (kr.launch_dropout_bwd(x, 1.0, SEED, 0) == 0).all()


def test_dropout_propagates_nan_like_torch():
    # torch computes x * mask * scale: a dropped NaN stays NaN.
    x = torch.full((64,), float("nan"))
    assert torch.isnan(kr.launch_dropout_fwd(x, 0.5, SEED, 0)).all()


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def test_dropout_rejects_bad_probability_and_layout():
    x = torch.randn(8, 8)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        kr.launch_dropout_fwd(x, 1.5, SEED, 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        kr.launch_dropout_bwd(x, -0.1, SEED, 0)
    with pytest.raises(ValueError, match="contiguous"):
        kr.launch_dropout_fwd(x.t(), 0.5, SEED, 0)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        kr.launch_dropout_fwd(torch.ones(4, dtype=torch.int64), 0.5, SEED, 0)


def test_fills_reject_bad_arguments():
    out = torch.empty(16)
    with pytest.raises(ValueError, match="from=3.0 > to=1.0"):
        kr.launch_uniform_(out, 3.0, 1.0, SEED, 0)
    with pytest.raises(ValueError, match="std"):
        kr.launch_normal_(out, 0.0, -1.0, SEED, 0)
    with pytest.raises(ValueError, match="from=5 >= to=5"):
        kr.launch_randint_(torch.empty(4, dtype=torch.int64), 5, 5, SEED, 0)
    with pytest.raises(ValueError, match="out of bounds for torch.int8"):
        kr.launch_randint_(torch.empty(4, dtype=torch.int8), 0, 300, SEED, 0)
    with pytest.raises(ValueError, match="p to be in"):
        kr.launch_bernoulli_(out, 1.5, SEED, 0)
    with pytest.raises(ValueError, match="elements"):
        kr.launch_bernoulli_(out, torch.full((3,), 0.5), SEED, 0)
    with pytest.raises(ValueError, match="contiguous"):
        kr.launch_uniform_(torch.empty(4, 4).t(), 0.0, 1.0, SEED, 0)
    with pytest.raises(ValueError, match="seed"):
        kr.launch_uniform_(out, 0.0, 1.0, 2**64, 0)
    with pytest.raises(ValueError, match="offset"):
        kr.launch_uniform_(out, 0.0, 1.0, SEED, -4)


def test_empty_fills_launch_nothing():
    for kind in ("uniform", "normal", "randint", "bernoulli"):
        assert _fill(kind, _empty_for(kind, 0), SEED, 0).numel() == 0


# =============================================================================================
# The public API: Generator, the default generator, and every random function's generator=
# =============================================================================================


def _chi_square_bound(categories: int) -> float:
    """A chi-square statistic of `categories - 1` degrees of freedom above this is a > 6-sigma event
    (mean k, variance 2k, and a margin for the skew of small k)."""
    dof = categories - 1
    return dof + SIGMAS * math.sqrt(2 * dof) + 10


def _chi_square(counts: list[int], expected: list[float]) -> float:
    return sum((c - e) ** 2 / e for c, e in zip(counts, expected) if e > 0)


def test_generator_matches_torch_api():
    ours, theirs = tritongrad.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed()
    assert ours.device == theirs.device == torch.device("cpu")
    if torch.cuda.is_available():
        assert tritongrad.Generator("cuda").initial_seed() == ours.initial_seed()
        assert tritongrad.Generator("cuda").device.type == "cuda"
    else:  # (torch's error without CUDA: tests/test_red_team_eight_random.py compares it)
        with pytest.raises(RuntimeError):
            tritongrad.Generator("cuda")
    assert ours.manual_seed(5) is ours and ours.initial_seed() == 5
    for seed in (-1, 0, 2**63, 2**64 - 1, -(2**63)):
        assert ours.manual_seed(seed).initial_seed() == theirs.manual_seed(seed).initial_seed(), seed
    new_seed = ours.seed()
    assert isinstance(new_seed, int) and ours.initial_seed() == new_seed
    for bad, error in ((1.5, RuntimeError), (2**64, ValueError), (-(2**63) - 1, ValueError)):
        with pytest.raises(error):
            theirs.manual_seed(bad)
        with pytest.raises(error):
            ours.manual_seed(bad)
    with pytest.raises(RuntimeError, match="not an accelerator"):
        tritongrad.Generator("meta")


def test_generator_state_round_trips():
    g = tritongrad.Generator().manual_seed(11)
    tritongrad.rand(5, generator=g)
    state = g.get_state()
    # (16 bytes of Philox seed and offset, then the state of the generator's torch base)
    philox_and_base = (16 + torch.Generator().get_state().numel(),)
    assert isinstance(state, tritongrad.Tensor) and state.dtype == torch.uint8 and state.shape == philox_and_base
    first = to_torch(tritongrad.randn(37, generator=g))
    second = to_torch(tritongrad.randn(37, generator=g))
    assert g.set_state(state) is g
    assert torch.equal(to_torch(tritongrad.randn(37, generator=g)), first), "set_state did not rewind"
    # A state moves between generators, and the state tensor is a snapshot (later draws don't change it).
    other = tritongrad.Generator().set_state(state)
    assert torch.equal(to_torch(tritongrad.randn(37, generator=other)), first)
    assert torch.equal(to_torch(tritongrad.randn(37, generator=other)), second)
    tritongrad.randn(37, generator=g)
    assert torch.equal(to_torch(g.get_state()), to_torch(other.get_state())), "same draws, same state"
    assert to_torch(state)[8].item() == 8, "the saved state is a snapshot: offset 8 after 5 numbers"


def test_generator_state_errors_like_torch():
    for generator in (tritongrad.Generator(), torch.Generator()):
        with pytest.raises(TypeError):
            generator.set_state(torch.zeros(16) if isinstance(generator, torch.Generator) else tritongrad.zeros(16))
        with pytest.raises(RuntimeError, match="size"):
            generator.set_state(torch.zeros(3, dtype=torch.uint8) if isinstance(generator, torch.Generator)
                                else tritongrad.zeros(3, dtype=torch.uint8))  # fmt: skip


def test_default_generator_is_behind_module_functions():
    generator = tritongrad.manual_seed(123)
    assert generator is tritongrad.default_generator and tritongrad.initial_seed() == 123
    assert tritongrad.random.initial_seed() == 123  # torch.random is the generator module
    first = to_torch(tritongrad.rand(9))
    state = tritongrad.get_rng_state()
    assert state.dtype == torch.uint8
    second = to_torch(tritongrad.rand(9))
    tritongrad.manual_seed(123)
    assert torch.equal(to_torch(tritongrad.rand(9)), first)
    tritongrad.set_rng_state(state)
    assert torch.equal(to_torch(tritongrad.rand(9)), second)


def test_fork_rng_restores_the_default_generator():
    before = to_torch(tritongrad.get_rng_state())
    with tritongrad.random.fork_rng():
        inside = to_torch(tritongrad.rand(8))
    assert torch.equal(to_torch(tritongrad.get_rng_state()), before)
    assert torch.equal(to_torch(tritongrad.rand(8)), inside), "the draw after the block repeats the one inside"
    with tritongrad.random.fork_rng(enabled=False):
        tritongrad.rand(8)
    assert not torch.equal(to_torch(tritongrad.get_rng_state()), before)


def test_generators_are_independent_streams():
    a, b = tritongrad.Generator().manual_seed(1), tritongrad.Generator().manual_seed(1)
    default_state = to_torch(tritongrad.get_rng_state())
    from_a = to_torch(tritongrad.rand(64, generator=a))
    tritongrad.rand(100, generator=tritongrad.Generator().manual_seed(1))  # another stream in between
    tritongrad.rand(100)  # and the default one
    from_b = to_torch(tritongrad.rand(64, generator=b))
    assert torch.equal(from_a, from_b), "same seed, same stream, whatever else was drawn meanwhile"
    assert not torch.equal(to_torch(tritongrad.rand(64, generator=a)), from_a), "a generator must advance"
    other = to_torch(tritongrad.rand(64, generator=tritongrad.Generator().manual_seed(2)))
    assert (other == from_a).double().mean().item() < 0.05, "different seeds gave the same numbers"
    tritongrad.set_rng_state(tritongrad.Tensor._wrap(default_state))
    assert tritongrad.default_generator.get_state().tolist() == default_state.tolist()


def _probabilities() -> tritongrad.Tensor:
    return tritongrad.tensor([[0.1, 0.0, 0.5, 0.4], [1.0, 1.0, 0.0, 2.0]])


# One call of each random function that takes generator=, with the generator passed in.
RANDOM_CALLS = {
    "rand": lambda g: tritongrad.rand(3, 5, generator=g),
    "randn": lambda g: tritongrad.randn((4, 3), generator=g, dtype=torch.float64),
    "randint": lambda g: tritongrad.randint(-5, 5, (17,), generator=g),
    "randint_high": lambda g: tritongrad.randint(5, (17,), generator=g),
    "randperm": lambda g: tritongrad.randperm(29, generator=g),
    "multinomial": lambda g: tritongrad.multinomial(_probabilities(), 3, generator=g),
    "multinomial_replacement": lambda g: tritongrad.multinomial(_probabilities(), 9, True, generator=g),
    "bernoulli": lambda g: tritongrad.bernoulli(tritongrad.full((19,), 0.5), generator=g),
    "bernoulli_p": lambda g: tritongrad.bernoulli(tritongrad.empty(19), 0.3, generator=g),
    "normal_numbers": lambda g: tritongrad.normal(2.0, 3.0, (7,), generator=g),
    "normal_tensors": lambda g: tritongrad.normal(tritongrad.zeros(7), tritongrad.ones(7), generator=g),
    "rand_like": lambda g: tritongrad.rand_like(tritongrad.empty(6), generator=g),
    "randn_like": lambda g: tritongrad.randn_like(tritongrad.empty(6), generator=g),
    "randint_like": lambda g: tritongrad.randint_like(tritongrad.empty(6), 3, 9, generator=g),
    "uniform_": lambda g: tritongrad.empty(11).uniform_(-1, 1, generator=g),
    "normal_": lambda g: tritongrad.empty(11).normal_(generator=g),
    "exponential_": lambda g: tritongrad.empty(11).exponential_(2.0, generator=g),
    "random_": lambda g: tritongrad.empty(11, dtype=torch.int32).random_(generator=g),
    "bernoulli_": lambda g: tritongrad.empty(11).bernoulli_(0.5, generator=g),
    "bernoulli_tensor_p": lambda g: tritongrad.empty(11).bernoulli_(tritongrad.full((11,), 0.5), generator=g),
    "Tensor.multinomial": lambda g: tritongrad.ones(7).multinomial(7, generator=g),
}


@pytest.mark.parametrize("name", list(RANDOM_CALLS))
def test_generator_keyword_reproduces_and_leaves_default_alone(name):
    call = RANDOM_CALLS[name]
    default_state = tritongrad.get_rng_state().tolist()
    first = to_torch(call(tritongrad.Generator().manual_seed(42)))
    again = to_torch(call(tritongrad.Generator().manual_seed(42)))
    assert torch.equal(first, again), f"{name}: the same seeded generator gave different results"
    assert tritongrad.get_rng_state().tolist() == default_state, f"{name}: drew from the default generator"
    # Without generator= the default generator serves the call and advances.
    call(None)
    assert tritongrad.get_rng_state().tolist() != default_state, f"{name}: did not use the default generator"


def test_generator_keyword_rejects_other_objects():
    with pytest.raises(TypeError):
        torch.rand(2, generator=5)
    with pytest.raises(TypeError, match="Generator"):
        tritongrad.rand(2, generator=5)


# ---------------------------------------------------------------------------------------------
# Factories: dtypes, shapes, devices, overloads (torch is the oracle for the metadata)
# ---------------------------------------------------------------------------------------------

FACTORY_CALLS = [
    ("rand", (3, 4), {}),
    ("rand", ((0, 5),), {}),
    ("rand", ((1,),), {"dtype": torch.float64}),
    ("rand", (7,), {"dtype": torch.float16}),
    ("randn", (2, 3, 5), {"dtype": torch.bfloat16}),
    ("randn", ([4],), {}),
    ("randint", (10, (3,)), {}),
    ("randint", (-3, 10, (2, 5)), {}),
    ("randint", (10,), {"size": (4,)}),
    ("randint", (), {"high": 5, "size": (3,)}),
    ("randint", (0, 200, (13,)), {"dtype": torch.uint8}),
    ("randint", (0, 9, (5,)), {"dtype": torch.float32}),
    ("randint", (0, 2, (5,)), {"dtype": torch.bool}),
    ("randperm", (0,), {}),
    ("randperm", (1,), {}),
    ("randperm", (7,), {"dtype": torch.int32}),
    ("randperm", (7,), {"dtype": torch.float64}),
    ("normal", (0.0, 1.0, (3, 2)), {}),
    ("normal", (0.0, 1.0, (3,)), {"dtype": torch.float64}),
]


@pytest.mark.parametrize("name, args, kwargs", FACTORY_CALLS)
def test_factories_match_torch_metadata(name, args, kwargs):
    ours = getattr(tritongrad, name)(*args, **kwargs)
    theirs = getattr(torch, name)(*args, **kwargs)
    assert isinstance(ours, tritongrad.Tensor)
    assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype), f"{name}{args}{kwargs}"
    assert ours.device == DEVICE
    assert not ours.requires_grad


@pytest.mark.parametrize(
    "name, tensor_args",
    [("rand_like", ()), ("randn_like", ()), ("randint_like", (5,)), ("randint_like", (2, 5))],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_like_factories_match_torch_metadata(name, tensor_args, dtype):
    source = torch.empty(3, 4, dtype=dtype)
    ours = getattr(tritongrad, name)(from_torch(source), *tensor_args)
    theirs = getattr(torch, name)(source, *tensor_args)
    assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype)


def test_requires_grad_on_random_factories():
    assert tritongrad.rand(3, requires_grad=True).requires_grad
    assert tritongrad.randn(3, requires_grad=True).is_leaf
    for make in (torch.randint, tritongrad.randint):
        with pytest.raises(RuntimeError, match="floating point"):
            make(3, (2,), requires_grad=True)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.rand(3, dtype=m.int64),  # uniform needs a floating type
        lambda m: m.randn(3, dtype=m.int64),
        lambda m: m.randint(5, 3, (2,)),  # empty range
        lambda m: m.randint(0, 300, (2,), dtype=m.uint8),  # past the dtype's range
        lambda m: m.empty(3, dtype=m.int8).random_(-300, 3),
        lambda m: m.randperm(-1),
        lambda m: m.randperm(3, dtype=m.bool),
        lambda m: m.randperm(300, dtype=m.int8),  # n - 1 does not fit
        lambda m: m.empty(3).exponential_(0),
        lambda m: m.empty(3, dtype=m.int64).exponential_(),
        lambda m: m.empty(3).random_(5, 3),
        lambda m: m.empty(3).uniform_(2, 1),
        lambda m: m.empty(3).normal_(0, -1),
        lambda m: m.normal(2.0, -1.0, (2,)),
    ],
)
def test_random_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(tritongrad)


# ---------------------------------------------------------------------------------------------
# float64: 53 random bits
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("draw", ["rand", "randn", "exponential_"])
def test_float64_draws_have_53_bit_resolution(draw):
    n = 4096
    if draw == "exponential_":
        values = to_torch(tritongrad.empty(n, dtype=torch.float64).exponential_())
    else:
        values = to_torch(getattr(tritongrad, draw)(n, dtype=torch.float64))
    # A value drawn from 24 random bits is exactly a float32 (and a uniform one a multiple of 2**-24).
    on_float32 = (values == values.float().double()).double().mean().item()
    assert on_float32 < 0.01, f"{draw}: {on_float32:.3f} of float64 values are float32 numbers"
    if draw == "rand":
        scaled = values * 2**53
        assert torch.equal(scaled, scaled.floor()), "uniforms must lie on the 2**-53 grid"
        lowest_bits = (scaled.long() % 2).double().mean().item()  # the 53rd bit is random too
        assert abs(lowest_bits - 0.5) < SIGMAS * math.sqrt(0.25 / n), f"lowest bit set in {lowest_bits}"


def test_float64_normal_moments():
    values = to_torch(tritongrad.randn(SAMPLES, dtype=torch.float64))
    assert abs(values.mean().item()) < SIGMAS / math.sqrt(SAMPLES)
    assert abs(values.var().item() - 1) < SIGMAS * math.sqrt(2 / SAMPLES)
    kurtosis = (values**4).mean().item()
    assert abs(kurtosis - 3) < SIGMAS * math.sqrt(96 / SAMPLES), f"fourth moment {kurtosis}"


@pytest.mark.parametrize("dtype", FLOATS)
def test_exponential_moments(dtype):
    rate = 2.5
    values = to_torch(tritongrad.empty(SAMPLES, dtype=dtype).exponential_(rate)).double()
    assert values.min().item() > 0 and torch.isfinite(values).all()
    assert abs(values.mean().item() - 1 / rate) < SIGMAS / rate / math.sqrt(SAMPLES) + 0.004 / rate
    assert abs(values.std().item() - 1 / rate) < 0.02 / rate
    # Tail mass: P(X > 2 / rate) = e**-2.
    tail = (values > 2 / rate).double().mean().item()
    assert abs(tail - math.exp(-2)) < SIGMAS * math.sqrt(math.exp(-2) / SAMPLES) + 0.003, f"{dtype}: tail {tail}"


# ---------------------------------------------------------------------------------------------
# random_, uniform_, normal_ on tensors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, args, low, high",
    [
        (torch.float32, (), 0, 2**24),  # [0, 2**mantissa]
        (torch.float16, (), 0, 2**11),
        (torch.int8, (), 0, 127),
        (torch.uint8, (), 0, 255),
        (torch.bool, (), 0, 1),
        (torch.int64, (7,), 0, 6),  # random_(to)
        (torch.int32, (-4, 3), -4, 2),  # random_(from, to)
        (torch.float64, (5,), 0, 4),
    ],
)
def test_random_fills_the_ranges_torch_uses(dtype, args, low, high):
    n = 4096
    ours = to_torch(tritongrad.empty(n, dtype=dtype).random_(*args)).double()
    theirs = torch.empty(n, dtype=dtype).random_(*args).double()
    for name, values in (("tritongrad", ours), ("torch", theirs)):
        assert low <= values.min().item() and values.max().item() <= high, f"{name} {dtype}{args}: out of range"
    # Both ends of the range show up when it is small, and the mean sits in the middle.
    if high - low < 300:
        assert ours.min().item() == low and ours.max().item() == high, f"{dtype}{args}: ends never drawn"
    width = high - low + 1
    standard_error = math.sqrt((width**2 - 1) / 12 / n)
    assert abs(ours.mean().item() - (low + high) / 2) < SIGMAS * standard_error


def test_random_accepts_from_and_to_keywords():
    values = to_torch(tritongrad.empty(512, dtype=torch.int64).random_(**{"from": 10, "to": 13}))
    assert set(values.tolist()) == {10, 11, 12}
    values = to_torch(tritongrad.empty(512, dtype=torch.int16).random_(-3, None))
    assert values.min().item() >= -3 and values.max().item() > 1000


@pytest.mark.parametrize("layout", ["transposed", "sliced"])
def test_fills_write_strided_views_only(layout):
    base = tritongrad.full((8, 6), 7.0)
    view = base.t() if layout == "transposed" else base[:, ::2]
    view.uniform_(-1, 0, generator=tritongrad.Generator().manual_seed(3))
    result = to_torch(base)
    written = result.t() if layout == "transposed" else result[:, ::2]
    assert (written < 0).all() and (written >= -1).all()
    if layout == "sliced":
        assert (result[:, 1::2] == 7).all(), "the fill wrote outside the view"
    # The same generator gives the same numbers in the view's logical order as in a contiguous fill.
    expected = to_torch(
        tritongrad.empty(tuple(view.shape)).uniform_(-1, 0, generator=tritongrad.Generator().manual_seed(3))
    )
    assert torch.equal(written, expected)


# ---------------------------------------------------------------------------------------------
# randperm
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 16, 17, 97, 1000, 4099])  # one run, run + 1, primes, > one sort block
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.float32])
def test_randperm_is_a_permutation(n, dtype):
    if dtype == torch.int16 and n > 2**15:
        pytest.skip(reason="n does not fit int16")
    result = tritongrad.randperm(n, dtype=dtype)
    assert result.dtype == dtype and tuple(result.shape) == (n,)
    values = to_torch(result).long()
    assert sorted(values.tolist()) == list(range(n)), f"n={n}: not a permutation"
    if n >= 97:
        # Not the identity, nor a rotation: fewer than a handful of fixed points is expected (mean 1).
        assert (values == torch.arange(n)).sum().item() < 10


def test_randperm_is_uniform_over_permutations():
    n, draws = 4, 720
    g = tritongrad.Generator().manual_seed(2024)
    counts = Counter(tuple(tritongrad.randperm(n, generator=g).tolist()) for _ in range(draws))
    permutations = list(itertools.permutations(range(n)))
    assert set(counts) <= set(permutations)
    observed = [counts.get(p, 0) for p in permutations]
    statistic = _chi_square(observed, [draws / len(permutations)] * len(permutations))
    assert statistic < _chi_square_bound(len(permutations)), f"chi-square {statistic:.1f}; counts {observed}"


def test_randperm_positions_are_uniform_for_longer_permutations():
    # Where index 0 lands, over many draws of a 37-element permutation (keys sorted over several passes).
    n, draws = 37, 370
    g = tritongrad.Generator().manual_seed(7)
    positions = [tritongrad.randperm(n, generator=g).tolist().index(0) for _ in range(draws)]
    counts = Counter(positions)
    statistic = _chi_square([counts.get(i, 0) for i in range(n)], [draws / n] * n)
    assert statistic < _chi_square_bound(n), f"chi-square {statistic:.1f}"


# ---------------------------------------------------------------------------------------------
# multinomial
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_multinomial_with_replacement_frequencies(dtype):
    weights = torch.tensor([[0.1, 0.0, 0.5, 0.4, 1e-3], [3.0, 1.0, 0.0, 0.0, 4.0]], dtype=dtype)
    samples = 20000
    result = tritongrad.multinomial(from_torch(weights), samples, replacement=True)
    assert result.dtype == torch.int64 and tuple(result.shape) == (2, samples)
    drawn = to_torch(result)
    for row in range(2):
        p = weights[row].double() / weights[row].double().sum()
        counts = torch.bincount(drawn[row], minlength=5).double()
        assert counts.numel() == 5, f"{dtype}: categories out of range"
        assert (counts[p == 0] == 0).all(), f"{dtype} row {row}: a zero-weight category was drawn"
        bound = SIGMAS * torch.sqrt(samples * p * (1 - p)) + 1
        assert ((counts - samples * p).abs() <= bound).all(), f"{dtype} row {row}: counts {counts.tolist()}"


def test_multinomial_one_dimensional_and_many_categories():
    # > one scan tile of categories, with the weight in a few far-apart ones.
    weights = torch.zeros(5003)
    weights[[3, 4097, 5002]] = torch.tensor([1.0, 2.0, 1.0])
    result = tritongrad.multinomial(from_torch(weights), 8000, True)
    assert tuple(result.shape) == (8000,)
    counts = Counter(result.tolist())
    assert set(counts) <= {3, 4097, 5002}
    for category, share in ((3, 0.25), (4097, 0.5), (5002, 0.25)):
        assert abs(counts[category] - 8000 * share) < SIGMAS * math.sqrt(8000 * share * (1 - share))
    without = tritongrad.multinomial(from_torch(weights), 3).tolist()
    assert sorted(without) == [3, 4097, 5002]


def test_multinomial_without_replacement_draws_distinct_weighted_categories():
    p = [0.1, 0.0, 0.5, 0.4]
    rows = 6000
    weights = from_torch(torch.tensor(p).expand(rows, 4).contiguous())
    drawn = to_torch(tritongrad.multinomial(weights, 3))
    assert tuple(drawn.shape) == (rows, 3)
    assert all(len(set(row)) == 3 for row in drawn.tolist()), "a category repeated without replacement"
    assert (drawn[:, :2] != 1).all(), "the zero-weight category came before a positive one"
    # First draw ~ p; second draw ~ sum_i p_i p_j / (1 - p_i).
    second = [sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)]
    for column, expected in ((0, p), (1, second)):
        counts = torch.bincount(drawn[:, column], minlength=4).double()
        for j in range(4):
            bound = SIGMAS * math.sqrt(rows * expected[j] * (1 - expected[j])) + 1
            assert abs(counts[j].item() - rows * expected[j]) <= bound, f"draw {column}: counts {counts.tolist()}"


def test_multinomial_all_categories_without_replacement_is_a_permutation():
    weights = from_torch(torch.rand(3, 40) + 0.01)
    drawn = tritongrad.multinomial(weights, 40).tolist()
    assert all(sorted(row) == list(range(40)) for row in drawn)
    # Zero weights are drawn (last) when more samples than positive weights are asked for, as torch does.
    assert sorted(tritongrad.multinomial(tritongrad.tensor([1.0, 0.0, 0.0]), 2).tolist())[0] == 0


def test_multinomial_empty_rows():
    ours = tritongrad.multinomial(tritongrad.ones(0, 3), 2)
    theirs = torch.multinomial(torch.ones(0, 3), 2)
    assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype)


@pytest.mark.parametrize(
    "weights, num_samples, replacement, message",
    [
        ([1.0, -1.0], 1, True, "element < 0"),
        ([1.0, float("nan")], 1, False, "nan"),
        ([1.0, float("inf")], 1, True, "inf"),
        ([0.0, 0.0], 1, True, "sum of probabilities <= 0"),
        ([[1.0, 1.0], [0.0, 0.0]], 1, False, "sum of probabilities <= 0"),
        ([1.0, 1.0], 3, False, "without replacement"),
        ([1.0, 1.0], 0, True, "n_sample <= 0"),
        ([[[1.0]]], 1, True, "1 or 2 dim"),
        (5.0, 1, True, "1 or 2 dim"),
    ],
)
def test_multinomial_errors_match_torch(weights, num_samples, replacement, message):
    with pytest.raises(RuntimeError, match=message):
        torch.multinomial(torch.tensor(weights), num_samples, replacement)
    with pytest.raises(RuntimeError, match=message):
        tritongrad.multinomial(tritongrad.tensor(weights), num_samples, replacement)


def test_multinomial_rejects_integer_weights():
    with pytest.raises(RuntimeError, match="floating-point dtypes for input, got: Long"):
        tritongrad.multinomial(tritongrad.tensor([1, 2]), 1)


# ---------------------------------------------------------------------------------------------
# bernoulli, normal, dropout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_bernoulli_of_a_probability_tensor(dtype):
    n = 20000
    probabilities = torch.cat([torch.zeros(n), torch.ones(n), torch.full((n,), 0.3)]).to(dtype).view(3, n)
    result = tritongrad.bernoulli(from_torch(probabilities.t()).t())  # a non-contiguous input
    assert result.dtype == dtype and tuple(result.shape) == (3, n)
    values = to_torch(result).double()
    assert values[0].sum().item() == 0 and values[1].sum().item() == n
    rate = values[2].mean().item()
    assert abs(rate - 0.3) < SIGMAS * math.sqrt(0.21 / n), f"{dtype}: rate {rate}"


def test_bernoulli_with_p_and_in_place_forms():
    ones = to_torch(tritongrad.bernoulli(tritongrad.zeros(64, dtype=torch.float16), 1.0))
    assert ones.dtype == torch.float16 and (ones == 1).all()
    # bernoulli_(tensor p) broadcasts p over the target: a column of certain zeros, one of certain ones.
    target = tritongrad.empty(50, 2).bernoulli_(tritongrad.tensor([0.0, 1.0]))
    assert to_torch(target)[:, 0].sum().item() == 0 and to_torch(target)[:, 1].sum().item() == 50
    as_int = to_torch(tritongrad.empty(SAMPLES, dtype=torch.int32).bernoulli_(0.25)).double()
    assert set(as_int.unique().tolist()) <= {0.0, 1.0}
    assert abs(as_int.mean().item() - 0.25) < SIGMAS * math.sqrt(0.1875 / SAMPLES)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.bernoulli(m.tensor([0.5, 1.5])),
        lambda m: m.bernoulli(m.tensor([0.5, float("nan")])),
        lambda m: m.bernoulli(m.tensor([0.5, 0.5]), 2.0),
        lambda m: m.bernoulli(m.tensor([1, 0])),
        lambda m: m.empty(3).bernoulli_(-0.1),
        lambda m: m.empty(2).bernoulli_(m.tensor([0.5, -0.5])),
    ],
)
def test_bernoulli_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(tritongrad)


@pytest.mark.parametrize(
    "mean_shape, std_shape",
    [((3, 1), (4,)), ((5,), None), (None, (2, 3)), ((0,), (0,))],  # broadcast, tensor/number, number/tensor, empty
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normal_tensor_forms_match_torch_metadata_and_gradients(mean_shape, std_shape, dtype):
    def arguments(module, wrap):
        mean = wrap(torch.full(mean_shape, 1.5, dtype=dtype), requires_grad=True) if mean_shape else 1.5
        std = wrap(torch.full(std_shape, 0.5, dtype=dtype), requires_grad=True) if std_shape else 0.5
        return mean, std

    ours_args = arguments(tritongrad, from_torch)
    theirs_args = arguments(torch, lambda t, requires_grad: t.requires_grad_(requires_grad))
    ours, theirs = tritongrad.normal(*ours_args), torch.normal(*theirs_args)
    assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    ours.sum().backward()
    theirs.sum().backward()
    for mine, reference in zip(ours_args, theirs_args):
        if isinstance(reference, torch.Tensor):
            assert torch.equal(to_torch(mine.grad), reference.grad), "torch's normal gradients are zeros"


def test_normal_tensor_statistics():
    n = 20000
    mean = tritongrad.tensor([[-10.0], [0.0], [10.0]]).expand(3, n)
    std = tritongrad.tensor([[0.1], [1.0], [5.0]]).expand(3, n)
    values = to_torch(tritongrad.normal(mean, std)).double()
    for row, (mu, sigma) in enumerate(((-10.0, 0.1), (0.0, 1.0), (10.0, 5.0))):
        assert abs(values[row].mean().item() - mu) < SIGMAS * sigma / math.sqrt(n)
        assert abs(values[row].std().item() - sigma) < SIGMAS * sigma / math.sqrt(2 * n) + 0.005 * sigma


def test_normal_errors_match_torch():
    for module in (torch, tritongrad):
        with pytest.raises(RuntimeError, match="std >= 0.0"):
            module.normal(module.zeros(2), module.tensor([1.0, -1.0]))
        with pytest.raises(RuntimeError, match="std >= 0.0"):
            module.normal(module.zeros(2), -1.0)


def test_dropout_draws_from_the_default_generator():
    x = tritongrad.ones(4096)
    state = tritongrad.get_rng_state()
    first = to_torch(F.dropout(x, 0.5))
    second = to_torch(F.dropout(x, 0.5))
    assert not torch.equal(first, second), "consecutive dropouts must use fresh masks"
    tritongrad.set_rng_state(state)
    assert torch.equal(to_torch(F.dropout(x, 0.5)), first), "set_rng_state must replay dropout's mask"
    tritongrad.manual_seed(99)
    seeded = to_torch(F.dropout(x, 0.5))
    tritongrad.manual_seed(99)
    assert torch.equal(to_torch(F.dropout(x, 0.5)), seeded)

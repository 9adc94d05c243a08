"""kernels/random.py: Philox bits, determinism, stream layout, distributions and dropout.

Statistical checks use ~64K samples and bounds of 6 standard errors, so a correct generator
fails them with probability ~1e-9 per check (and every test starts from a fixed seed anyway).
"""

from __future__ import annotations

import math

import pytest
import torch

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
    with pytest.raises(TypeError, match="int64"):
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

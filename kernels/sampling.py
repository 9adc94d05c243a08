"""Random permutations and weighted sampling: randperm and multinomial.

Both draw from the Philox streams of kernels/random.py (same counter layout:
element ``i`` of a launch uses stream number ``offset + i``, 64-bit draws take
their upper halves from the counters above 2**62).

- ``randperm(n)``: every index gets a random 64-bit key and the keys are sorted;
  the sorted order is a uniformly random permutation. The key's low
  ``ceil(log2 n)`` bits are replaced by the index itself, which makes every key
  distinct (so the sort needs no tie rule) and lets the last sort pass write
  indices instead of keys; the 63 - ceil(log2 n) random bits above it tie
  with probability ~ n**2 / 2**(64 - log2 n), where index order decides.
- ``multinomial`` without replacement (the "exponential race", as torch does
  it): category ``c`` of a row gets the key E_c / p_c with E_c ~ Exponential(1);
  the ``k`` smallest keys are a weighted sample of ``k`` distinct categories,
  drawn in order. Keys are positive float64s, whose bit patterns order like
  the values, again with the category in the low bits.
- ``multinomial`` with replacement: an inclusive scan of each row's weights (the
  CDF) and, per sample, a binary search for the first category whose
  cumulative weight exceeds u * total.

The sort is a merge sort on int64 keys, row by row: one pass sorts runs of RUN
keys by counting ranks, then each merge pass doubles the run length; a key's
place in the merged run is its place in its own run plus the number of keys
below it in the partner run (a binary search). Each pass is one launch that
moves every key once: log2(n / RUN) + 1 launches in all.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype
from tritongrad.kernels.random import (
    HIGH_STREAM,
    _check_stream,
    philox_tile,
    random_words,
    store_converted,
    uniform_tile,
)
from tritongrad.runtime import cdiv, elementwise_launch_config, is_interpreter, next_power_of_2

__all__ = ["launch_randperm", "launch_multinomial", "multinomial_row_stats", "MAX_CATEGORIES"]

# Keys the sort pads with past the end of a row: above every real key (real keys are non-negative).
PAD_KEY = tl.constexpr(2**63 - 1)
# Keys sorted by rank counting in the first pass (a RUN x RUN comparison per run).
RUN = 16
# torch's limit on the categories of a multinomial distribution (2**24); it also keeps the
# category within the low bits of a key.
MAX_CATEGORIES = 2**24
# Rows of per-row statistics written by the CDF pass, in this order.
STAT_BAD, STAT_TOTAL, STAT_POSITIVE, STAT_LAST_POSITIVE = (tl.constexpr(i) for i in range(4))


# ----------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------


# keys[i] = (63 random bits with the low INDEX_BITS cleared) | i. Traffic: one int64 store per index.
# Grid: one program makes the keys of BLOCK consecutive indices (stream numbers).
@triton.jit(do_not_specialize=["seed", "first_call", "shift"])
def permutation_keys_kernel(
    keys_ptr,
    numel, seed, first_call, shift,
    INDEX_BITS: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    low = random_words(seed, counters).to(tl.uint64)
    high = random_words(seed, counters + HIGH_STREAM).to(tl.uint64)
    random_bits = ((high << 32) | low) >> (1 + INDEX_BITS) << INDEX_BITS
    key = random_bits.to(tl.int64, bitcast=True) | index.to(tl.int64)
    tl.store(keys_ptr + index, key, mask=mask)


# keys[r, c] = bits(E / p[r, c]) with the low INDEX_BITS replaced by c, E = -log(u) ~ Exponential(1)
# for u uniform on (0, 1) (32 random bits); p = 0 gives +inf, after every positive weight.
# Traffic: one load of p and one int64 store per category.
# Grid: one program makes BLOCK consecutive keys of the flattened (rows, categories) array.
@triton.jit(do_not_specialize=["seed", "first_call", "shift"])
def race_keys_kernel(
    keys_ptr, p_ptr,
    numel, categories, seed, first_call, shift,
    INDEX_BITS: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    u = (random_words(seed, counters).to(tl.float64) + 0.5) * (1.0 / 4294967296.0)
    weight = tl.load(p_ptr + index, mask=mask, other=1.0).to(tl.float64)
    positive = weight > 0
    key = tl.where(positive, -tl.log(u) / tl.where(positive, weight, 1.0), float("inf"))
    key = key.to(tl.int64, bitcast=True)
    category = (index % categories).to(tl.int64)
    key = (key >> INDEX_BITS << INDEX_BITS) | category
    tl.store(keys_ptr + index, key, mask=mask)


# ----------------------------------------------------------------------------------------------
# Sort (rows independently, keys distinct within a row)
# ----------------------------------------------------------------------------------------------


@triton.jit
def place_sorted(dst_ptr, row, position, key, mask, dst_cols, index_mask, FINAL: tl.constexpr):
    """Writes ``key`` at ``position`` of its row: the key itself into the (rows, n) key buffer, or,
    on the FINAL pass, its index bits into the (rows, dst_cols) output (positions past dst_cols
    are not part of the result)."""
    if FINAL:
        keep = mask & (position < dst_cols)
        store_converted(dst_ptr + row * dst_cols + position, key & index_mask, keep)
    else:
        tl.store(dst_ptr + row * dst_cols + position, key, mask=mask)


# Sorts each run of RUN consecutive keys of a row: key i goes to its run's start plus the number of
# keys of the run below it. Traffic: one load and one store per key.
# Grid: (cdiv(n, BLOCK), rows); one program sorts the BLOCK // RUN runs of a BLOCK-key tile of a row.
@triton.jit
def sort_runs_kernel(
    src_ptr, dst_ptr,
    n, dst_cols, index_mask,
    RUN_LENGTH: tl.constexpr, BLOCK: tl.constexpr, FINAL: tl.constexpr,
):  # fmt: skip
    row = tl.program_id(1).to(tl.int64)
    tile = tl.program_id(0).to(tl.int64) * BLOCK
    run = tl.arange(0, BLOCK // RUN_LENGTH)[:, None]
    lane = tl.arange(0, RUN_LENGTH)[None, :]
    column = tile + run * RUN_LENGTH + lane
    mask = column < n
    key = tl.load(src_ptr + row * n + column, mask=mask, other=PAD_KEY)
    rank = tl.sum((key[:, None, :] < key[:, :, None]).to(tl.int32), axis=2)
    place_sorted(dst_ptr, row, tile + run * RUN_LENGTH + rank, key, mask, dst_cols, index_mask, FINAL)


# Merges pairs of sorted runs of `run_length` keys: key i of run r goes to
#   start of the pair + its place in run r + (keys of the partner run r ^ 1 below it),
# the last term by a binary search of `steps` = log2(run_length) + 1 halvings (a loop, not unrolled:
# one compiled kernel serves every pass, and a GPU keeps fewer registers live).
# Traffic: one load and one store per key plus STEPS gathered loads.
# Grid: (cdiv(n, BLOCK), rows); one program places BLOCK consecutive keys of a row.
@triton.jit(do_not_specialize=["steps"])
def merge_runs_kernel(
    src_ptr, dst_ptr,
    n, run_length, steps, dst_cols, index_mask,
    BLOCK: tl.constexpr, FINAL: tl.constexpr,
):  # fmt: skip
    row = tl.program_id(1).to(tl.int64)
    column = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = column < n
    key = tl.load(src_ptr + row * n + column, mask=mask, other=PAD_KEY)
    run = column // run_length
    partner_start = (run ^ 1) * run_length
    partner_length = tl.minimum(tl.maximum(n - partner_start, 0), run_length)
    low = tl.zeros_like(column)
    high = partner_length
    for _ in range(steps):
        middle = (low + high) // 2
        searching = low < high
        probe = tl.load(src_ptr + row * n + partner_start + middle, mask=mask & searching, other=PAD_KEY)
        below = searching & (probe < key)
        low = tl.where(below, middle + 1, low)
        high = tl.where(below | ~searching, high, middle)
    position = (run // 2) * (2 * run_length) + (column - run * run_length) + low
    place_sorted(dst_ptr, row, position, key, mask, dst_cols, index_mask, FINAL)


def _sort_rows(keys: torch.Tensor, out: torch.Tensor, index_bits: int) -> None:
    """Sorts each row of the contiguous int64 (rows, n) ``keys`` (distinct within a row; the buffer is
    reused as scratch) and writes the low ``index_bits`` of the first ``out.shape[1]`` sorted keys
    of each row into ``out`` (rows, out_cols)."""
    rows, n = keys.shape
    out_cols = out.shape[1]
    index_mask = (1 << index_bits) - 1
    passes = ((n - 1) // RUN).bit_length()  # merge passes until one run covers the row
    # A GPU holds the (BLOCK / RUN, RUN, RUN) comparisons in registers: 256 keys keep them from spilling.
    sort_block = min(max(next_power_of_2(n), RUN), 4096 if is_interpreter() else 256)
    # The rank pass is the last one when a row fits in one run.
    target, final_cols = (out, out_cols) if passes == 0 else (torch.empty_like(keys), n)
    grid = (cdiv(n, sort_block), rows)
    sort_runs_kernel[grid](
        keys, target, n, final_cols, index_mask, RUN_LENGTH=RUN, BLOCK=sort_block, FINAL=passes == 0,
    )  # fmt: skip
    source, spare = target, keys
    block, num_warps = elementwise_launch_config(n)
    grid = (cdiv(n, block), rows)
    for step in range(passes):
        run_length = RUN << step
        last = step == passes - 1
        destination = out if last else spare
        merge_runs_kernel[grid](
            source, destination, n, run_length, run_length.bit_length(), out_cols if last else n, index_mask,
            BLOCK=block, FINAL=last, num_warps=num_warps,
        )  # fmt: skip
        source, spare = destination, source


def _index_bits(n: int) -> int:
    return max((n - 1).bit_length(), 1)


def _launch_keys(kernel, keys: torch.Tensor, tensors: tuple, scalars: tuple, seed: int, offset: int, **meta):
    numel = keys.numel()
    block, num_warps = elementwise_launch_config(numel)
    shift = int(offset) % 4
    grid = (cdiv(numel + shift, block),)
    kernel[grid](
        keys, *tensors, numel, *scalars, int(seed), int(offset) // 4, shift,
        BLOCK=block, INT64_INDEX=numel + shift + block >= 2**31, num_warps=num_warps, **meta,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Multinomial with replacement: CDF scan and inverse-CDF search
# ----------------------------------------------------------------------------------------------


# cdf[r, :] = inclusive cumulative sum of p[r, :] (in COMPUTE precision), and per row the statistics
# (bad entries: negative, NaN or inf; total; positive entries; last positive category).
# Traffic: one load and one store per category, four stores per row.
# Grid: (rows,); one program scans one row in tiles of BLOCK, carrying the running sum.
@triton.jit
def cdf_kernel(
    p_ptr, cdf_ptr, stats_ptr,
    categories,
    COMPUTE: tl.constexpr, WRITE_CDF: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    row = tl.program_id(0).to(tl.int64)
    lanes = tl.arange(0, BLOCK)
    carry = tl.zeros((), COMPUTE)
    bad = tl.zeros((), tl.int32)
    positive = tl.zeros((), tl.int32)
    last_positive = tl.full((), -1, tl.int32)
    for start in range(0, categories, BLOCK):
        column = start + lanes
        mask = column < categories
        weight = tl.load(p_ptr + row * categories + column, mask=mask, other=0.0).to(COMPUTE)
        invalid = (weight < 0) | (weight != weight) | (weight == float("inf"))
        bad += tl.sum(invalid.to(tl.int32))
        is_positive = weight > 0
        positive += tl.sum(is_positive.to(tl.int32))
        last_positive = tl.maximum(last_positive, tl.max(tl.where(is_positive, column, -1)))
        if WRITE_CDF:
            tl.store(cdf_ptr + row * categories + column, carry + tl.cumsum(weight, 0), mask=mask)
        carry += tl.sum(weight)
    tl.store(stats_ptr + row * 4 + STAT_BAD, bad.to(tl.float64))
    tl.store(stats_ptr + row * 4 + STAT_TOTAL, carry.to(tl.float64))
    tl.store(stats_ptr + row * 4 + STAT_POSITIVE, positive.to(tl.float64))
    tl.store(stats_ptr + row * 4 + STAT_LAST_POSITIVE, last_positive.to(tl.float64))


# out[r, j] = the first category c with cdf[r, c] > u * total[r] (u uniform on [0, 1)), which always
# has a positive weight; u * total rounding up to the total falls back to the last positive one.
# Traffic: `steps` gathered loads of the CDF and one int64 store per sample.
# Grid: one program draws BLOCK consecutive samples of the flattened (rows, num_samples) output.
@triton.jit(do_not_specialize=["steps", "seed", "first_call", "shift"])
def inverse_cdf_kernel(
    out_ptr, cdf_ptr, stats_ptr,
    numel, categories, num_samples, steps, seed, first_call, shift,
    MANTISSA: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    row = (index // num_samples).to(tl.int64)
    total = tl.load(stats_ptr + row * 4 + STAT_TOTAL, mask=mask, other=0.0)
    last_positive = tl.load(stats_ptr + row * 4 + STAT_LAST_POSITIVE, mask=mask, other=0.0).to(tl.int64)
    target = (uniform_tile(seed, counters, MANTISSA).to(tl.float64) * total).to(cdf_ptr.dtype.element_ty)
    low = tl.zeros_like(row)
    high = tl.zeros_like(row) + categories
    for _ in range(steps):
        middle = (low + high) // 2
        searching = low < high
        probe = tl.load(cdf_ptr + row * categories + middle, mask=mask & searching, other=0.0)
        right = searching & (probe <= target)
        low = tl.where(right, middle + 1, low)
        high = tl.where(right | ~searching, high, middle)
    tl.store(out_ptr + index, tl.minimum(low, last_positive), mask=mask)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def launch_randperm(out: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    """Fills the contiguous 1-D ``out`` with a uniformly random permutation of 0 .. n-1; returns it.

    ``out`` may be any integer or floating type that holds n - 1 (the caller checks). Consumes
    ``n`` stream numbers from ``offset`` (and their HIGH_STREAM twins).
    """
    name = "randperm"
    _check_stream(name, seed, offset)
    if out.dim() != 1 or not out.is_contiguous():
        raise ValueError(f"{name}: out must be a contiguous 1-D tensor, got shape {tuple(out.shape)}")
    n = out.numel()
    if n >= 2**62:
        raise ValueError(f"{name}: n = {n} is too large")
    if n == 0:
        return out
    index_bits = _index_bits(n)
    keys = torch.empty((1, n), dtype=torch.int64, device=out.device)
    _launch_keys(permutation_keys_kernel, keys, (), (), seed, offset, INDEX_BITS=index_bits)
    _sort_rows(keys, out.view(1, n), index_bits)
    return out


def multinomial_row_stats(p: torch.Tensor, with_cdf: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-row statistics of the contiguous floating (rows, categories) weights ``p``: a float64
    (rows, 4) tensor of [bad entries, total, positive entries, last positive category], and the
    inclusive cumulative sums (float64 for float64 ``p``, else float32) when ``with_cdf``."""
    check_floating("multinomial", p)
    rows, categories = p.shape
    compute = compute_dtype(p.dtype)
    stats = torch.empty((rows, 4), dtype=torch.float64, device=p.device)
    cdf = torch.empty((rows, categories), dtype=torch.float64 if p.dtype == torch.float64 else torch.float32,
                      device=p.device) if with_cdf else stats  # fmt: skip
    if rows == 0:
        return stats, cdf if with_cdf else None
    block = min(max(next_power_of_2(categories), 16), 4096 if is_interpreter() else 1024)
    # One program per row: a row's scan is sequential in its tiles.
    cdf_kernel[(rows,)](p, cdf, stats, categories, COMPUTE=compute, WRITE_CDF=with_cdf, BLOCK=block)
    return stats, cdf if with_cdf else None


def launch_multinomial(
    p: torch.Tensor,
    num_samples: int,
    replacement: bool,
    seed: int,
    offset: int,
    cdf: torch.Tensor | None = None,
    stats: torch.Tensor | None = None,
) -> torch.Tensor:
    """Samples ``num_samples`` categories per row of the contiguous (rows, categories) weights ``p``
    (non-negative, finite, a positive sum per row: the caller checks with ``multinomial_row_stats``,
    whose ``cdf`` and ``stats`` it passes for sampling with replacement). Returns an int64
    (rows, num_samples) tensor. Without replacement the rows' categories are distinct (zero-weight
    categories come last, in index order) and ``num_samples <= categories``. Consumes
    rows * num_samples stream numbers with replacement (with their HIGH_STREAM twins for float64
    weights), rows * categories without.
    """
    name = "multinomial"
    check_floating(name, p)
    _check_stream(name, seed, offset)
    if p.dim() != 2 or not p.is_contiguous():
        raise ValueError(f"{name}: p must be a contiguous 2-D tensor, got shape {tuple(p.shape)}")
    rows, categories = p.shape
    if not 0 < categories <= MAX_CATEGORIES:
        raise ValueError(f"{name}: number of categories must be in [1, 2**24], got {categories}")
    out = torch.empty((rows, num_samples), dtype=torch.int64, device=p.device)
    if out.numel() == 0:
        return out
    if replacement:
        if cdf is None or stats is None:
            raise ValueError(f"{name}: sampling with replacement needs the cdf and stats of multinomial_row_stats")
        check_same_device(name, p, cdf, stats)
        numel = out.numel()
        block, num_warps = elementwise_launch_config(numel)
        shift = int(offset) % 4
        grid = (cdiv(numel + shift, block),)
        inverse_cdf_kernel[grid](
            out, cdf, stats, numel, categories, num_samples, categories.bit_length(),
            int(seed), int(offset) // 4, shift, MANTISSA=53 if cdf.dtype == torch.float64 else 24,
            BLOCK=block, INT64_INDEX=numel + shift + block >= 2**31, num_warps=num_warps,
        )  # fmt: skip
        return out
    if num_samples > categories:
        raise ValueError(f"{name}: cannot sample {num_samples} > {categories} categories without replacement")
    index_bits = _index_bits(categories)
    keys = torch.empty((rows, categories), dtype=torch.int64, device=p.device)
    _launch_keys(race_keys_kernel, keys, (p,), (categories,), seed, offset, INDEX_BITS=index_bits)
    _sort_rows(keys, out, index_bits)
    return out

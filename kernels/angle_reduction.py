"""float32 sin, cos and tan for every |x| up to float32's largest: an exact argument reduction.

sin(x) needs x mod pi/2, and a float32 x near 3.4e38 is about 2^126 quarter turns: any reduction
by a rounded pi/2 (one float64 step, say) has no correct bits left beyond |x| ~ 2^53. The
reduction here is exact instead (the idea of Payne and Hanek's): a float32 x is m 2^e with m an
integer of at most 24 bits, and 2/pi is split into chunks of 24 bits c_i, so every product x c_i
has at most 48 significant bits and is exact in float64. Only x (2/pi) mod 4 matters (the
quadrant and the angle in it), so each product is reduced mod 4 on its own, which is also exact
(p - 4 round(p / 4) of a float64 p keeps p's grid), and the residues are added with an error-free
two-sum. Ten chunks (240 bits of 2/pi) leave some 80 correct bits below the units place even at
x = 3.4e38, where float32's nearest approach to a multiple of pi/2 needs about 30 of them.

The functions take float32 (or narrower, widened) lanes and return float64 results for the
caller to round, so the results are float32's correct rounding (torch's sinf/cosf/tanf are
within one ulp of it).
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _residue_into(total, carry, x64, chunk):
    """(total, carry) + (x64 chunk mod 4), the residue taken in [-2, 2] so that a small product
    stays itself (a residue in [0, 4) would add 4 to a tiny negative one and lose its bits). The
    product and its residue are exact; the sum is a two-sum, whose rounding error goes into carry."""
    product = x64 * chunk
    residue = product - 4.0 * tl.floor(product * 0.25 + 0.5)
    added = total + residue
    back = added - total
    error = (total - (added - back)) + (residue - back)
    return added, carry + error


@triton.jit
def quarter_turns(x):
    """(q, a) with x = (4k + q) pi/2 + a, q in {0, 1, 2, 3} (as float64) and |a| <= pi/4 about,
    a in float64: exact reduction for a float32 x (NaN for inf and NaN)."""
    x64 = x.to(tl.float64)
    total = tl.zeros_like(x64)
    carry = tl.zeros_like(x64)
    # 2/pi in chunks of 24 bits (each exact in float32 too, so no constant loses a bit)
    total, carry = _residue_into(total, carry, x64, 0.6366197466850281)
    total, carry = _residue_into(total, carry, x64, 2.5682552973194106e-08)
    total, carry = _residue_into(total, carry, x64, 2.937095214933759e-16)
    total, carry = _residue_into(total, carry, x64, 3.2543794001732456e-23)
    total, carry = _residue_into(total, carry, x64, 1.2089613708828537e-29)
    total, carry = _residue_into(total, carry, x64, 5.667556795740071e-37)
    total, carry = _residue_into(total, carry, x64, 2.6204031112097215e-44)
    total, carry = _residue_into(total, carry, x64, 7.053957680880629e-52)
    total, carry = _residue_into(total, carry, x64, 1.582624282116559e-58)
    total, carry = _residue_into(total, carry, x64, 6.375014128012717e-66)
    turns = tl.floor(total + 0.5)
    fraction = (total - turns) + carry  # (total - turns is exact: both lie on total's grid)
    quadrant = turns - 4.0 * tl.floor(turns * 0.25)
    # pi/2 in three parts of 24 bits: the angle keeps float64's relative accuracy
    angle = fraction * 1.570796251296997 + fraction * 7.549789415861596e-08 + fraction * 5.390302529957765e-15
    return quadrant, angle


@triton.jit
def sin_of_float32(x):
    """sin(x) in float64 for a float32 x; sin(-0.0) is -0.0."""
    quadrant, angle = quarter_turns(x)
    s = tl.sin(angle)
    c = tl.cos(angle)
    y = tl.where(quadrant == 0.0, s, tl.where(quadrant == 1.0, c, tl.where(quadrant == 2.0, -s, -c)))
    return tl.where(x == 0.0, x.to(tl.float64), y)


@triton.jit
def cos_of_float32(x):
    """cos(x) in float64 for a float32 x."""
    quadrant, angle = quarter_turns(x)
    s = tl.sin(angle)
    c = tl.cos(angle)
    return tl.where(quadrant == 0.0, c, tl.where(quadrant == 1.0, -s, tl.where(quadrant == 2.0, -c, s)))


@triton.jit
def tan_of_float32(x):
    """tan(x) in float64 for a float32 x (period pi: -cot of the angle in odd quadrants)."""
    quadrant, angle = quarter_turns(x)
    s = tl.sin(angle)
    c = tl.cos(angle)
    odd = (quadrant == 1.0) | (quadrant == 3.0)
    y = tl.where(odd, -c / s, s / c)
    return tl.where(x == 0.0, x.to(tl.float64), y)

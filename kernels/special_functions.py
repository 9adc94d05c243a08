"""Device functions of torch.special: erfcx, log_ndtr, ndtri, the modified Bessel functions
i0/i1 (and their exponentially scaled forms), spherical_bessel_j0 and the regularized incomplete
gamma functions P(a, x) and Q(a, x).

Each takes float64 lanes and returns float64 (the elementwise kernels' branches cast before and
after, as for kernels/gamma_functions.py): the Chebyshev sums and series below are accurate to a
few float64 ulp, so a float32 result is the correctly rounded one nearly always. The methods are
the classical ones torch also uses, so the special values (infinities, NaN, poles) come out as
torch's: the Bessel functions follow Cephes (Moshier: Chebyshev expansions on [0, 8] and on
8/x), ndtri Cephes' three rational approximations, the incomplete gamma functions the power
series and Legendre's continued fraction (DLMF 8.7.3, 8.9.2, Cephes' igam/igamc). erfcx reuses
fdlibm's erfc (kernels/activation.py) with exp(x^2) formed without the rounding of x^2, and an
asymptotic series from x = 25 on, where erfc itself underflows.
"""

from __future__ import annotations

import triton
import triton.language as tl

from tritongrad.kernels.activation import erf_pair_of_magnitude
from tritongrad.kernels.gamma_functions import log_gamma

_INV_SQRT_PI = tl.constexpr(0.5641895835477563)  # 1 / sqrt(pi)
_SQRT_HALF = tl.constexpr(0.7071067811865476)
_MACHEP = tl.constexpr(1.1102230246251565e-16)  # 2^-53: a series term below it times the sum ends the series
_MAX_ITERATIONS = tl.constexpr(4000)  # series/continued-fraction terms per lane (a up to ~1e5 near x ~ a)
_BIG = tl.constexpr(4.503599627370496e15)  # the continued fraction's rescaling threshold (2^52)
_BIG_INVERSE = tl.constexpr(2.220446049250313e-16)


# ----------------------------------------------------------------------------------------------
# erfcx and log_ndtr
# ----------------------------------------------------------------------------------------------


@triton.jit
def _exp_of_square(a):
    """exp(a^2) for a >= 0 (float64) without the rounding error of a*a, which exp would multiply by
    a^2 (1e-14 relative at a = 10): a = head + tail with head's low 32 bits cleared, so head^2 is
    exact and only the small 2 head tail + tail^2 part rounds."""
    head = (a.to(tl.int64, bitcast=True) & -4294967296).to(tl.float64, bitcast=True)
    return tl.exp(head * head) * tl.exp((a - head) * (a + head))


@triton.jit
def erfcx(x):
    """exp(x^2) erfc(x) (float64). Below 25, erfc (fdlibm, relative accuracy kept in its tail) times
    exp(x^2); from 25 on the asymptotic series 1/(x sqrt(pi)) sum (-1)^n (2n-1)!! / (2x^2)^n, whose
    eighth term is below 2^-53 there. Negative x: 2 exp(x^2) - erfcx(-x), inf below -26.7."""
    a = tl.abs(x)
    near = tl.minimum(a, 25.0)
    _, erfc_near = erf_pair_of_magnitude(near)
    scaled_near = erfc_near * _exp_of_square(near)
    far = tl.maximum(a, 25.0)
    w = 1.0 / (2.0 * far * far)
    series = 1.0 - w * (1.0 - 3.0 * w * (1.0 - 5.0 * w * (1.0 - 7.0 * w * (1.0 - 9.0 * w * (1.0 - 11.0 * w * (
        1.0 - 13.0 * w * (1.0 - 15.0 * w)))))))  # fmt: skip
    scaled_far = series * _INV_SQRT_PI / far
    magnitude = tl.where(a < 25.0, scaled_near, scaled_far)
    doubled = 2.0 * _exp_of_square(tl.minimum(a, 27.0))
    negative = tl.where(x < -26.7, float("inf"), doubled - magnitude)
    result = tl.where(x < 0.0, negative, magnitude)
    return tl.where(x != x, x, result)


@triton.jit
def log_ndtr(x):
    """log of the standard normal CDF, as torch: log(erfcx(-t) / 2) - t^2 below x = -1 (t = x / sqrt 2),
    which stays finite however far the tail goes; log1p(-erfc(t) / 2) above."""
    t = x * _SQRT_HALF
    tail = tl.log(erfcx(-t) * 0.5) - t * t
    erf_magnitude, erfc_magnitude = erf_pair_of_magnitude(tl.abs(t))
    erfc_t = tl.where(t < 0.0, 1.0 + erf_magnitude, erfc_magnitude)
    body = _log1p(-0.5 * erfc_t)
    result = tl.where(x < -1.0, tail, body)
    return tl.where(x != x, x, result)


@triton.jit
def _log1p(x):
    """log(1 + x) with Goldberg's compensation (kernels/elementwise.py has the same, but it imports
    this module: importing it here would run the import the wrong way round)."""
    u = 1.0 + x
    compensated = tl.log(u) * (x / (u - 1.0))
    return tl.where(u == 1.0, x, tl.where(u == float("inf"), u, compensated))


@triton.jit
def _expm1(x):
    """exp(x) - 1 with Kahan's compensation (likewise a copy of kernels/elementwise.py's)."""
    u = tl.exp(x)
    shifted = u - 1.0
    compensated = shifted * (x / tl.log(u))
    result = tl.where(shifted == -1.0, shifted, compensated)
    result = tl.where(u == float("inf"), u, result)
    return tl.where((u == 1.0) | (x != x), x, result)


# ----------------------------------------------------------------------------------------------
# ndtri
# ----------------------------------------------------------------------------------------------


@triton.jit
def ndtri(y):
    """The standard normal quantile (Cephes' ndtri): a rational function of y - 1/2 on the central
    [exp(-2), 1 - exp(-2)], and beyond it of 1/z with z = sqrt(-2 log y) (two fits: z < 8, z >= 8),
    the upper tail through the symmetry ndtri(1 - y) = -ndtri(y). 0 and 1 give -inf and inf."""
    upper = y > 0.8646647167633873  # 1 - exp(-2)
    tail_y = tl.where(upper, 1.0 - y, y)
    # central: x = (y - 1/2) + (y - 1/2) u^2 P0(u^2) / Q0(u^2), times sqrt(2 pi)
    u = y - 0.5
    u2 = u * u
    p0 = u2 * -5.99633501014107895267e1 + 9.80010754185999661536e1
    p0 = p0 * u2 - 5.66762857469070293439e1
    p0 = p0 * u2 + 1.39312609387279679503e1
    p0 = p0 * u2 - 1.23916583867381258016e0
    q0 = u2 + 1.95448858338141759834e0
    q0 = q0 * u2 + 4.67627912898881538453e0
    q0 = q0 * u2 + 8.63602421390890590575e1
    q0 = q0 * u2 - 2.25462687854119370527e2
    q0 = q0 * u2 + 2.00260212380060660359e2
    q0 = q0 * u2 - 8.20372256168333339912e1
    q0 = q0 * u2 + 1.59056225126211695515e1
    q0 = q0 * u2 - 1.18331621121330003142e0
    central = (u + u * (u2 * p0 / q0)) * 2.50662827463100050242e0
    # tails: x = z - log(z) / z - (1/z) P(1/z) / Q(1/z)
    z = tl.sqrt(-2.0 * tl.log(tl.minimum(tail_y, 0.5)))
    w = 1.0 / z
    p1 = w * 4.05544892305962419923e0 + 3.15251094599893866154e1
    p1 = p1 * w + 5.71628192246421288162e1
    p1 = p1 * w + 4.40805073893200834700e1
    p1 = p1 * w + 1.46849561928858024014e1
    p1 = p1 * w + 2.18663306850790267539e0
    p1 = p1 * w - 1.40256079171354495875e-1
    p1 = p1 * w - 3.50424626827848203418e-2
    p1 = p1 * w - 8.57456785154685413611e-4
    q1 = w + 1.57799883256466749731e1
    q1 = q1 * w + 4.53907635128879210584e1
    q1 = q1 * w + 4.13172038254672030440e1
    q1 = q1 * w + 1.50425385692907503408e1
    q1 = q1 * w + 2.50464946208309415979e0
    q1 = q1 * w - 1.42182922854787788574e-1
    q1 = q1 * w - 3.80806407691578277194e-2
    q1 = q1 * w - 9.33259480895457427372e-4
    p2 = w * 3.23774891776946035970e0 + 6.91522889068984211695e0
    p2 = p2 * w + 3.93881025292474443415e0
    p2 = p2 * w + 1.33303460815807542389e0
    p2 = p2 * w + 2.01485389549179081538e-1
    p2 = p2 * w + 1.23716634817820021358e-2
    p2 = p2 * w + 3.01581553508235416007e-4
    p2 = p2 * w + 2.65806974686737550832e-6
    p2 = p2 * w + 6.23974539184983293730e-9
    q2 = w + 6.02427039364742014255e0
    q2 = q2 * w + 3.67983563856160859403e0
    q2 = q2 * w + 1.37702099489081330271e0
    q2 = q2 * w + 2.16236993594496635890e-1
    q2 = q2 * w + 1.34204006088543189037e-2
    q2 = q2 * w + 3.28014464682127739104e-4
    q2 = q2 * w + 2.89247864745380683936e-6
    q2 = q2 * w + 6.79019408009981274425e-9
    correction = tl.where(z < 8.0, w * p1 / q1, w * p2 / q2)
    tail = (z - tl.log(z) / z) - correction
    tail = tl.where(upper, tail, -tail)
    result = tl.where((y > 0.1353352832366127) & (y <= 0.8646647167633873), central, tail)
    result = tl.where((y < 0.0) | (y > 1.0), float("nan"), result)
    result = tl.where(y == 0.0, -float("inf"), result)
    result = tl.where(y == 1.0, float("inf"), result)
    return tl.where(y != y, y, result)


# ----------------------------------------------------------------------------------------------
# Modified Bessel functions of the first kind (Cephes' Chebyshev expansions)
# ----------------------------------------------------------------------------------------------


@triton.jit
def _clenshaw(b0, b1, y, c):
    """One step of Clenshaw's recurrence for a Chebyshev sum (Cephes' chbevl): (b0, b1, b2) after
    adding coefficient c; the sum is (b0 - b2) / 2 after the last."""
    return y * b0 - b1 + c, b0, b1


@triton.jit
def _i0e_near(y):
    """exp(-x) I0(x) on [0, 8], at y = x / 2 - 2."""
    b0 = tl.zeros_like(y) - 4.41534164647933937950e-18
    b1 = tl.zeros_like(y)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.33079451882223809783e-17)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.43127984654795469359e-16)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.71539128555513303061e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.16853328779934516808e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, 7.67618549860493561688e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.85644678311192946090e-13)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.95505266312963983461e-12)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.72682629144155570723e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, 9.67580903537323691224e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, -5.18979560163526290666e-10)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.65982372468238665035e-9)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.30002500998624804212e-8)
    b0, b1, b2 = _clenshaw(b0, b1, y, 6.04699502254191894932e-8)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.67079385394061173391e-7)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.11738753912010371815e-6)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.41673835845875056359e-6)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.64484480707288970893e-5)
    b0, b1, b2 = _clenshaw(b0, b1, y, -5.75419501008210370398e-5)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.88502885095841655729e-4)
    b0, b1, b2 = _clenshaw(b0, b1, y, -5.76375574538582365885e-4)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.63947561694133579842e-3)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.32430999505057594430e-3)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.05464603945949983183e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.37374148058994688156e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.93052842396707084878e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, -9.49010970480476444210e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.71620901522208775349e-1)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.04682672343198398683e-1)
    b0, b1, b2 = _clenshaw(b0, b1, y, 6.76795274409476084995e-1)
    return 0.5 * (b0 - b2)


@triton.jit
def _i0e_far(y):
    """exp(-x) sqrt(x) I0(x) on [8, inf), at y = 32 / x - 2."""
    b0 = tl.zeros_like(y) - 7.23318048787475395456e-18
    b1 = tl.zeros_like(y)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.83050448594418207126e-18)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.46562142029675999901e-17)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.46122286769746109310e-17)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.82762398051658348494e-16)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.42548561967721913462e-16)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.77256013305652638360e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.81168066935262242075e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, -9.55484669882830764870e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.15056934728722208663e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.54008621752140982691e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.85277838274214270114e-13)
    b0, b1, b2 = _clenshaw(b0, b1, y, 7.18012445138366623367e-13)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.79417853150680611778e-12)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.32158118404477131188e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.14991652796324136454e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.18891471078464383424e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.94060238822496958910e-10)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.39623202570838634515e-9)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.26666899049817806459e-8)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.04891858946906374183e-7)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.89137052083475648297e-6)
    b0, b1, b2 = _clenshaw(b0, b1, y, 6.88975834691682398426e-5)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.36911647825569408990e-3)
    b0, b1, b2 = _clenshaw(b0, b1, y, 8.04490411014108831608e-1)
    return 0.5 * (b0 - b2)


@triton.jit
def _i1e_near(y):
    """exp(-x) I1(x) / x on [0, 8], at y = x / 2 - 2."""
    b0 = tl.zeros_like(y) + 2.77791411276104639959e-18
    b1 = tl.zeros_like(y)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.11142121435816608115e-17)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.55363195773620046921e-16)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.10559694773538630805e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, 7.60068429473540693410e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, -5.04218550472791168711e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.22379336594557470981e-13)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.98397439776494371520e-12)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.17361862988909016308e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, -6.66348972350202774223e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.62559028155211703701e-10)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.88724975172282928790e-9)
    b0, b1, b2 = _clenshaw(b0, b1, y, 9.38153738649577178388e-9)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.44505912879632808065e-8)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.00329475355213526229e-7)
    b0, b1, b2 = _clenshaw(b0, b1, y, -8.56872026469545474066e-7)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.47025130813767847674e-6)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.32731636560394358279e-5)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.78156510755005422638e-5)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.61760815825896745588e-4)
    b0, b1, b2 = _clenshaw(b0, b1, y, 5.12285956168575772895e-4)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.51357245063125314899e-3)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.15642294431288815669e-3)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.05640848946261981558e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.47264490306265168283e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, -5.29459812080949914269e-2)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.02643658689847095384e-1)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.76416518357834055153e-1)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.52587186443633654823e-1)
    return 0.5 * (b0 - b2)


@triton.jit
def _i1e_far(y):
    """exp(-x) sqrt(x) I1(x) on [8, inf), at y = 32 / x - 2."""
    b0 = tl.zeros_like(y) + 7.51729631084210481353e-18
    b1 = tl.zeros_like(y)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.41434832307170791151e-18)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.65030536848935832153e-17)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.20952592199342395980e-17)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.96262899764595013876e-16)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.30820231092092828324e-16)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.88035477551078244854e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.81440307243700780478e-15)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.04202769841288027642e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, 4.27244001671195135429e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.10154184277266431302e-14)
    b0, b1, b2 = _clenshaw(b0, b1, y, -4.08355111109219731823e-13)
    b0, b1, b2 = _clenshaw(b0, b1, y, -7.19855177624590851209e-13)
    b0, b1, b2 = _clenshaw(b0, b1, y, 2.03562854414708950722e-12)
    b0, b1, b2 = _clenshaw(b0, b1, y, 1.41258074366137813316e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, 3.25260358301548823856e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.89749581235054123450e-11)
    b0, b1, b2 = _clenshaw(b0, b1, y, -5.58974346219658380687e-10)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.83538038596423702205e-9)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.63146884688951950684e-8)
    b0, b1, b2 = _clenshaw(b0, b1, y, -2.51223623787020892529e-7)
    b0, b1, b2 = _clenshaw(b0, b1, y, -3.88256480887769039346e-6)
    b0, b1, b2 = _clenshaw(b0, b1, y, -1.10588938762623716291e-4)
    b0, b1, b2 = _clenshaw(b0, b1, y, -9.76109749136146840777e-3)
    b0, b1, b2 = _clenshaw(b0, b1, y, 7.78576235018280120474e-1)
    return 0.5 * (b0 - b2)


@triton.jit
def bessel_i(x, ORDER: tl.constexpr, SCALED: tl.constexpr):
    """I0(x) / I1(x) (ORDER 0 / 1), times exp(-|x|) when SCALED (i0e, i1e). Past 8 the expansion is
    of exp(-x) sqrt(x) I(x), divided by sqrt(x) here: at infinity the unscaled forms are
    inf / inf = NaN and the scaled ones 0, as torch's (Cephes') are."""
    a = tl.abs(x)
    near_y = tl.minimum(a, 8.0) * 0.5 - 2.0
    far_y = 32.0 / tl.maximum(a, 8.0) - 2.0
    if ORDER == 0:
        near = _i0e_near(near_y)
        far = _i0e_far(far_y)
    else:
        near = _i1e_near(near_y) * a
        far = _i1e_far(far_y)
    if SCALED:
        magnitude = tl.where(a <= 8.0, near, far / tl.sqrt(a))
    else:
        growth = tl.exp(a)
        magnitude = tl.where(a <= 8.0, growth * near, growth * far / tl.sqrt(a))
    if ORDER == 1:
        magnitude = tl.where(x < 0.0, -magnitude, magnitude)
    return magnitude


@triton.jit
def spherical_bessel_j0(x):
    """sin(x) / x; below |x| = 1/2 its Taylor series (no cancellation, 1 at 0), 0 at +-inf."""
    x2 = x * x
    series = x2 * (1.0 / 6227020800.0) - 1.0 / 39916800.0
    series = series * x2 + 1.0 / 362880.0
    series = series * x2 - 1.0 / 5040.0
    series = series * x2 + 1.0 / 120.0
    series = series * x2 - 1.0 / 6.0
    series = series * x2 + 1.0
    result = tl.where(tl.abs(x) < 0.5, series, tl.sin(x) / x)
    return tl.where(tl.abs(x) == float("inf"), 0.0, result)


# ----------------------------------------------------------------------------------------------
# Regularized incomplete gamma functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def _log1pmx(t):
    """log(1 + t) - t: its Taylor series below |t| = 1/4 (28 terms, below 2^-60 relative), where
    the subtraction would cancel; the subtraction above."""
    series = tl.zeros_like(t)
    for k in tl.static_range(29, 1, -1):
        if k % 2 == 0:
            series = series * t - 1.0 / k
        else:
            series = series * t + 1.0 / k
    series = series * t * t
    direct = tl.log(1.0 + t) - t
    return tl.where(tl.abs(t) < 0.25, series, direct)


@triton.jit
def _log_gamma_1p(a):
    """log Gamma(1 + a), relative to its size for small |a| (where the upper series needs it and
    log Gamma near 1 is only accurate in absolute terms): below |a| = 0.2 the Taylor series
    -gamma a + sum over k >= 2 of (-1)^k zeta(k) / k a^k (25 terms, below 2^-60 there)."""
    series = tl.zeros_like(a) + 0.03846153903467518
    series = 0.04000000119214014 - a * series
    series = 0.04166666915034121 - a * series
    series = 0.04347826605304026 - a * series
    series = 0.04545455629320467 - a * series
    series = 0.047619070330142226 - a * series
    series = 0.05000004769810169 - a * series
    series = 0.05263167937961666 - a * series
    series = 0.055555767627403614 - a * series
    series = 0.058823978658684585 - a * series
    series = 0.06250095514121304 - a * series
    series = 0.06666870588242046 - a * series
    series = 0.07143294629536133 - a * series
    series = 0.0769325164113522 - a * series
    series = 0.083353840546109 - a * series
    series = 0.09095401714582904 - a * series
    series = 0.1000994575127818 - a * series
    series = 0.11133426586956469 - a * series
    series = 0.12550966952474304 - a * series
    series = 0.1440498967688461 - a * series
    series = 0.1695571769974082 - a * series
    series = 0.20738555102867398 - a * series
    series = 0.27058080842778454 - a * series
    series = 0.40068563438653143 - a * series
    series = 0.8224670334241132 - a * series
    series = a * (a * series - 0.5772156649015329)
    return tl.where(tl.abs(a) < 0.2, series, log_gamma(1.0 + a))


@triton.jit
def _power_factor(a, x):
    """x^a exp(-x) / Gamma(a), the factor in front of both series and the continued fraction. For
    a >= 10 with x within 40% of a, from Stirling's series: a log1pmx((x - a) / a) + log(a / 2 pi) / 2
    minus the Stirling correction, which keeps the digits a log x - x - lgamma(a) would lose."""
    direct = tl.exp(a * tl.log(x) - x - log_gamma(a))
    big_a = tl.maximum(a, 10.0)
    r = 1.0 / big_a
    r2 = r * r
    correction = r2 * (1.0 / 156.0) - 691.0 / 360360.0
    correction = correction * r2 + 1.0 / 1188.0
    correction = correction * r2 - 1.0 / 1680.0
    correction = correction * r2 + 1.0 / 1260.0
    correction = correction * r2 - 1.0 / 360.0
    correction = correction * r2 + 1.0 / 12.0
    correction = correction * r
    exponent = big_a * _log1pmx((x - big_a) / big_a) + 0.5 * tl.log(big_a * 0.15915494309189535) - correction
    stirling = tl.exp(exponent)
    return tl.where((a >= 10.0) & (tl.abs(x - a) <= 0.4 * a), stirling, direct)


@triton.jit
def _lower_series(a, x, factor, needed):
    """P(a, x) = factor / a * sum over n >= 0 of x^n / ((a + 1)...(a + n)) (DLMF 8.11.4), summed in
    the ``needed`` lanes (elsewhere it may not converge: the loop runs while any lane is active)."""
    r = a
    term = tl.full(a.shape, 1.0, tl.float64)
    total = term
    active = needed & (factor != 0.0)
    iteration = 0
    while (tl.max(active.to(tl.int32), axis=0) > 0) & (iteration < _MAX_ITERATIONS):
        r += 1.0
        term = tl.where(active, term * (x / r), term)
        total = tl.where(active, total + term, total)
        active = active & (term > _MACHEP * total)
        iteration += 1
    return total * factor / a


@triton.jit
def _upper_series(a, x, needed):
    """Q(a, x) for x <= 1.1 from DLMF 8.7.3, arranged as Cephes does to avoid cancellation:
    -expm1(a log x - lgamma(1 + a)) - x^a / Gamma(a) * sum over n >= 1 of (-x)^n / (n! (a + n))."""
    factorial = tl.full(a.shape, 1.0, tl.float64)
    total = tl.zeros_like(a)
    n = tl.zeros_like(a)
    active = needed
    iteration = 0
    while (tl.max(active.to(tl.int32), axis=0) > 0) & (iteration < _MAX_ITERATIONS):
        n += 1.0
        factorial = tl.where(active, factorial * (-x / n), factorial)
        term = factorial / (a + n)
        total = tl.where(active, total + term, total)
        active = active & (tl.abs(term) > _MACHEP * tl.abs(total))
        iteration += 1
    exponent = a * tl.log(x) - _log_gamma_1p(a)
    return -_expm1(exponent) - a * tl.exp(exponent) * total  # (x^a / Gamma(a) = a x^a / Gamma(1 + a))


@triton.jit
def _upper_continued_fraction(a, x, factor, needed):
    """Q(a, x) = factor * Legendre's continued fraction (DLMF 8.9.2, Cephes' igamc), evaluated by
    the forward recurrence with rescaling when the partial numerators grow past 2^52."""
    y = 1.0 - a
    z = x + y + 1.0
    c = tl.zeros_like(a)
    p_before = tl.full(a.shape, 1.0, tl.float64)
    q_before = x
    p_last = x + 1.0
    q_last = z * x
    answer = p_last / q_last
    active = needed & (factor != 0.0)
    iteration = 0
    while (tl.max(active.to(tl.int32), axis=0) > 0) & (iteration < _MAX_ITERATIONS):
        c += 1.0
        y += 1.0
        z += 2.0
        yc = y * c
        p = p_last * z - p_before * yc
        q = q_last * z - q_before * yc
        ratio = p / tl.where(q != 0.0, q, 1.0)
        change = tl.where(q != 0.0, tl.abs((answer - ratio) / ratio), 1.0)
        answer = tl.where(active & (q != 0.0), ratio, answer)
        rescale = tl.where(tl.abs(p) > _BIG, _BIG_INVERSE, 1.0)
        p_before = tl.where(active, p_last * rescale, p_before)
        q_before = tl.where(active, q_last * rescale, q_before)
        p_last = tl.where(active, p * rescale, p_last)
        q_last = tl.where(active, q * rescale, q_last)
        active = active & (change > _MACHEP)
        iteration += 1
    return answer * factor


@triton.jit
def incomplete_gamma(a, x, UPPER: tl.constexpr):
    """The regularized incomplete gamma function P(a, x) (torch.special.gammainc), or Q(a, x) =
    1 - P (gammaincc) when UPPER. Each lane takes the expansion that converges and keeps its
    digits (the series for P below x ~ a, the continued fraction or the small-x series for Q
    beyond), the other function as 1 minus it, with torch's choice of regions and its values on
    the boundary: NaN for negative arguments, a = 0 (x > 0) gives P = 1, x = 0 gives P = 0."""
    factor = _power_factor(a, x)
    small_x = x <= 1.1
    # torch's calc_igammac: which expression Q comes from (P: the series unless x > max(1, a))
    lower_for_q = tl.where(
        small_x,
        tl.where(x <= 0.5, -0.4 / tl.log(x) < a, x * 1.1 < a),
        x < a,
    )
    defined = (x > 0.0) & (a > 0.0) & (x < float("inf")) & (a < float("inf"))
    lower = _lower_series(a, x, factor, defined & (lower_for_q | ~((x > 1.0) & (x > a))))
    upper_small = _upper_series(a, tl.minimum(x, 1.1), defined & small_x & ~lower_for_q)
    upper_far = _upper_continued_fraction(a, tl.maximum(x, 1.1), factor, defined & ~small_x & ~lower_for_q)
    q = tl.where(lower_for_q, 1.0 - lower, tl.where(small_x, upper_small, upper_far))
    if UPPER:
        result = q
        boundary_a_zero = tl.where(x > 0.0, 0.0, float("nan"))
        at_x_zero = 1.0
        at_a_inf = 1.0
        at_x_inf = 0.0
    else:
        result = tl.where((x > 1.0) & (x > a), 1.0 - q, lower)
        boundary_a_zero = tl.where(x > 0.0, 1.0, float("nan"))
        at_x_zero = 0.0
        at_a_inf = 0.0
        at_x_inf = 1.0
    result = tl.where((x != x) | (a != a), x + a, result)
    # torch's boundary values, its first check applied last (a = NaN with x = 0 gives P = 0, as its)
    result = tl.where(x == float("inf"), at_x_inf, result)
    result = tl.where(a == float("inf"), tl.where(x == float("inf"), float("nan"), at_a_inf), result)
    result = tl.where(x == 0.0, at_x_zero, result)
    result = tl.where(a == 0.0, boundary_a_zero, result)
    return tl.where((x < 0.0) | (a < 0.0), float("nan"), result)

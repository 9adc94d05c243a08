"""torch.nn.utils.parametrizations: orthogonal, weight_norm and spectral_norm as parametrizations
(``parametrize.register_parametrization``), with torch's state-dict layout:
``parametrizations.weight.original`` (orthogonal, spectral_norm; plus orthogonal's
``parametrizations.weight.0.base`` and spectral_norm's ``parametrizations.weight.0._u/_v``) and
``parametrizations.weight.original0/original1`` (weight_norm's g and v).

The matrix exponential is linalg.matrix_exp (ops/linalg_composed.py); the Householder product and
geqrf are composed here from elementwise ops (``_householder_product``, ``_geqrf``). Differences
from torch: matrix_exp reads the scaling it needs back to the host once per call; random draws
(spectral_norm's initial u/v, orthogonal's completion of
a non-square matrix) come from tritongrad's generator, so they differ from torch's under the same
seed, and complex tensors are not supported.
"""

from __future__ import annotations

from enum import Enum, auto

import torch

from tritongrad import creation
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.nn import functional as F
from tritongrad.nn.module import Module
from tritongrad.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from tritongrad.nn.utils import parametrize
from tritongrad.nn.utils.spectral_norm import weight_as_matrix
from tritongrad.nn.utils.weight_norm import _weight_norm, norm_except_dim
from tritongrad.ops import cat, where
from tritongrad.ops.linalg_composed import matrix_exp
from tritongrad.ops.linalg_factor import solve
from tritongrad.ops.linalg_spectral import linalg_qr
from tritongrad.tensor import Tensor

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ---------------------------------------------------------------------------------------------
# The matrix functions behind the orthogonal maps, composed of existing ops
# ---------------------------------------------------------------------------------------------


def _eye_like(X: Tensor, rows: int, columns: int) -> Tensor:
    """The (rows, columns) identity, broadcast over X's batch dims (a view, no copies)."""
    eye = creation.eye(rows, columns, dtype=X.dtype, device=X.device)
    return eye.expand(*X.shape[:-2], rows, columns)


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """torch.linalg.householder_product: the first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T,
    for A (..., n, k) holding v_i below its diagonal (v_i = 1 at i, 0 above) and tau (..., k).

    The reflectors are applied, last first, to the (n, k) identity.
    """
    n, k = A.shape[-2], A.shape[-1]
    V = A.tril(-1) + _eye_like(A, n, k)
    Q = _eye_like(A, n, k)
    for i in range(k - 1, -1, -1):
        v = V[..., :, i : i + 1]
        # (v^T Q and the outer product as broadcasts: cheaper than thin matmuls for these sizes)
        Q = Q - (v * tau[..., i : i + 1].unsqueeze(-1)) * (v * Q).sum(dim=-2, keepdim=True)
    return Q


def _geqrf(A: Tensor) -> tuple[Tensor, Tensor]:
    """torch.geqrf (LAPACK's) for a real (..., n, k) matrix, n >= k: R on and above the diagonal, the
    Householder vectors v_i (unit first entry implied) below it, and tau (..., k), column by column
    as LAPACK's dgeqr2/dlarfg (no gradient: only right_inverse uses it). A column with nothing below
    its diagonal gets tau = 0 (no reflection) and keeps its diagonal entry, as LAPACK's."""
    n, k = A.shape[-2], A.shape[-1]
    A = A.clone()
    taus = []
    with no_grad():
        for j in range(k):
            alpha = A[..., j, j]
            below = A[..., j + 1 :, j]
            below_norm = below.norm(dim=-1) if j + 1 < n else creation.zeros_like(alpha)
            identity = below_norm == 0
            beta = -(alpha.square() + below_norm.square()).sqrt() * where(alpha >= 0, 1.0, -1.0)
            beta = where(identity, alpha, beta)
            safe = where(identity, 1.0, alpha - beta)
            tau = where(identity, 0.0, (beta - alpha) / where(identity, 1.0, beta))
            taus.append(tau.unsqueeze(-1))
            if j + 1 < n:
                A[..., j + 1 :, j] = below / safe.unsqueeze(-1)
            A[..., j, j] = beta
            if j + 1 < k:  # apply H_j = I - tau v v^T to the columns on the right
                v = cat([creation.ones_like(alpha).unsqueeze(-1), A[..., j + 1 :, j]], dim=-1).unsqueeze(-1)
                rest = A[..., j:, j + 1 :]
                projection = (v * rest).sum(dim=-2, keepdim=True)  # v^T rest
                A[..., j:, j + 1 :] = rest - (v * tau.unsqueeze(-1).unsqueeze(-1)) * projection
    return A, cat(taus, dim=-1)


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * torch.finfo(Q.dtype).eps
    return bool((Q.mH @ Q).allclose(_eye_like(Q, k, k), atol=eps))


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with diag(R) >= 0: unique, so linalg.qr's Q with its signs fixed
    is torch's geqrf + householder_product one."""
    Q, R = linalg_qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


# ---------------------------------------------------------------------------------------------
# orthogonal
# ---------------------------------------------------------------------------------------------


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Maps a matrix (batch) X to an orthogonal one of its shape (torch's three maps); with
    ``use_trivialization`` the result is ``base @ map(X)``, ``base`` a buffer set by right_inverse."""

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is tall (n >= k) from here on
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()  # n k - k (k - 1) / 2 parameters
            if n != k:  # embedded in a square matrix
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^-1
                identity = _eye_like(A, n, n)
                Q = solve(identity - A * 0.5, identity + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # X's diagonal holds the signs (+-1) of Q's columns; not differentiated (as torch's int cast)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {Q.shape}."
            )
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley parametrizations when "
                    "use_trivialization=False."
                )
            # Householder: the reflectors of Q's QR decomposition, the diagonal the signs of R's
            # (flipped where LAPACK did not reflect, since the forward map always does).
            A, tau = _geqrf(Q)
            diagonal = A.diagonal(dim1=-2, dim2=-1)
            diagonal.copy_(diagonal.sgn() * where(tau == 0, -1.0, 1.0).to(A.dtype))
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q to a full n x n orthogonal matrix
            completion = creation.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(cat([Q, completion], dim=-1))
        self.base = Q
        # -I: X's diagonal is the householder map's signs, and the maps send it to I (so Q = base)
        neg_identity = creation.zeros_like(Q_init)
        neg_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_identity


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:  # fmt: skip
    """Makes ``module.<name>`` (a matrix or batch of matrices) orthogonal: orthonormal columns when it
    is tall, rows when wide, as torch.nn.utils.parametrizations.orthogonal.

    ``orthogonal_map``: "matrix_exp" (default for square matrices), "cayley" or "householder"
    (default otherwise). ``use_trivialization`` keeps a ``base`` (the initial orthogonal matrix, the
    weight orthogonalised by QR) so that the map starts from the identity.

    >>> layer = orthogonal(nn.Linear(4, 6))
    >>> bool((layer.weight.T @ layer.weight).allclose(tritongrad.eye(4), atol=1e-5))
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------------------------------------
# weight_norm
# ---------------------------------------------------------------------------------------------


class _WeightNorm(Module):
    """w = g * v / ||v||, the norm over every dim but ``dim`` (None: the whole tensor); the math is
    the hook-based weight_norm's (nn/utils/weight_norm.py)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization as a parametrization: ``parametrizations.<name>.original0`` is g (the
    norms, kept dims) and ``original1`` is v. Loading a state dict of the hook-based form
    (``<name>_g``/``<name>_v``) maps its keys to these, as torch does.

    >>> m = weight_norm(nn.Linear(20, 40))
    >>> m.parametrizations.weight.original0.shape, m.parametrizations.weight.original1.shape
    (torch.Size([40, 1]), torch.Size([40, 20]))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def from_hook_based_keys(state_dict: dict, prefix: str) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    parametrize.add_state_dict_completion(module, from_hook_based_keys)
    return module


# ---------------------------------------------------------------------------------------------
# spectral_norm
# ---------------------------------------------------------------------------------------------


class _SpectralNorm(Module):
    """w / sigma(w), sigma estimated by power iteration on the buffers ``_u`` and ``_v`` (15 steps at
    registration, ``n_power_iterations`` per forward in training mode; u first, then v, as torch's
    parametrization -- the hook-based form updates v first); a vector is just normalized."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = weight_as_matrix(weight, self.dim)
            height, width = matrix.shape
            with no_grad():
                u = matrix.new_empty(height).normal_(0, 1)
                v = matrix.new_empty(width).normal_(0, 1)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(matrix, 15)

    def _power_method(self, matrix: Tensor, n_power_iterations: int) -> None:
        """Updates ``_u``/``_v`` in place (outside the graph): u = W v / |W v|, then v = W^T u / |W^T u|."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(matrix.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(matrix.mH.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = weight_as_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        # (copies: the graph keeps this step's vectors, which later iterations overwrite in place)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(matrix.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:  # fmt: skip
    """Spectral normalization as a parametrization: ``module.<name>`` is ``original / sigma(original)``
    (``dim`` defaults to 1 for transposed convolutions, whose output channels are dim 1, else 0).

    >>> m = spectral_norm(nn.Linear(20, 40))
    >>> sorted(m.state_dict())
    ['bias', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v', 'parametrizations.weight.original']
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module

"""Matrix products: matmul/mm/bmm/mv/dot on kernels/matmul.py, and their backwards.

Vectors are handled as views: a 1-D left operand is a (1, K) row, a 1-D right
operand a (K, 1) column, and the added dim is squeezed away after the product,
exactly torch.matmul's rules. The backward is two more products with the same
kernel reading transposed operands in place (no copies), reduced over
broadcast batch dims.
"""

from __future__ import annotations

import torch

from tritongrad import backends, caller_warnings, creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import complex_scalar_as, dtype_word, type_meta_name
from tritongrad.kernels import complex as complex_kernels
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import matmul as kernels
from tritongrad.kernels import reduce as reduce_kernels
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops import arithmetic
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.out_argument import check_no_grad, write_out
from tritongrad.ops.table import reduce_grad
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods


def _wrap(data):
    return Tensor._wrap(data)


class MatmulFunction(Function):
    """a @ b for a (..., M, K) and b (..., K, N) with broadcast batch dims.

    A 1-D ``a`` is read as a (1, K) row and a 1-D ``b`` as a (K, 1) column (views), and
    the added dim is dropped from the result inside this one node, so the node's name
    can be torch's for each form (MvBackward0, SqueezeBackward4, UnsafeViewBackward0).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.a_shape, ctx.b_shape = tuple(a.shape), tuple(b.shape)
        a_data = a._data.unsqueeze(0) if a.dim() == 1 else a._data
        b_data = b._data.unsqueeze(-1) if b.dim() == 1 else b._data
        _refuse_bool_product(a_data, b_data, a.dim(), b.dim())
        product = _launch_product(a_data, b_data)
        if b.dim() == 1:
            product = product.squeeze(-1)
        if a.dim() == 1:
            product = product.squeeze(-2)
        return _wrap(product)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_vector, b_vector = len(ctx.a_shape) == 1, len(ctx.b_shape) == 1
        # Put the dropped dims back so the products below are plain (batched) matrix products.
        if b_vector:
            grad = grad.unsqueeze(-1)
        if a_vector:
            grad = grad.unsqueeze(-2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            b_matrix = b.unsqueeze(-1) if b_vector else b
            a_matrix_shape = (1,) + ctx.a_shape if a_vector else ctx.a_shape
            grad_a = _sum_to(_product(grad, b_matrix.mT), a_matrix_shape).reshape(ctx.a_shape)
        if ctx.needs_input_grad[1]:
            a_matrix = a.unsqueeze(0) if a_vector else a
            b_matrix_shape = ctx.b_shape + (1,) if b_vector else ctx.b_shape
            grad_b = _sum_to(_product(a_matrix.mT, grad), b_matrix_shape).reshape(ctx.b_shape)
        return grad_a, grad_b


def _product(a, b):
    """a @ b; an outer product (inner size 1, as in the backward of mv or of a vector @ matrix)
    is a broadcast multiply: one elementwise kernel instead of a K=1 matmul, and the signs of
    zero products stay as torch computes them (an accumulator starting at +0 would turn -0 to +0)."""
    if a.shape[-1] == 1:
        return a * b
    return a @ b


class Mm(MatmulFunction):
    _backward_name = "MmBackward0"


class Bmm(MatmulFunction):
    _backward_name = "BmmBackward0"


class BatchedMatmul(MatmulFunction):
    _backward_name = "UnsafeViewBackward0"


def _sum_to(grad, shape):
    return grad if tuple(grad.shape) == tuple(shape) else grad.sum_to_size(shape)


def _check_operands(name: str, a, b) -> None:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): arguments must be Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.dim() == 0 or b.dim() == 0:
        raise RuntimeError(f"both arguments to {name} need to be at least 1D, but they are {a.dim()}D and {b.dim()}D")
    if a.dtype != b.dtype:
        _refuse_mixed_dtypes(a, b)


def _refuse_mixed_dtypes(a, b) -> None:
    """torch's refusal of operands of two dtypes, worded by the kernel the product's form reaches: dot, addmv (a
    matrix or batch times a vector), mm (both at most 2-D, or a batch folded onto a matrix), else bmm."""
    if a.dim() == 1 and b.dim() == 1:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {dtype_word(a.dtype)} and {dtype_word(b.dtype)}"
        )
    if b.dim() == 1:
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {dtype_word(b.dtype)}, {dtype_word(a.dtype)}, and "
            f"{dtype_word(b.dtype)}"
        )
    if b.dim() == 2:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{type_meta_name(a.dtype)} != {type_meta_name(b.dtype)}"
        )
    if a.dtype == torch.bool:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    raise RuntimeError(f"expected scalar type {dtype_word(a.dtype)} but found {dtype_word(b.dtype)}")


def _refuse_bool_product(a_data: torch.Tensor, b_data: torch.Tensor, a_dim: int, b_dim: int) -> None:
    """torch has no bool product kernel, but returns without one when there is nothing to sum
    (an empty result, or K == 0: all False); the error names torch's CPU kernel for the form."""
    if a_data.dtype != torch.bool or a_data.shape[-1] == 0:
        return
    batch = broadcast_shapes(a_data.shape[:-2], b_data.shape[:-2])
    if 0 in batch or a_data.shape[-2] == 0 or b_data.shape[-1] == 0:
        return
    kernel = "addmv_impl_cpu" if b_dim == 1 else "bmm" if b_dim >= 3 else "addmm_impl_cpu_"
    raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _launch_product(a_data: torch.Tensor, b_data: torch.Tensor) -> torch.Tensor:
    """The product kernel for the operands' dtype: tensor-core tiles for floats, int64 sums for
    integers; a bool product is only asked for when it has nothing to sum (all False: the uint8
    kernel's zeros, read as bool)."""
    if a_data.dtype.is_floating_point:
        return kernels.launch_matmul(a_data, b_data, allow_tf32=backends.cuda.matmul.allow_tf32)
    if a_data.dtype.is_complex:  # (four real products of the parts)
        return complex_kernels.launch_complex_matmul(a_data, b_data, allow_tf32=backends.cuda.matmul.allow_tf32)
    if a_data.dtype == torch.bool:
        return kernels.launch_integer_matmul(a_data.view(torch.uint8), b_data.view(torch.uint8)).view(torch.bool)
    return kernels.launch_integer_matmul(a_data, b_data)


def _launch_dot(a_data: torch.Tensor, b_data: torch.Tensor) -> torch.Tensor:
    """A floating dot product as products then one sum, accumulated in float32 for the half types (a
    1 x n by n x 1 matmul tile spends most of its loads on padding; in the interpreter a tile loop
    costs ~60 ms where the two launches cost ~2, which is what LBFGS, made of dots, runs on)."""
    if not a_data.dtype.is_floating_point:
        return _launch_product(a_data.unsqueeze(0), b_data.unsqueeze(1)).view(())
    accumulate = torch.float32 if a_data.dtype in (torch.float16, torch.bfloat16) else a_data.dtype
    products = elementwise_kernels.launch_binary("mul", a_data, b_data, out_dtype=accumulate, compute=accumulate)
    return reduce_kernels.launch_sum(products, (), False, out_dtype=a_data.dtype)


@autocast_op("matmul")
def matmul(input, other, *, out=None):
    """torch.matmul: vector/matrix/batched products with broadcast batch dims."""
    if out is not None:
        return _product_out("matmul", matmul, input, other, out)
    if type(input) is Tensor and type(other) is Tensor:
        a_data, b_data = input._data, other._data
        if (
            a_data.dim() == 2
            and b_data.dim() == 2
            and a_data.dtype == b_data.dtype
            and a_data.dtype.is_floating_point
            and a_data.shape[1] == b_data.shape[0]
            and not ((input.requires_grad or other.requires_grad) and is_grad_enabled())
        ):
            # The common product, checked and recorded nowhere else: no node, no vector views.
            return _wrap(kernels.launch_matmul(a_data, b_data, allow_tf32=backends.cuda.matmul.allow_tf32))
    _check_operands("matmul", input, other)
    if input.dim() == 1 and other.dim() == 1:
        return dot(input, other)
    a_rows = input.shape[-2] if input.dim() > 1 else 1
    b_rows = other.shape[-2] if other.dim() > 1 else other.shape[0]
    if input.shape[-1] != b_rows:
        if other.dim() == 1 and input.dim() == 2:
            raise RuntimeError(f"size mismatch, got input ({a_rows}), mat ({a_rows}x{input.shape[-1]}), vec ({b_rows})")
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a_rows}x{input.shape[-1]} and "
            f"{b_rows}x{other.shape[-1] if other.dim() > 1 else 1})"
        )
    if input.dim() <= 2 and other.dim() <= 2:
        function = {(2, 2): Mm, (2, 1): MvProduct, (1, 2): VectorMatrix}[(input.dim(), other.dim())]
    else:
        function = BatchedMatmul
    return function.apply(input, other)


_matmul = matmul.__wrapped__  # (for mv, which has its own autocast policy: not matmul's)


class MvProduct(MatmulFunction):
    _backward_name = "MvBackward0"


class VectorMatrix(MatmulFunction):
    # torch computes vector @ matrix as unsqueeze, mm, squeeze_: its last node is SqueezeBackward4.
    _backward_name = "SqueezeBackward4"


@autocast_op("mm")
def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors."""
    if out is not None:
        return _product_out("mm", mm, input, mat2, out)
    _check_operands("mm", input, mat2)
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("self must be a matrix" if input.dim() != 2 else "mat2 must be a matrix")
    return matmul(input, mat2)


@autocast_op("bmm")
def bmm(input, mat2, *, out=None):
    """Batched product of two 3-D tensors with equal batch sizes."""
    if out is not None:
        return _product_out("bmm", bmm, input, mat2, out)
    _check_operands("bmm", input, mat2)
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.dim() != 3 else "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] "
            f"but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return Bmm.apply(input, mat2)


def _product_out(name: str, product, a, b, out):
    """``out=`` of a product: torch's checks (no autograd, out has the result dtype), then a copy."""
    check_no_grad(name, out, a, b)
    return write_out(name, out, product(a, b), a, b)


@autocast_op("mv")
def mv(input, vec, *, out=None):
    """Matrix @ vector (``out=``: of the result's dtype)."""
    _check_operands("mv", input, vec)
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.dim()}, {vec.dim()}")
    if out is not None:
        check_no_grad("mv", out, input, vec)
        return write_out("mv", out, _matmul(input, vec), input, vec)
    return _matmul(input, vec)


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors: input[:, None] * vec2[None, :] (one broadcast multiply; with
    ``out=``, torch's mul out=: any dtype the result casts to). The operands' dtypes promote as the
    multiply's do (an int64 arange times float32 frequencies is float32; real times complex, complex)."""
    if not isinstance(input, Tensor) or not isinstance(vec2, Tensor):
        raise TypeError(f"outer(): arguments must be Tensors, got {type(input).__name__} and {type(vec2).__name__}")
    for name, operand in (("self", input), ("vec2", vec2)):
        if operand.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {operand.dim()}-D")
    if out is not None:
        return arithmetic.mul(input.unsqueeze(1), vec2, out=out)  # (vec2 as torch passes it: its overlap check)
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


@autocast_op("dot")
def dot(input, other, *, out=None):
    """Inner product of two 1-D tensors of the same length (``out=``: of the inputs' dtype)."""
    _check_operands("dot", input, other)
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
            "to have the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    if input.dtype == torch.bool:  # even when empty, as torch's
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    if out is not None:
        check_no_grad("dot", out, input, other)
        if isinstance(out, Tensor) and out.dtype != input.dtype:
            raise RuntimeError(
                f"result dtype {dtype_word(out.dtype)} does not match input dtype {dtype_word(input.dtype)}"
            )
        return write_out("dot", out, Dot.apply(input, other), input, other)
    return Dot.apply(input, other)


class Dot(Function):
    @staticmethod
    def forward(ctx, a, b):
        # Each operand only for the other's gradient, as torch's: a write into an operand whose
        # partner needs no gradient is no version error there.
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        return _wrap(_launch_dot(a._data, b._data))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad * b if ctx.needs_input_grad[0] else None
        grad_b = grad * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


# ------------------------------------------------------------------------------ addmm and its family
# beta * input + alpha * (product): one graph node named as torch's (AddmmBackward0, ...). The product
# is the matmul kernel, the scaling and the sum are elementwise kernels (a fused epilogue would save
# one pass over the result; these ops are rare outside of linear layers, which have their own kernel).


def _scaled(t, factor):
    return t if factor == 1 else t * factor


class AddProduct(Function):
    """beta * input + alpha * product(a, b); ``form`` says which product (mm, mv, bmm, or addbmm's
    sum of the batch of matrix products). beta == 0 ignores input (NaN in it does not propagate)."""

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha, form):
        ctx.beta, ctx.alpha, ctx.form, ctx.input_shape = beta, alpha, form, tuple(input.shape)
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None, b if ctx.needs_input_grad[1] else None)
        product = matmul(a, b)
        if form == "addbmm":
            product = product.sum(0)
        product = _scaled(product, alpha)
        if beta == 0:
            return product
        return product + _scaled(input, beta)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_input = grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_input = _sum_to(_scaled(grad, ctx.beta), ctx.input_shape)
        if ctx.form == "addbmm":  # every matrix of the batch received the same gradient
            grad = grad.unsqueeze(0)
        if ctx.needs_input_grad[1]:
            grad_a = _scaled(grad.unsqueeze(-1) * b if ctx.form == "mv" else grad @ b.mT, ctx.alpha)
        if ctx.needs_input_grad[2]:
            grad_b = _scaled(a.mT @ grad, ctx.alpha)
        return grad_input, grad_a, grad_b, None, None, None


class Addmm(AddProduct):
    _backward_name = "AddmmBackward0"


class Addmv(AddProduct):
    _backward_name = "AddmvBackward0"


class Baddbmm(AddProduct):
    _backward_name = "BaddbmmBackward0"


class Addbmm(AddProduct):
    _backward_name = "AddbmmBackward0"


def _check_add_product(name: str, input, a, b, form: str) -> tuple:
    """torch's checks of addmm/addmv/baddbmm/addbmm operands; returns the product's shape."""
    names = {"mm": ("mat1", "mat2"), "mv": ("mat", "vec")}.get(form, ("batch1", "batch2"))
    for position, (argument, value) in enumerate(zip(("input", *names), (input, a, b)), start=1):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
            )
    if form == "mm":
        for label, t in (("mat1", a), ("mat2", b)):
            if t.dim() != 2:
                raise RuntimeError(f"{label} must be a matrix, got {t.dim()}-D tensor")
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
            )
        shape = (a.shape[0], b.shape[1])
    elif form == "mv":
        if a.dim() != 2 or b.dim() != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {a.dim()}, {b.dim()}")
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input ({input.shape[0] if input.dim() else 1}), mat "
                f"({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})"
            )
        shape = (a.shape[0],)
    else:
        for label, t in (("batch1", a), ("batch2", b)):
            if t.dim() != 3:
                raise RuntimeError(f"{label} must be a 3D tensor")
        if form == "addbmm" and a.shape[0] != b.shape[0]:
            raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {a.shape[0]} and {b.shape[0]}")
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise RuntimeError(
                "Expected size for first two dimensions of batch2 tensor to be: "
                f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]."
            )
        shape = (a.shape[1], b.shape[2]) if form == "addbmm" else (a.shape[0], a.shape[1], b.shape[2])
    if form == "mv" and not input.dtype == a.dtype == b.dtype:
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {_dtype_name(input)}, {_dtype_name(a)}, and "
            f"{_dtype_name(b)}"
        )
    if form == "bmm" and not input.dtype == a.dtype == b.dtype:
        if input.dtype != a.dtype:
            raise RuntimeError(
                f"Input dtypes must be the same, got: input {_c_name(input)}, batch1: {_c_name(a)}, "
                f"batch2: {_c_name(b)}"
            )
        raise RuntimeError(f"expected scalar type {_dtype_name(a)} but found {_dtype_name(b)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dtype_name(a)} and {_dtype_name(b)}")
    if input.dtype != a.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(input)} and {_dtype_name(a)}")
    input.expand(shape)  # (torch's message when input does not broadcast to the product's shape)
    return shape


def _dtype_name(t) -> str:
    return dtype_word(t.dtype)


def _c_name(t) -> str:
    return type_meta_name(t.dtype)


def _factor(value, dtype):
    """alpha/beta as the tensors' type takes them (torch truncates a float factor for integer tensors; a
    complex one fits a real type only without an imaginary part, else torch's overflow error)."""
    if isinstance(value, complex) and not dtype.is_complex:
        value = complex_scalar_as(value, dtype)
    return value if dtype.is_floating_point or dtype.is_complex else int(value)


_ADD_PRODUCTS = {"mm": ("addmm", Addmm), "mv": ("addmv", Addmv), "bmm": ("baddbmm", Baddbmm),
                 "addbmm": ("addbmm", Addbmm)}  # fmt: skip


def _add_product(form: str, input, a, b, beta, alpha, out):
    name, function = _ADD_PRODUCTS[form]
    _check_add_product(name, input, a, b, form)
    beta, alpha = _factor(beta, input.dtype), _factor(alpha, input.dtype)
    if out is not None:
        check_no_grad(name, out, input, a, b)
        return write_out(name, out, function.apply(input, a, b, beta, alpha, form), input, a, b, overlap=True)
    return function.apply(input, a, b, beta, alpha, form)


def _add_product_(form: str, self, a, b, beta, alpha):
    """The in-place form: self must already have the result's shape (torch's 'Bad in-place call')."""
    name, function = _ADD_PRODUCTS[form]
    shape = _check_add_product(name, self, a, b, form)
    if tuple(self.shape) != tuple(shape):
        raise RuntimeError(
            f"Bad in-place call: input tensor size {list(self.shape)} and output tensor size {list(shape)} should match"
        )
    beta, alpha = _factor(beta, self.dtype), _factor(alpha, self.dtype)
    needs_grad = [t for t in (a, b) if t.requires_grad]

    def into_self() -> None:
        result = function.apply(self, a, b, beta, alpha, form)  # (out of place first: a or b may alias self)
        elementwise_kernels.launch_unary("copy", result._data, out=self._data)

    return apply_inplace(
        self, lambda s: function.apply(s, a, b, beta, alpha, form), into_self, needs_grad[0] if needs_grad else None
    )


@autocast_op("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2) for 2-D mat1 (n, m), mat2 (m, p); input broadcasts to (n, p)."""
    return _add_product("mm", input, mat1, mat2, beta, alpha, out)


@autocast_op("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec) for mat (n, m), vec (m,); input broadcasts to (n,)."""
    return _add_product("mv", input, mat, vec, beta, alpha, out)


@autocast_op("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2) for (b, n, m) @ (b, m, p); input broadcasts to (b, n, p)."""
    # torch sizes the result (batch1.size(0), batch1.size(1), batch2.size(2)) before any check: too few dims
    # there are its IndexError
    for operand, dim in ((batch1, 1), (batch2, 2)):
        if isinstance(operand, Tensor) and operand.dim() <= dim:
            normalize_dim(dim, operand.dim())
    return _add_product("bmm", input, batch1, batch2, beta, alpha, out)


@autocast_op("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]; input broadcasts to (n, p)."""
    return _add_product("addbmm", input, batch1, batch2, beta, alpha, out)


def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    return _add_product_("mm", self, mat1, mat2, beta, alpha)


def addmv_(self, mat, vec, *, beta=1, alpha=1):
    return _add_product_("mv", self, mat, vec, beta, alpha)


def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return _add_product_("bmm", self, batch1, batch2, beta, alpha)


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return _add_product_("addbmm", self, batch1, batch2, beta, alpha)


ADD_PRODUCT_METHODS = ("addmm", "addmv", "baddbmm", "addbmm", "addmm_", "addmv_", "baddbmm_", "addbmm_")


def linalg_cross(input, other, *, dim: int = -1, out=None):
    """The cross product of 3-vectors along ``dim`` (broadcasting the other dims), torch.linalg.cross:
    a[1:2:0] * b[2:0:1] - a[2:0:1] * b[1:2:0], gathered and multiplied by the elementwise kernels.
    ``out=``: of the result's dtype, not partly one of the inputs."""
    if out is not None:
        check_no_grad("linalg_cross", out, input, other)
        result = linalg_cross(input, other, dim=dim)
        return write_out("linalg_cross", out, result, input, other, overlap=True, alias=False)
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {dtype_word(input.dtype)} but found {dtype_word(other.dtype)}")
    if input.dim():
        normalize_dim(dim, input.dim())  # (torch's IndexError for a dim out of range)
    sizes = (input.shape[dim] if input.dim() else 0, other.shape[dim] if other.dim() else 0)
    if sizes != (3, 3):
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sizes[0]} and {sizes[1]}")
    if input.dtype == torch.bool:  # (its kernel has no bool version)
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    next_, after = (creation.tensor(order, device=input.device) for order in ((1, 2, 0), (2, 0, 1)))
    return input.index_select(dim, next_) * other.index_select(dim, after) - input.index_select(
        dim, after
    ) * other.index_select(dim, next_)


@autocast_op("cross")
def cross(input, other, dim: int | None = None, *, out=None):
    """torch.cross: ``linalg.cross`` along ``dim``; without one, along the first dim of size 3 (with
    torch's deprecation warning). ``out=``: of the result's dtype, not partly one of the inputs."""
    if dim is None:
        caller_warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
            "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree with "
            "that of linalg.cross in a future release.",
            UserWarning,
        )
        dim = next(
            (d for d, size in enumerate(broadcast_shapes(tuple(input.shape), tuple(other.shape))) if size == 3), -1
        )
    return linalg_cross(input, other, dim=dim, out=out)  # (torch's words in its errors: its cross is linalg's)


_ = reduce_grad


attach_methods({name: globals()[name] for name in ("matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "cross")})
attach_methods({name: globals()[name] for name in ADD_PRODUCT_METHODS})

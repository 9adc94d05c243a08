"""matmul / mm / bmm / mv / dot (ops/linalg.py): values, gradients and grad_fn names against torch.

The reference is torch in float64 on the same values, rounded to the tested dtype.
The interpreter's matmul tiles are 128 wide, so "> one tile" means a dim above 128.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.autograd_utils import TOLERANCES, assert_close, to_tg
from tests.utils import make_pair

# (a shape, b shape, what it exercises)
FORMS = {
    "dot": ((5,), (5,)),  # 1-D @ 1-D
    "vector_matrix": ((3,), (3, 4)),  # 1-D @ 2-D: the row is squeezed away
    "matrix_vector": ((4, 3), (3,)),  # 2-D @ 1-D: mv
    "matrix_matrix_primes": ((5, 7), (7, 3)),  # primes
    "size_one": ((1, 1), (1, 1)),  # size 1
    "outer_k1": ((4, 1), (1, 3)),  # K = 1: an outer product
    "batched_same": ((2, 3, 4), (2, 4, 5)),  # 3-D @ 3-D
    "batched_broadcast_left": ((2, 3, 4), (4, 5)),  # batch dims broadcast: b's gradient sums over them
    "batched_broadcast_both": ((2, 1, 3, 4), (3, 4, 2)),  # batch dims (2, 1) x (3,) -> (2, 3)
    "vector_batched": ((4,), (2, 4, 3)),  # 1-D @ 3-D
    "batched_vector": ((2, 3, 4), (4,)),  # 3-D @ 1-D
}
NAMES = {
    "dot": "DotBackward0",
    "vector_matrix": "SqueezeBackward4",
    "matrix_vector": "MvBackward0",
    "matrix_matrix_primes": "MmBackward0",
    "size_one": "MmBackward0",
    "outer_k1": "MmBackward0",
    "batched_same": "UnsafeViewBackward0",
    "batched_broadcast_left": "UnsafeViewBackward0",
    "batched_broadcast_both": "UnsafeViewBackward0",
    "vector_batched": "UnsafeViewBackward0",
    "batched_vector": "UnsafeViewBackward0",
}


def reference(a: torch.Tensor, b: torch.Tensor, upstream_seed: int = 7, op=torch.matmul, transform=None):
    """torch's product of transform(a), transform(b) and the gradients of a and b, in float64
    and rounded to a's dtype."""
    transform = transform or (lambda t: t)
    a64, b64 = a.double().requires_grad_(), b.double().requires_grad_()
    out = op(transform(a64), transform(b64))
    upstream = torch.randn(
        tuple(out.shape), dtype=torch.float64, generator=torch.Generator().manual_seed(upstream_seed)
    )
    out.backward(upstream)
    return out.detach().to(a.dtype), a64.grad.to(a.dtype), b64.grad.to(b.dtype), upstream


def check_product(a: torch.Tensor, b: torch.Tensor, what: str, op=torch.matmul, tg_op=None, transform=None):
    """tritongrad's product and gradients against the float64 reference; ``transform`` makes views."""
    transform = transform or (lambda t: t)
    want_out, want_grad_a, want_grad_b, upstream = reference(a, b, op=op, transform=transform)
    tg_a, tg_b = to_tg(a, requires_grad=True), to_tg(b, requires_grad=True)
    out = (
        (tg_op or op)(transform(tg_a), transform(tg_b))
        if tg_op
        else tritongrad.matmul(transform(tg_a), transform(tg_b))
    )
    tolerances = TOLERANCES[a.dtype] if a.dtype != torch.float32 else (2e-5, 2e-5)
    assert out.dtype == a.dtype, f"{what}: output dtype {out.dtype}"
    assert_close(out, want_out, f"{what} forward {tuple(a.shape)} @ {tuple(b.shape)} {a.dtype}", tolerances=tolerances)
    out.backward(to_tg(upstream.to(a.dtype)))
    assert_close(tg_a.grad, want_grad_a, f"{what} grad a {tuple(a.shape)} {a.dtype}", tolerances=tolerances)
    assert_close(tg_b.grad, want_grad_b, f"{what} grad b {tuple(b.shape)} {b.dtype}", tolerances=tolerances)
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("form", list(FORMS))
def test_matmul_forms(form, dtype):
    a_shape, b_shape = FORMS[form]
    a, b = torch.randn(a_shape).to(dtype), torch.randn(b_shape).to(dtype)
    out = check_product(a, b, form)
    assert out.grad_fn.name() == NAMES[form]


def transposed_copy(t: torch.Tensor) -> torch.Tensor:
    """Same values, stored transposed in the last two dims (so .mT of a leaf gives them back)."""
    return t.mT.contiguous() if t.dim() >= 2 else t


@pytest.mark.parametrize("form", ["matrix_matrix_primes", "batched_broadcast_left", "matrix_vector"])
def test_matmul_of_transposed_operands(form):
    # non-contiguous: both operands are .mT views of their leaves
    a_shape, b_shape = FORMS[form]
    a, b = torch.randn(a_shape), torch.randn(b_shape)
    storage_a, storage_b = transposed_copy(a), transposed_copy(b)
    transform = lambda t: t.mT if t.dim() >= 2 else t  # noqa: E731
    check_product(storage_a, storage_b, f"{form} transposed", transform=transform)


def test_matmul_of_sliced_and_expanded_operands():
    # non-contiguous: a strided slice on the left, an expanded (zero-stride) batch on the right
    a = torch.randn(2, 3, 8)
    b = torch.randn(1, 4, 5)
    results = []
    for lib in (torch, tritongrad):
        la = a.clone().requires_grad_() if lib is torch else to_tg(a, requires_grad=True)
        lb = b.clone().requires_grad_() if lib is torch else to_tg(b, requires_grad=True)
        out = la[:, :, ::2] @ lb.expand(2, 4, 5)
        out.backward(lib.ones(tuple(out.shape)) if lib is torch else tritongrad.ones(tuple(out.shape)))
        results.append((out, la.grad, lb.grad))
    for index, what in enumerate(["forward", "grad a", "grad b"]):
        assert_close(results[1][index], results[0][index].detach(), f"sliced/expanded {what}")


def test_matmul_larger_than_one_tile():
    a, b = torch.randn(130, 9), torch.randn(9, 131)  # M and N above the 128-wide interpreter tile
    check_product(a, b, "> one tile")


def test_matmul_with_empty_inner_dim():
    # K = 0: the product is zeros and the gradients are empty
    a, b = torch.randn(3, 0), torch.randn(0, 2)
    out = check_product(a, b, "K=0")
    assert out.tolist() == [[0.0, 0.0]] * 3


@pytest.mark.parametrize(
    "name, op, a_shape, b_shape",
    [
        ("mm", torch.mm, (3, 4), (4, 2)),
        ("bmm", torch.bmm, (2, 3, 4), (2, 4, 2)),
        ("mv", torch.mv, (3, 4), (4,)),
        ("dot", torch.dot, (4,), (4,)),
    ],
)
def test_named_products(name, op, a_shape, b_shape):
    a, b = torch.randn(a_shape), torch.randn(b_shape)
    out = check_product(a, b, name, op=op, tg_op=getattr(tritongrad, name))
    want_name = op(a.requires_grad_(), b.requires_grad_()).grad_fn.name()
    assert out.grad_fn.name() == want_name


def test_tensor_methods_and_operator():
    a, b = torch.randn(2, 3), torch.randn(3, 2)
    ta, tb = to_tg(a), to_tg(b)
    for got in (ta @ tb, ta.matmul(tb), ta.mm(tb), tritongrad.matmul(ta, tb)):
        assert_close(got, a @ b, "a @ b")


def test_only_inputs_that_require_grad_get_gradients():
    a = tritongrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = tritongrad.tensor([[0.5], [-1.0]])
    (a @ b).sum().backward()
    assert b.grad is None and a.grad.tolist() == [[0.5, -1.0], [0.5, -1.0]]
    node = (a @ b).grad_fn
    assert node.needs_input_grad == (True, False)


def test_signed_zero_of_outer_product_gradient_matches_torch():
    # the seed notebook's W.grad printed -0.0000 where x was 0 and the upstream gradient negative
    results = []
    for lib in (torch, tritongrad):
        w = lib.tensor([[1.0, 2.0], [-3.0, 1.0]], requires_grad=True)
        x = lib.tensor([0.0, 1.0])
        (w @ x).backward(lib.tensor([1.0, -2.0]))
        results.append([str(v) for row in w.grad.tolist() for v in row])
    assert results[1] == results[0]


def double_backward(lib, a, b):
    (grad_a,) = lib.autograd.grad((a @ b).pow(2).sum(), a, create_graph=True)
    (grad_b,) = lib.autograd.grad(grad_a.sum(), b)
    return grad_a.detach(), grad_b


@pytest.mark.parametrize("shapes", [((2, 3), (3, 2)), ((3,), (3, 2)), ((2, 2, 3), (3,))], ids=["mm", "vm", "bv"])
def test_matmul_second_derivatives_match_torch(shapes):
    a = torch.randn(shapes[0], dtype=torch.float64)
    b = torch.randn(shapes[1], dtype=torch.float64)
    want = double_backward(torch, a.clone().requires_grad_(), b.clone().requires_grad_())
    got = double_backward(tritongrad, to_tg(a, True), to_tg(b, True))
    for index in range(2):
        assert_close(got[index], want[index], f"second derivative {index}")


@pytest.mark.parametrize("a_shape, b_shape", [((3,), (4, 2)), ((2, 3), (4,)), ((2, 3), (4, 2)), ((3,), (4,))])
def test_shape_errors_match_torch(a_shape, b_shape):
    with pytest.raises(RuntimeError) as torch_error:
        torch.matmul(torch.ones(a_shape), torch.ones(b_shape))
    with pytest.raises(RuntimeError) as tg_error:
        tritongrad.matmul(tritongrad.ones(a_shape), tritongrad.ones(b_shape))
    assert str(tg_error.value) == str(torch_error.value)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda lib: lib.matmul(lib.ones(2, 2), lib.ones(2, 2, dtype=lib.float64)), "same dtype"),
        (lambda lib: lib.matmul(lib.ones(()), lib.ones(2)), "at least 1D"),
        (lambda lib: lib.mm(lib.ones(2), lib.ones(2, 2)), "matrix"),
        (lambda lib: lib.bmm(lib.ones(2, 2), lib.ones(2, 2, 2)), "3D"),
        (lambda lib: lib.bmm(lib.ones(2, 2, 3), lib.ones(3, 3, 2)), "first two dimensions"),
        (lambda lib: lib.dot(lib.ones(2, 2), lib.ones(2)), "1D tensors expected"),
    ],
    ids=["dtype", "0d", "mm_vector", "bmm_2d", "bmm_batch", "dot_2d"],
)
def test_argument_errors(call, match):
    for lib in (torch, tritongrad):
        with pytest.raises(RuntimeError, match=match):
            call(lib)


def test_outer_and_is_tensor_match_torch():
    a, b = torch.randn(4, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    results = []
    for lib, (x, y) in ((torch, (a.clone().requires_grad_(), b.clone().requires_grad_())),
                        (tritongrad, (to_tg(a, True), to_tg(b, True)))):  # fmt: skip
        product = lib.outer(x, y)
        (product * product).sum().backward()
        results.append((product, x.grad, y.grad, product.grad_fn.name(), lib.is_tensor(x), lib.is_tensor(1.0)))
    got, want = results[1], results[0]
    for index in range(3):
        assert_close(got[index], want[index], f"outer result {index}")
    assert got[3:] == want[3:]
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument self, but got 2-D"):
        tritongrad.outer(to_tg(torch.ones(2, 2, dtype=torch.float64)), to_tg(b))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.linalg.norm(x),
        lambda lib, x: lib.linalg.norm(x[0], ord=float("inf")),
        lambda lib, x: lib.linalg.norm(x, ord=1, dim=1),
        lambda lib, x: lib.linalg.vector_norm(x, ord=3, dim=0, keepdim=True),
        lambda lib, x: lib.linalg.vector_norm(x),
    ],
)
def test_linalg_vector_norms_match_torch(call):
    x = torch.randn(3, 4, dtype=torch.float64)
    assert_close(call(tritongrad, to_tg(x)), call(torch, x), "linalg norm")


@pytest.mark.parametrize("ord", [1, -1, 2, -2, "fro", "nuc", float("inf"), -float("inf")], ids=str)
def test_linalg_norm_of_matrices_matches_torch(ord):
    """Matrix orders go through linalg.matrix_norm (the svd kernel for 2, -2 and 'nuc')."""
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    assert_close(tritongrad.linalg.norm(to_tg(x), ord=ord, dim=(-2, -1)), torch.linalg.norm(x, ord=ord, dim=(-2, -1)),
                 f"linalg.norm ord={ord}")  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8])
def test_integer_products_match_torch(dtype):
    """matmul, mm, mv, dot and bmm of integer tensors, as torch computes them (and the same dtype)."""
    a, b = torch.randint(0, 20, (5, 7)).to(dtype), torch.randint(0, 20, (7, 3)).to(dtype)
    v, batch = torch.randint(0, 20, (7,)).to(dtype), torch.randint(0, 20, (2, 5, 7)).to(dtype)
    ours = {name: tritongrad.Tensor._wrap(t.clone()) for name, t in dict(a=a, b=b, v=v, batch=batch).items()}
    pairs = [
        (ours["a"] @ ours["b"], a @ b),
        (tritongrad.mm(ours["a"], ours["b"]), torch.mm(a, b)),
        (tritongrad.mv(ours["a"], ours["v"]), torch.mv(a, v)),
        (tritongrad.dot(ours["v"], ours["v"]), torch.dot(v, v)),
        (ours["batch"] @ ours["b"], batch @ b),
    ]
    for got, expected in pairs:
        assert got.dtype == expected.dtype and got.tolist() == expected.tolist()


def test_bool_matmul_is_not_implemented_like_torch():
    for lib in (torch, tritongrad):
        x = lib.ones(2, 2, dtype=lib.bool)
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            x @ x


# ------------------------------------------------------------------------------------------------
# addmm / addmv / baddbmm / addbmm: beta * input + alpha * product, one node named as torch's
# ------------------------------------------------------------------------------------------------
# name -> (input shape, operand shapes): input broadcasts to the product's shape where marked.
ADD_PRODUCTS = {
    "addmm": ((3, 4), (3, 5), (5, 4)),  # primes
    "addmm_broadcast_row": ((4,), (3, 7), (7, 4)),  # input (p,) broadcast over the rows
    "addmm_size_one": ((1, 1), (1, 1), (1, 1)),
    "addmm_empty_k": ((2, 3), (2, 0), (0, 3)),  # K = 0: beta * input
    "addmm_empty_rows": ((0, 3), (0, 2), (2, 3)),
    "addmv": ((3,), (3, 5), (5,)),
    "addmv_scalar_input": ((), (4, 2), (2,)),
    "baddbmm": ((2, 3, 4), (2, 3, 5), (2, 5, 4)),
    "baddbmm_broadcast": ((3, 1), (2, 3, 5), (2, 5, 4)),
    "addbmm": ((3, 4), (2, 3, 5), (2, 5, 4)),
    "addbmm_one_batch": ((1, 4), (1, 3, 2), (1, 2, 4)),
}


def _op_of(case: str) -> str:
    return case.split("_")[0]


def _run_both(case, dtype, layout="contiguous", beta=0.5, alpha=2.0, inplace=False):
    """The op on torch (float64 reference rounded to dtype) and tritongrad; returns outputs and grads."""
    shapes = ADD_PRODUCTS[case]
    pairs = [make_pair(s, dtype, layout if len(s) >= 2 else "contiguous", requires_grad=True) for s in shapes]
    op = _op_of(case)
    results = []
    for lib, tensors in ((torch, [p[0].double() for p in pairs]), (tritongrad, [p[1] for p in pairs])):
        if lib is torch:
            tensors = [t.detach().requires_grad_() for t in tensors]
        if inplace:
            target = tensors[0] * 1  # (a non-leaf to write into)
            out = getattr(target, op + "_")(*tensors[1:], beta=beta, alpha=alpha)
        else:
            out = getattr(lib, op)(*tensors, beta=beta, alpha=alpha)
        upstream = torch.linspace(-1, 1, max(out.numel(), 1), dtype=torch.float64)[: out.numel()].reshape(out.shape)
        out.backward(upstream if lib is torch else to_tg(upstream.to(dtype)))
        results.append((out, [t.grad for t in tensors]))
    return results


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("case", list(ADD_PRODUCTS))
def test_add_products_match_torch(case, dtype):
    (want, want_grads), (got, got_grads) = _run_both(case, dtype)
    tolerances = TOLERANCES[dtype] if dtype != torch.float32 else (2e-5, 2e-5)
    assert got.dtype == dtype
    assert_close(got, want.detach().to(dtype), f"{case} {dtype}", tolerances=tolerances)
    for index, (g, w) in enumerate(zip(got_grads, want_grads)):
        assert_close(g, w.to(dtype), f"{case} grad {index} {dtype}", tolerances=tolerances)
    expected_name = {"addmm": "AddmmBackward0", "addmv": "AddmvBackward0", "baddbmm": "BaddbmmBackward0",
                     "addbmm": "AddbmmBackward0"}[_op_of(case)]  # fmt: skip
    assert got.grad_fn.name() == expected_name


@pytest.mark.parametrize("case", ["addmm", "baddbmm", "addmv", "addbmm"])
def test_add_products_in_place_and_transposed(case):
    (want, want_grads), (got, got_grads) = _run_both(
        case, torch.float32, "transposed", beta=1.5, alpha=-1, inplace=True
    )
    assert_close(got, want.detach().float(), f"{case}_ transposed", tolerances=(2e-5, 2e-5))
    for index, (g, w) in enumerate(zip(got_grads, want_grads)):
        assert_close(g, w.float(), f"{case}_ grad {index}", tolerances=(2e-5, 2e-5))
    assert got.grad_fn.name() == want.grad_fn.name()


# Tiny, and only the two forms with a backward branch of their own (addmm and baddbmm share the
# general one, compared with torch.autograd in float64 above): gradcheck perturbs every element,
# and each evaluation is a matmul launch (~0.1 s in the interpreter).
GRADCHECK_SHAPES = {"addmv": ((2,), (2, 3), (3,)), "addbmm": ((2, 2), (2, 2, 1), (2, 1, 2))}


@pytest.mark.parametrize("case", list(GRADCHECK_SHAPES))
def test_add_products_gradcheck_float64(case):
    shapes = GRADCHECK_SHAPES[case]
    inputs = [to_tg(torch.randn(s, dtype=torch.float64), requires_grad=True) for s in shapes]
    function = getattr(tritongrad, case)
    assert tritongrad.autograd.gradcheck(lambda *t: function(*t, beta=0.7, alpha=-1.3), inputs)


def test_add_products_beta_zero_ignores_nan_and_integers_match_torch():
    a, b = torch.randn(2, 3), torch.randn(3, 2)
    nan_input = torch.full((2, 2), float("nan"))
    got = tritongrad.addmm(to_tg(nan_input), to_tg(a), to_tg(b), beta=0)
    assert_close(got, torch.addmm(nan_input, a, b, beta=0), "beta=0 with NaN input")
    ints = [torch.randint(-4, 5, s) for s in ((2, 4), (2, 3), (3, 4))]
    got = tritongrad.addmm(*[to_tg(t) for t in ints], beta=2, alpha=3)
    want = torch.addmm(*ints, beta=2, alpha=3)
    assert got.dtype == torch.int64 and got.tolist() == want.tolist()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.addmm(lib.ones(2, 4), lib.ones(3, 5), lib.ones(5, 4)),  # input does not broadcast
        lambda lib: lib.addmm(lib.ones(3, 4, dtype=lib.float64), lib.ones(3, 5), lib.ones(5, 4)),
        lambda lib: lib.addmm(lib.ones(3, 4), lib.ones(3, 5, dtype=lib.float64), lib.ones(5, 4)),
        lambda lib: lib.addmm(lib.ones(3, 4), lib.ones(3, 5), lib.ones(6, 4)),
        lambda lib: lib.addmm(lib.ones(3, 4), lib.ones(1, 3, 5), lib.ones(5, 4)),
        lambda lib: lib.ones(4).addmm_(lib.ones(3, 5), lib.ones(5, 4)),  # in place needs the full shape
        lambda lib: lib.addmv(lib.ones(3), lib.ones(3, 5), lib.ones(4)),
        lambda lib: lib.baddbmm(lib.ones(2, 3, 4), lib.ones(2, 3, 5), lib.ones(3, 5, 4)),
        lambda lib: lib.baddbmm(lib.ones(2, 3, 4), lib.ones(2, 3, 5), lib.ones(2, 6, 4)),
        lambda lib: lib.addbmm(lib.ones(3, 4), lib.ones(2, 3, 5), lib.ones(3, 5, 4)),
        lambda lib: lib.addmv(lib.ones(3, dtype=lib.float64), lib.ones(3, 5), lib.ones(5)),
        lambda lib: lib.baddbmm(lib.ones(2, 3, 4, dtype=lib.float64), lib.ones(2, 3, 5), lib.ones(2, 5, 4)),
        lambda lib: lib.baddbmm(lib.ones(2, 3, 4), lib.ones(2, 3, 5), lib.ones(2, 5, 4, dtype=lib.float64)),
        lambda lib: lib.addmm(lib.ones(2, 2), [[1.0]], lib.ones(2, 2)),
    ],
)
def test_add_product_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(tritongrad)
    assert str(got.value) == str(want.value)

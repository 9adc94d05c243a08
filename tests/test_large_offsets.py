"""Views whose reachable span passes 2**31 elements, on every kernel family, against torch.

A kernel that computes its addresses in int32 reads or writes far outside its tensor once an
offset passes 2**31 - 1, so such a view must switch it to int64 offsets (kernels/common.py,
``needs_int64_indexing``). Each case builds a sparse strided view of one large allocation
(``torch.empty`` only reserves address space: the few touched pages are all that becomes
resident), fills the viewed elements with random values, runs the op on tritongrad and
compares with torch's answer on a compact copy of the same values. Write cases also check
that the bytes right after each written element are untouched.

1-byte dtypes reach 2**31 elements in a 2 GiB allocation; the float-only families (var,
softmax, float matmul, exp) use float16 views of a 4 GiB reservation of which a few pages
are touched.

An overflowing offset crashes the process, so each case runs in a child process: one helper
process imports tritongrad once and forks a child per case (on a GPU, where forking after
CUDA is initialized is unsafe, each case is a fresh process). The helper watches each
child's resident memory and kills it past ``RSS_LIMIT`` (a kernel writing the whole
reservation must not take the machine's memory), and past ``CASE_TIMEOUT`` seconds.
The child runs under the suite's guards: the torch-compute audit, the interpreter's bounds
checker and its int32 overflow checks.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.guards import InterpreterBoundsChecker, TorchComputeAudit
from tests.utils import assert_close, random_values
from tritongrad import runtime

pytestmark = pytest.mark.slow

LIMIT = 2**31
# The strides below put the last element of each view just past 2**31 elements from its first.
HALF = LIMIT // 2 + 1
RSS_LIMIT = 1 << 30  # bytes a case may add to the helper's resident memory
CASE_TIMEOUT = 240  # seconds
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES: dict[str, Callable[[], None]] = {}


def case(fn: Callable[[], None]) -> Callable[[], None]:
    CASES[fn.__name__] = fn
    return fn


# ----------------------------------------------------------------------------------------------
# Building the views
# ----------------------------------------------------------------------------------------------


def _random(shape, dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.uint8:  # random_values draws integers around 0
        return torch.randint(1, 250, tuple(shape), dtype=dtype)
    return random_values(shape, dtype)


def big_view(shape, strides, dtype: torch.dtype = torch.uint8) -> torch.Tensor:
    """A view of ``shape``/``strides`` into a fresh allocation just large enough for it (plus a
    little), with random values in the viewed elements and in the element after each one."""
    span = sum((size - 1) * stride for size, stride in zip(shape, strides)) + 1
    assert span > LIMIT, f"the view's span {span} does not pass 2**31"
    buffer = torch.empty(span + 64, dtype=dtype)
    view = buffer.as_strided(shape, strides)
    after(view).copy_(_random(shape, dtype))
    view.copy_(_random(shape, dtype))
    return view


def after(view: torch.Tensor) -> torch.Tensor:
    """The elements right after each element of ``view`` in its storage: a write that lands one
    element off (or anywhere between the elements) shows there."""
    return view.as_strided(view.shape, view.stride(), view.storage_offset() + 1)


def tg(view: torch.Tensor, requires_grad: bool = False) -> tritongrad.Tensor:
    """tritongrad's tensor over the same memory (no copy: a copy would touch the whole span)."""
    result = tritongrad.Tensor._wrap(view)
    return result.requires_grad_(True) if requires_grad else result


def small(shape, dtype: torch.dtype = torch.uint8) -> tuple[torch.Tensor, tritongrad.Tensor]:
    values = _random(shape, dtype)
    return values, tritongrad.Tensor._wrap(values.clone())


def check_write(view: torch.Tensor, write_torch: Callable[[torch.Tensor], object], write_ours: Callable) -> None:
    """Runs ``write_ours`` on the big view and ``write_torch`` on a compact copy, then compares the
    view and checks that the element after each one kept its value."""
    neighbours = after(view).clone()
    expected = view.clone()
    write_torch(expected)
    write_ours(tg(view))
    assert_close(view.clone(), expected, what="written view")
    assert_close(after(view).clone(), neighbours, what="elements after the written ones")


# Shapes: ROWS has a huge outer stride (two rows 2**31 apart), COLUMNS a huge inner stride
# (the reduced/scanned/sorted dim walks 2**31 elements in two steps), CUBE three dims. No
# element right after a viewed one is viewed too (see ``after``).
ROWS = ((2, 7), (LIMIT, 2))
COLUMNS = ((5, 3), (2, HALF))
CUBE = ((2, 3, 4), (LIMIT, 9, 2))


# ----------------------------------------------------------------------------------------------
# Cases: elementwise
# ----------------------------------------------------------------------------------------------


@case
def unary_uint8():
    for shape, strides in (ROWS, COLUMNS, ((3,), (LIMIT // 2,))):
        x = big_view(shape, strides)
        assert_close(tg(x).neg(), x.clone().neg(), what=f"neg {shape}")
        assert_close(tg(x).to(torch.float32), x.clone().float(), what=f"to(float32) {shape}")


@case
def unary_float16_exp():
    x = big_view(*COLUMNS, dtype=torch.float16)
    assert_close(tg(x).exp(), x.clone().float().exp().half())


@case
def binary_broadcast_and_both_big():
    x = big_view(*ROWS)
    row, row_ours = small((7,))
    assert_close(tg(x) + row_ours, x.clone() + row, what="big + broadcast row")
    assert_close(tg(x) * tg(x), x.clone() * x.clone(), what="big * big")
    assert_close(tg(x) < row_ours, x.clone() < row, what="comparison")
    y = big_view(*COLUMNS)
    assert_close(tg(y) + tg(y).flip(0) * 3, y.clone() + y.clone().flip(0) * 3, what="flipped view")


@case
def ternary_where():
    x = big_view(*ROWS)
    condition = torch.rand(7) > 0.5
    other, other_ours = small((2, 7))
    expected = torch.where(condition, x.clone(), other)
    assert_close(tritongrad.where(tritongrad.Tensor._wrap(condition.clone()), tg(x), other_ours), expected)
    # the condition itself is the big view
    mask = big_view(*ROWS).view(torch.bool)
    expected = torch.where(mask.clone(), other, 3)
    assert_close(tritongrad.where(tg(mask), other_ours, 3), expected, what="big condition")


# ----------------------------------------------------------------------------------------------
# Cases: reductions
# ----------------------------------------------------------------------------------------------


@case
def sum_all_and_over_dims():
    x = big_view((3,), (LIMIT // 2,))  # issue 17's x[::2**30].sum()
    assert_close(tg(x).sum(), x.clone().sum(), what="sum of 3 elements 2**30 apart")
    for shape, strides in (ROWS, COLUMNS, CUBE):
        x = big_view(shape, strides)
        for dims in [None, 0, 1, (0, -1)]:
            args = () if dims is None else (dims,)
            assert_close(tg(x).sum(*args), x.clone().sum(*args), what=f"sum{shape} dims={dims}")
        assert_close(tg(x).sum(1, keepdim=True), x.clone().sum(1, keepdim=True), what=f"sum{shape} keepdim")


@case
def amax_argmax_max():
    for shape, strides in (ROWS, COLUMNS, CUBE):
        x = big_view(shape, strides)
        for dim in (0, 1, -1):
            assert_close(tg(x).amax(dim), x.clone().amax(dim), what=f"amax{shape} dim={dim}")
            assert_close(tg(x).argmax(dim), x.clone().argmax(dim), what=f"argmax{shape} dim={dim}")
            values, indices = tg(x).max(dim)
            expected = x.clone().max(dim)
            assert_close(values, expected.values, what=f"max{shape} dim={dim} values")
            assert_close(indices, expected.indices, what=f"max{shape} dim={dim} indices")
        assert_close(tg(x).argmax(), x.clone().argmax(), what=f"argmax{shape} of all")


@case
def var_float16_and_backward():
    for shape, strides in (ROWS, COLUMNS):
        x = big_view(shape, strides, dtype=torch.float16)
        for dim in (0, 1):
            expected = x.clone().float().var(dim).half()
            assert_close(tg(x).var(dim), expected, what=f"var{shape} dim={dim}")
    ours = tg(x, requires_grad=True)  # the backward reads the big input again
    ours.var(1).sum().backward()
    leaf = x.clone().float().requires_grad_(True)
    leaf.var(1).sum().backward()
    assert_close(ours.grad, leaf.grad.half(), what="var backward")


# ----------------------------------------------------------------------------------------------
# Cases: index (reads)
# ----------------------------------------------------------------------------------------------


@case
def gather_and_index_select():
    x = big_view(*COLUMNS)
    index = torch.tensor([[2, 0], [1, 1], [0, 2], [2, 2], [1, 0]])
    ours_index = tritongrad.Tensor._wrap(index.clone())
    assert_close(tritongrad.gather(tg(x), 1, ours_index), x.clone().gather(1, index), what="gather dim 1")
    rows = torch.tensor([4, 0, 2, 4])
    ours_rows = tritongrad.Tensor._wrap(rows.clone())
    assert_close(tg(x).index_select(0, ours_rows), x.clone().index_select(0, rows), what="index_select dim 0")
    y = big_view(*ROWS)
    columns = torch.tensor([6, 0, 3])
    ours_columns = tritongrad.Tensor._wrap(columns.clone())
    assert_close(tg(y).index_select(1, ours_columns), y.clone().index_select(1, columns), what="index_select dim 1")
    assert_close(tg(y).index_select(0, tritongrad.Tensor._wrap(torch.tensor([1, 0, 1]))), y.clone()[[1, 0, 1]])


@case
def advanced_indexing_read():
    x = big_view(*ROWS)
    rows, columns = torch.tensor([1, 0, 1]), torch.tensor([6, 2, 0])
    ours_rows, ours_columns = tritongrad.Tensor._wrap(rows.clone()), tritongrad.Tensor._wrap(columns.clone())
    assert_close(tg(x)[ours_rows, ours_columns], x.clone()[rows, columns], what="x[rows, columns]")
    assert_close(tg(x)[:, ours_columns], x.clone()[:, columns], what="x[:, columns]")
    mask = torch.rand(2, 7) > 0.5
    assert_close(tg(x)[tritongrad.Tensor._wrap(mask.clone())], x.clone()[mask], what="x[mask]")
    y = big_view(*COLUMNS)
    assert_close(tg(y)[ours_rows], y.clone()[rows], what="y[rows]")


# ----------------------------------------------------------------------------------------------
# Cases: writes into the big view
# ----------------------------------------------------------------------------------------------


@case
def index_put_and_setitem():
    rows, columns = torch.tensor([1, 0]), torch.tensor([6, 2])
    values, ours_values = small((2,))
    index = (tritongrad.Tensor._wrap(rows.clone()), tritongrad.Tensor._wrap(columns.clone()))

    def ours_index_put(t):
        t.index_put_(index, ours_values)

    check_write(big_view(*ROWS), lambda t: t.index_put_((rows, columns), values), ours_index_put)

    def ours_accumulate(t):
        t.index_put_(index, ours_values, accumulate=True)

    check_write(big_view(*ROWS), lambda t: t.index_put_((rows, columns), values, accumulate=True), ours_accumulate)

    def torch_setitem(t):
        t[:, 1:3] = 5

    def ours_setitem(t):
        t[:, 1:3] = 5

    check_write(big_view(*COLUMNS), torch_setitem, ours_setitem)


@case
def scatter_and_scatter_add():
    index = torch.tensor([[2, 0], [1, 1], [0, 2], [2, 2], [1, 0]])
    ours_index = tritongrad.Tensor._wrap(index.clone())
    source, ours_source = small((5, 2))
    check_write(
        big_view(*COLUMNS), lambda t: t.scatter_(1, index, source), lambda t: t.scatter_(1, ours_index, ours_source)
    )
    check_write(
        big_view(*COLUMNS),
        lambda t: t.scatter_add_(1, index, source),
        lambda t: t.scatter_add_(1, ours_index, ours_source),
    )
    check_write(
        big_view(*COLUMNS),
        lambda t: t.scatter_(1, index, source, reduce="multiply"),
        lambda t: t.scatter_(1, ours_index, ours_source, reduce="multiply"),
    )
    # the source is the big view: its factors are read 2**30 + 1 elements apart along dim 1
    big_source = big_view(*COLUMNS)
    full_index = torch.tensor([[2, 0, 2], [1, 1, 1], [0, 2, 1], [2, 2, 2], [1, 0, 0]])
    target, ours_target = small((5, 3))
    ours_target.scatter_(1, tritongrad.Tensor._wrap(full_index.clone()), tg(big_source), reduce="multiply")
    target.scatter_(1, full_index, big_source.clone(), reduce="multiply")
    assert_close(ours_target, target, what="scatter_ multiply from a big source")
    rows = torch.tensor([1, 0, 1])
    ours_rows = tritongrad.Tensor._wrap(rows.clone())
    added, ours_added = small((3, 7))
    check_write(
        big_view(*ROWS), lambda t: t.index_add_(0, rows, added), lambda t: t.index_add_(0, ours_rows, ours_added)
    )


@case
def masked_fill_copy_fill():
    mask = torch.rand(2, 7) > 0.5
    ours_mask = tritongrad.Tensor._wrap(mask.clone())
    check_write(big_view(*ROWS), lambda t: t.masked_fill_(mask, 9), lambda t: t.masked_fill_(ours_mask, 9))
    values, ours_values = small((5, 3))
    check_write(big_view(*COLUMNS), lambda t: t.copy_(values), lambda t: t.copy_(ours_values))
    halves, ours_halves = small((5, 3), torch.float16)  # a copy that also casts
    check_write(big_view(*COLUMNS), lambda t: t.copy_(halves * 20), lambda t: t.copy_(ours_halves * 20))
    check_write(big_view(*CUBE), lambda t: t.fill_(7), lambda t: t.fill_(7))
    check_write(big_view(*CUBE), lambda t: t.zero_(), lambda t: t.zero_())
    check_write(big_view(*ROWS), lambda t: t.add_(3), lambda t: t.add_(3))


# ----------------------------------------------------------------------------------------------
# Cases: matmul, softmax, scans, sorting
# ----------------------------------------------------------------------------------------------


@case
def matmul_two_row_operand():
    a = big_view((2, 8), (LIMIT, 1), dtype=torch.float16)  # two rows 2**31 elements apart
    b, ours_b = small((8, 3), torch.float16)
    expected = (a.clone().double() @ b.double()).half()
    assert_close(tg(a) @ ours_b, expected, what="big rows @ small")
    # the big operand on the right: two columns 2**31 elements apart, and the backward reads it
    c, ours_c = small((3, 8), torch.float16)
    ours_c.requires_grad_(True)
    d = big_view((8, 2), (1, LIMIT), dtype=torch.float16)
    out = ours_c @ tg(d)
    assert_close(out, (c.double() @ d.clone().double()).half(), what="small @ big columns")
    out.sum().backward()
    expected_grad = torch.ones(3, 2, dtype=torch.float64) @ d.clone().double().t()
    assert_close(ours_c.grad, expected_grad.half(), what="grad of the small operand")


@case
def softmax_and_log_softmax():
    for shape, strides in (ROWS, COLUMNS):
        x = big_view(shape, strides, dtype=torch.float16)
        for dim in (0, 1):
            wide = x.clone().float()
            assert_close(tg(x).softmax(dim), wide.softmax(dim).half(), what=f"softmax{shape} dim={dim}")
            assert_close(tg(x).log_softmax(dim), wide.log_softmax(dim).half(), what=f"log_softmax{shape} dim={dim}")


@case
def cumsum_cumprod():
    for shape, strides in (ROWS, COLUMNS):
        x = big_view(shape, strides)
        for dim in (0, 1):
            assert_close(tg(x).cumsum(dim), x.clone().cumsum(dim), what=f"cumsum{shape} dim={dim}")
    x = big_view(*COLUMNS, dtype=torch.float16)
    expected = x.clone().double().cumprod(1).half()
    assert_close(tg(x).cumprod(1), expected, what="cumprod float16")


@case
def sort_topk():
    for shape, strides in (ROWS, COLUMNS):
        for dtype in (torch.uint8, torch.float16):
            x = big_view(shape, strides, dtype=dtype)
            for dim in (0, 1):
                values, indices = tg(x).sort(dim, stable=True)
                expected = torch.sort(x.clone(), dim=dim, stable=True)
                assert_close(values, expected.values, what=f"sort{shape} {dtype} dim={dim}")
                assert_close(indices, expected.indices, what=f"sort{shape} {dtype} dim={dim} indices")
                k = min(2, shape[dim])
                values, _ = tg(x).topk(k, dim)
                assert_close(values, x.clone().topk(k, dim).values, what=f"topk{shape} {dtype} dim={dim}")


@case
def nn_embedding_layer_norm_cross_entropy():
    weight = big_view((2, 8), (LIMIT, 1), dtype=torch.float16)  # two embedding rows 2**31 apart
    ids = torch.tensor([1, 0, 1])
    got = F.embedding(tritongrad.Tensor._wrap(ids.clone()), tg(weight))
    assert_close(got, torch.nn.functional.embedding(ids, weight.clone()), what="embedding")
    x = big_view((2, 8), (LIMIT, 1), dtype=torch.float16)
    wide = x.clone().float()
    assert_close(F.layer_norm(tg(x), (8,)), torch.nn.functional.layer_norm(wide, (8,)).half(), what="layer_norm")
    target = torch.tensor([3, 7])
    expected = torch.nn.functional.cross_entropy(wide, target).half()
    assert_close(F.cross_entropy(tg(x), tritongrad.Tensor._wrap(target.clone())), expected, what="cross_entropy")


# ----------------------------------------------------------------------------------------------
# Running a case in a child process
# ----------------------------------------------------------------------------------------------


def _run_case(name: str) -> dict:
    """Runs one case here (in the child) under the compute audit; never raises."""
    torch.manual_seed(0)
    audit = TorchComputeAudit()
    try:
        with audit:
            CASES[name]()
    except BaseException:  # everything, a KeyboardInterrupt included, is reported to the test
        return {"ok": False, "error": traceback.format_exc(limit=-6)}
    if audit.violations:
        return {
            "ok": False,
            "error": "tritongrad issued torch compute ops:\n" + "\n".join(sorted(set(audit.violations))),
        }
    return {"ok": True}


def _install_guards() -> None:
    if runtime.is_interpreter():
        InterpreterBoundsChecker().install()
        runtime.set_interpreter_overflow_checks(True)


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _fork_case(name: str) -> dict:
    """Forks a child that runs ``name``; kills it when it outgrows RSS_LIMIT or CASE_TIMEOUT."""
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as log:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: everything it prints goes to the log, the result to the pipe
            os.close(read_end)
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            torch.set_num_threads(1)
            with os.fdopen(write_end, "w") as out:
                out.write(json.dumps(_run_case(name)))
            os._exit(0)
        os.close(write_end)
        baseline = _resident_bytes(os.getpid())
        start, killed_for, chunks = time.monotonic(), None, []
        with os.fdopen(read_end) as result_pipe:
            while True:
                ready, _, _ = select.select([result_pipe], [], [], 0.02)
                if ready:
                    chunk = os.read(result_pipe.fileno(), 1 << 16).decode()
                    if not chunk:
                        break
                    chunks.append(chunk)
                    continue
                if _resident_bytes(pid) > baseline + RSS_LIMIT:
                    killed_for = f"resident memory past {RSS_LIMIT >> 20} MiB more than the helper's"
                elif time.monotonic() - start > CASE_TIMEOUT:
                    killed_for = f"running past {CASE_TIMEOUT} s"
                if killed_for:
                    os.kill(pid, signal.SIGKILL)
                    break
        _, status = os.waitpid(pid, 0)
        log.seek(0)
        output = log.read().decode(errors="replace")[-3000:]
    if killed_for:
        return {"ok": False, "error": f"killed for {killed_for}\n{output}"}
    if os.WIFSIGNALED(status):
        signame = signal.Signals(os.WTERMSIG(status)).name
        return {"ok": False, "error": f"the child died of {signame} (an out-of-bounds access?)\n{output}"}
    if not chunks:
        return {"ok": False, "error": f"the child exited with status {os.WEXITSTATUS(status)} and no result\n{output}"}
    return json.loads("".join(chunks))


def serve() -> None:
    """The helper process: reads case names from stdin, answers one JSON line each on stdout."""
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printed here must not mix with the answers
    _install_guards()
    for line in sys.stdin:
        protocol.write(json.dumps(_fork_case(line.strip())) + "\n")
        protocol.flush()


def run_one() -> None:
    """A fresh process for one case (GPU runs): prints the result as the last line."""
    _install_guards()
    print(json.dumps(_run_case(sys.argv[1])))


class CaseRunner:
    """The parent's side: a helper process that forks per case (interpreter), or one process per
    case where forking is unsafe (CUDA)."""

    def __init__(self) -> None:
        self.helper = None
        if runtime.is_interpreter():
            self.helper = subprocess.Popen(
                [sys.executable, "-c", "import tests.test_large_offsets as m; m.serve()"],
                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip

    def run(self, name: str) -> dict:
        if self.helper is None:
            done = subprocess.run(
                [sys.executable, "-c", "import tests.test_large_offsets as m; m.run_one()", name],
                cwd=REPO, capture_output=True, text=True, timeout=CASE_TIMEOUT,
            )  # fmt: skip
            lines = done.stdout.strip().splitlines()
            if done.returncode != 0 or not lines:
                return {"ok": False, "error": f"exit status {done.returncode}\n{done.stderr[-3000:]}"}
            return json.loads(lines[-1])
        self.helper.stdin.write(name + "\n")
        self.helper.stdin.flush()
        answer = self.helper.stdout.readline()
        if not answer:
            return {"ok": False, "error": f"the helper process exited with status {self.helper.wait()}"}
        return json.loads(answer)

    def close(self) -> None:
        if self.helper is not None:
            self.helper.stdin.close()
            self.helper.wait(timeout=60)


@pytest.fixture(scope="module")
def runner():
    runner = CaseRunner()
    yield runner
    runner.close()


# Cases that fail for a reason outside this file, each with its diagnosis (strict: a fix must
# remove the entry).
KNOWN_FAILURES: dict[str, str] = {}  # case name -> why it fails (a strict xfail)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name]))
        if name in KNOWN_FAILURES
        else name
        for name in CASES
    ],
)
def test_large_offsets(runner, name):
    result = runner.run(name)
    assert result["ok"], f"{name}:\n{result['error']}"

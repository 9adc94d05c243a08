"""The suite's two guards (tests/guards.py) catch what they are there to catch.

(a) The interpreter bounds checker raises on a masked-on access outside every tensor
    argument, and stays quiet for a correctly masked kernel.
(b) The torch-compute audit records compute ops issued from tritongrad's own files
    (code compiled with a filename under kernels/ stands in for such a file) and lets
    allocation, views and the interpreter's argument staging through.
"""

from __future__ import annotations

import os

import pytest
import torch
import triton
import triton.language as tl

import tritongrad
from tests.guards import TorchComputeAudit
from tritongrad import runtime

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

interpreter_only = pytest.mark.skipif(
    not runtime.is_interpreter(), reason="the bounds checker wraps Triton's CPU interpreter"
)


# ------------------------------------------------------------------------------------------------
# (a) bounds checker
# ------------------------------------------------------------------------------------------------


# Deliberately wrong: copies BLOCK elements with no mask, whatever the tensors' length.
@triton.jit
def unmasked_copy_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    offsets = tl.arange(0, BLOCK)
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets))


# The same copy, masked to the first n elements.
@triton.jit
def masked_copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask), mask=mask)


def small_view_of_a_larger_buffer(length: int):
    """A tensor of ``length`` elements inside a larger buffer: reading past its end touches real
    memory (no crash if the checker failed to fire) that still belongs to no kernel argument."""
    return torch.arange(64, dtype=torch.float32)[8 : 8 + length]


@interpreter_only
def test_unmasked_load_past_the_end_is_caught():
    x = small_view_of_a_larger_buffer(5)
    out = torch.empty(16, dtype=torch.float32)
    with pytest.raises(Exception, match="outside every tensor"):
        unmasked_copy_kernel[(1,)](x, out, BLOCK=16)


@interpreter_only
def test_unmasked_store_past_the_end_is_caught():
    x = torch.arange(16, dtype=torch.float32)
    buffer = torch.zeros(64, dtype=torch.float32)
    out = buffer[8:13]
    with pytest.raises(Exception, match="outside every tensor"):
        unmasked_copy_kernel[(1,)](x, out, BLOCK=16)
    assert bool((buffer[13:] == 0).all()), "the checker must stop the store before it happens"


@interpreter_only
def test_masked_kernel_does_not_fire():
    x = small_view_of_a_larger_buffer(5)
    out = torch.full((5,), -1.0)
    masked_copy_kernel[(1,)](x, out, 5, BLOCK=16)
    assert out.tolist() == x.tolist()


@interpreter_only
def test_tritongrad_kernels_on_views_stay_in_bounds():
    """Elementwise kernels on a strided view must touch only the view's elements."""
    base = tritongrad.arange(60.0).reshape(6, 10)
    view = base[1:4, 2:9:3]
    assert (view * 2).tolist() == [[24.0, 30.0, 36.0], [44.0, 50.0, 56.0], [64.0, 70.0, 76.0]]
    view.fill_(0.5)
    assert base.sum().item() == pytest.approx(sum(range(60)) - sum(view_values(1, 4, 2, 9, 3)) + 0.5 * 9)


def view_values(row_start, row_stop, column_start, column_stop, step):
    return [10 * r + c for r in range(row_start, row_stop) for c in range(column_start, column_stop, step)]


# ------------------------------------------------------------------------------------------------
# (b) torch-compute audit
# ------------------------------------------------------------------------------------------------

PROBE_SOURCE = """
import torch


def computes():
    x = torch.ones(3)
    return x + 1


def only_allocates_and_views():
    x = torch.empty(4, 3)
    y = torch.empty_like(x)
    return x.t()[1:].unsqueeze(0), x.view(12), y.expand(2, 4, 3), x.new_empty(5), x.shape, x.stride()


def casts():
    return torch.empty(3).to(torch.float64)


def moves_device(x):
    return x.to("meta")
"""


def load_probe(directory: str) -> dict:
    """The probe's functions, compiled as if they lived in ``<repo>/<directory>/``."""
    namespace: dict = {}
    filename = os.path.join(REPO_ROOT, directory, "_audit_probe.py")
    exec(compile(PROBE_SOURCE, filename, "exec"), namespace)
    return namespace


def audited(fn, *args) -> list[str]:
    audit = TorchComputeAudit()
    with audit:
        fn(*args)
    return audit.violations


@pytest.mark.no_audit
@pytest.mark.parametrize("directory", ["kernels", "tritongrad"])
def test_audit_records_compute_from_tritongrad_files(directory):
    violations = audited(load_probe(directory)["computes"])
    assert any("aten.ones" in v for v in violations), violations
    assert any("aten.add" in v for v in violations), violations
    assert all(f"{directory}/_audit_probe.py" in v for v in violations), "violations name the file and line"


@pytest.mark.no_audit
def test_audit_records_dtype_casts():
    violations = audited(load_probe("kernels")["casts"])
    assert any("_to_copy" in v for v in violations), violations


@pytest.mark.no_audit
def test_audit_allows_allocation_views_metadata_and_device_copies():
    probe = load_probe("kernels")
    assert audited(probe["only_allocates_and_views"]) == []
    assert audited(probe["moves_device"], torch.ones(2)) == []


@pytest.mark.no_audit
def test_audit_ignores_compute_issued_by_tests():
    assert audited(load_probe("tests")["computes"]) == []
    assert audited(lambda: torch.ones(3).exp().sum()) == []


@pytest.mark.no_audit
def test_audit_ignores_the_interpreters_argument_staging():
    """A tritongrad op launches kernels (the interpreter copies arguments with torch): no violation."""
    x = tritongrad.tensor([1.0, 2.0, 3.0])
    assert audited(lambda: (x * 2 + 1).exp().tolist()) == []


@pytest.mark.no_audit
def test_audit_tells_torch_from_a_package_installed_beside_it():
    """tritongrad code calling a third-party package (Triton's benchmark timer clears the L2 cache
    with ``zero_``) is not tritongrad computing, even in an environment under /opt/torch/, as on
    the GPU machines; the same call issued by tritongrad's own line still counts."""
    namespace: dict = {}
    third_party = os.path.join(os.sep, "opt", "torch", ".venv", "site-packages", "triton", "testing.py")
    exec(compile("def flush(cache):\n    cache.zero_()\n", third_party, "exec"), namespace)
    exec(compile("def tune(cache):\n    flush(cache)\n", os.path.join(REPO_ROOT, "kernels", "_probe.py"), "exec"),
         namespace)  # fmt: skip
    exec(compile("def zeroes(cache):\n    cache.zero_()\n", os.path.join(REPO_ROOT, "kernels", "_own.py"), "exec"),
         namespace)  # fmt: skip
    assert audited(namespace["tune"], torch.ones(3)) == []
    assert any("aten.zero_" in v for v in audited(namespace["zeroes"], torch.ones(3)))


@pytest.mark.no_audit
def test_audit_allows_pinned_host_memory():
    probe = os.path.join(REPO_ROOT, "kernels", "_probe.py")
    namespace: dict = {}
    exec(compile("def pin(t):\n    return t.is_pinned()\n", probe, "exec"), namespace)
    assert audited(namespace["pin"], torch.ones(3)) == []


def test_the_suite_runs_every_test_under_the_audit(torch_compute_audit):
    assert isinstance(torch_compute_audit, TorchComputeAudit)
    tritongrad.ones(4).add_(1.0)
    assert torch_compute_audit.violations == []

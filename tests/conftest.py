"""Suite-wide guards: the torch-compute audit and the interpreter bounds checker (tests/guards.py)."""

from __future__ import annotations

import pytest

import tritongrad
from tests.guards import InterpreterBoundsChecker, TorchComputeAudit
from tritongrad import runtime
from tritongrad.kernels.device_checks import raise_deferred_errors

if runtime.is_interpreter():
    InterpreterBoundsChecker().install()
    # The suite keeps the interpreter's int32 overflow checks that tritongrad switches off for
    # speed (runtime.set_interpreter_overflow_checks): an overflowing 32-bit offset fails a test.
    runtime.set_interpreter_overflow_checks(True)


def pytest_collection_modifyitems(config, items):
    if runtime.is_interpreter():
        skip_gpu = pytest.mark.skip(reason="needs an NVIDIA GPU (tritongrad is running on the CPU interpreter)")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def torch_compute_audit(request):
    """Fails the test if tritongrad asked torch to compute anything (see tests/guards.py)."""
    if "no_audit" in request.keywords:
        yield None
        return
    audit = TorchComputeAudit()
    with audit:
        yield audit
    if audit.violations:
        unique = sorted(set(audit.violations))
        pytest.fail("tritongrad issued torch compute ops:\n  " + "\n  ".join(unique), pytrace=False)


@pytest.fixture(autouse=True)
def fresh_seed():
    """Each test starts from a fixed seed for both generators, so failures reproduce; and with torch's
    distributions validating (torch's default), both libraries: the first torch.compile in a process
    switches torch's validation off for good (torch._dynamo's patcher), so a test comparing validation
    errors would otherwise depend on which tests ran before it in the same worker."""
    import torch

    torch.manual_seed(0)
    tritongrad.manual_seed(0)
    torch.distributions.Distribution._validate_args = __debug__
    tritongrad.distributions.Distribution._validate_args = __debug__
    yield


@pytest.fixture(autouse=True)
def no_deferred_error_left():
    """A GPU defers device-side checks to the next readback (kernels/device_checks.py): an error a
    test leaves queued fails that test, not whichever test reads a value next in the same worker."""
    yield
    try:
        raise_deferred_errors()
    except Exception as error:  # any queued error is the test's
        pytest.fail(f"the test left a deferred device-side error unreported: {error!r}", pytrace=False)

"""Tutorial-style scripts run unchanged on tritongrad and print what PyTorch prints.

Each script in tests/replays/ is ordinary PyTorch code in the style of a well-known tutorial
(a scalar-autograd engine's tests, the official "learning by examples" and "what is torch.nn
really" tutorials, Dive-into-Deep-Learning chapters, makemore-style character models, a
physics-informed net, a regression with checkpoints, the "Learn the Basics" quickstart and its
tensors page, a CIFAR-style CNN, a character-RNN name classifier, autoencoders, a GPT built
from scratch, news-style text classification with EmbeddingBag, D2L's builders' guide), written
for this suite. It picks its library with one switch (``import tritongrad as torch`` unless
``--backend=torch``) and reaches nn, functional, optim and utils.data only through that module.
Random inputs and weights come from numpy, so both backends compute on the same numbers; where a
script uses torch's own random functions it prints only facts that hold for any draw. Scripts
that take long in the interpreter are listed in SLOW and marked slow.

Both runs happen in this process, so the compute audit watches the tritongrad run. The outputs
must be the same text once numbers are masked, and the numbers must agree to float32 training
tolerance, or to one unit in the last printed digit (a float32 summation-order difference can
move a rounded printout across a rounding boundary). Integers must match exactly.

Scripts that stop today on an API tritongrad lacks are listed in KNOWN_GAPS with the first
missing piece; they are strict xfails, so a script that starts passing shows up as XPASS and
its entry must be removed.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.utils import run_script_in_process

REPLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "replays")
SCRIPTS = sorted(name for name in os.listdir(REPLAYS) if re.fullmatch(r"r\d\d_\w+\.py", name))
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")

# script -> the first thing it needs that tritongrad lacks (see the module docstring).
KNOWN_GAPS: dict[str, str] = {}

# script -> why it takes more than ~30 s in the interpreter; these run with ``-m slow`` (make test-all).
SLOW: dict[str, str] = {
    "r15_cifar_cnn.py": "per-image transforms and convolutions: ~1,500 launches",
    "r18_tiny_gpt.py": "batched attention matmuls cost one interpreted program per sequence",
}


def replay_param(script: str):
    marks = [pytest.mark.slow] if script in SLOW else []
    if script in KNOWN_GAPS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[script]))
    return pytest.param(script, marks=marks)


def run_replay(script: str, *args: str) -> str:
    """Runs a replay as __main__ with ``args`` in this process and returns what it printed."""
    return run_script_in_process(os.path.join(REPLAYS, script), *args)


def last_digit_unit(text: str) -> float:
    """The value of one unit in the last printed digit: 0.01 for '1.25', 1e-7 for '3.5e-06', 0 for integers."""
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def assert_same_output(ours: str, theirs: str, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    assert NUMBER.sub("#", ours) == NUMBER.sub("#", theirs), (
        f"text differs:\n--- tritongrad\n{ours}\n--- torch\n{theirs}"
    )
    for line_ours, line_theirs in zip(ours.splitlines(), theirs.splitlines()):
        for a, b in zip(NUMBER.findall(line_ours), NUMBER.findall(line_theirs)):
            x, y = float(a), float(b)
            allowed = max(atol + rtol * abs(y), 1.01 * max(last_digit_unit(a), last_digit_unit(b)))
            assert abs(x - y) <= allowed, f"{a} != {b} (allowed {allowed:.1e}) in line\n  {line_ours}\n  {line_theirs}"


def test_there_are_replays():
    assert len(SCRIPTS) >= 10, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_replay_reaches_torch_only_through_the_switch(script):
    """``import torch.nn`` or ``from torch... import`` after ``import tritongrad as torch`` would load real torch."""
    with open(os.path.join(REPLAYS, script)) as f:
        source = f.read()
    assert 'if "--backend=torch" in sys.argv:\n    import torch\nelse:\n    import tritongrad as torch\n' in source
    stray = re.findall(r"^\s*(?:from torch\b.*|import torch\..*)$", source, flags=re.M)
    assert not stray, f"{script} imports real torch modules directly: {stray}"


@pytest.mark.parametrize("script", [replay_param(s) for s in SCRIPTS])
def test_replay_prints_what_torch_prints(script):
    theirs = run_replay(script, "--backend=torch")
    ours = run_replay(script)
    assert_same_output(ours, theirs)


def test_the_comparison_catches_differences():
    assert_same_output("loss 0.1235\nn 276\n", "loss 0.1234\nn 276\n")  # one unit in the last digit
    with pytest.raises(AssertionError):
        assert_same_output("loss 0.1237\n", "loss 0.1234\n")
    with pytest.raises(AssertionError):
        assert_same_output("n 277\n", "n 276\n")
    with pytest.raises(AssertionError):
        assert_same_output("agree: False\n", "agree: True\n")
    with pytest.raises(AssertionError):
        assert_same_output("std 1.3353e+03\n", "std 1.3351e+03\n")

"""The examples run, and print what PyTorch prints for the same code.

Each seed walkthrough and transparent_net.py runs twice in this process (so the
compute audit watches the tritongrad run), once with tritongrad and once with
PyTorch; the outputs must be the same text, with numbers equal to float32 tolerance
(summation order may move a float32 result by an ulp, e.g. torch's CPU sum prints
-4.000000476837158 where tritongrad prints -4.0). mlp_digits.py runs as a user would,
in a subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.utils import run_script_in_process

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def run(script: str, *args: str) -> str:
    """Runs an example in a subprocess, as a user would; no time limit (a busy machine is no failure)."""
    completed = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script), *args],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert completed.returncode == 0, f"{script} {args} failed:\n{completed.stderr[-3000:]}"
    return completed.stdout


def run_in_process(script: str, *args: str) -> str:
    """Runs an example as __main__ with ``args`` and returns what it printed."""
    return run_script_in_process(os.path.join(EXAMPLES, script), *args)


def assert_same_output(ours: str, theirs: str, rtol: float = 2e-6, atol: float = 1e-6) -> None:
    assert NUMBER.sub("#", ours) == NUMBER.sub("#", theirs), (
        f"text differs:\n--- tritongrad\n{ours}\n--- torch\n{theirs}"
    )
    for line_ours, line_theirs in zip(ours.splitlines(), theirs.splitlines()):
        for a, b in zip(NUMBER.findall(line_ours), NUMBER.findall(line_theirs)):
            x, y = float(a), float(b)
            assert abs(x - y) <= atol + rtol * abs(y), f"{x} != {y} in line\n  {line_ours}\n  {line_theirs}"


@pytest.mark.parametrize(
    "script", ["gradients_ru.py", "autograd_basics_ru.py", "second_derivatives_zh.py", "derivatives_ja.py"]
)
def test_seed_walkthrough_prints_what_torch_prints(script):
    path = os.path.join("seeds", script)
    assert_same_output(run_in_process(path), run_in_process(path, "--backend=torch"))


def test_transparent_net_prints_torchs_numbers_to_the_digit():
    ours = run_in_process("transparent_net.py")
    theirs = run_in_process("transparent_net.py", "--backend", "torch")
    assert ours == theirs
    assert "Loss: 1.2191184759140015" in ours


def test_demo_runs():
    output = run_in_process("demo.py")
    assert "d/dx x^4 = 32.0  d2/dx2 x^4 = 48.0" in output


def test_mlp_digits_learns_in_two_epochs(tmp_path):
    """Sized down from the full 12 epochs (~98%): two epochs must already pass 93% test accuracy.
    How long a run takes is the training benchmark's business (benchmarks/bench_training.py)."""
    output = run("mlp_digits.py", "--epochs", "2", "--output", str(tmp_path))
    accuracy = float(re.search(r"test accuracy (\d\.\d+) after", output).group(1))
    assert accuracy >= 0.93, output
    assert (tmp_path / "mlp_digits.png").stat().st_size > 10_000


def test_cnn_digits_learns_in_two_epochs(tmp_path):
    """Sized down from the full run (width 24, 8 epochs, 1,437 images: 98.9%; 0.79 after its first
    epoch): width 16, 2 epochs on 512 training images must pass 60% on the full test set (chance is
    10%; PyTorch runs of the same script over six seeds reach 76-86%, this one 78%)."""
    output = run("cnn_digits.py", "--width", "16", "--epochs", "2", "--train-subset", "512", "--batch-size", "32",
                 "--output", str(tmp_path))  # fmt: skip
    accuracy = float(re.search(r"test accuracy (\d\.\d+) after", output).group(1))
    assert accuracy >= 0.6, output
    assert (tmp_path / "cnn_digits.png").stat().st_size > 10_000


def test_tiny_gpt_loss_drops(tmp_path):
    """Sized down from the default run (>= 99% held-out exact match, see the README): 12 steps must
    already cut the loss clearly (ln 12 = 2.48 at the start); sampling and the PNG must work."""
    output = run(
        "tiny_gpt.py", "--steps", "12", "--warmup", "2", "--lr", "2e-2", "--held-out", "0.02",
        "--samples", "1", "--output", str(tmp_path),
    )  # fmt: skip
    first, last = (float(x) for x in re.search(r"first loss (\d+\.\d+), last loss (\d+\.\d+)", output).groups())
    assert last < 0.85 * first, output
    assert "sampled (T=0.8, top-3)" in output and "held-out exact match" in output, output
    assert (tmp_path / "tiny_gpt_loss.png").stat().st_size > 10_000

"""`make demo`: runs the examples one after the other, with a plan first and the time each took.

    python examples/run_demo.py

Each example runs as its own process, exactly as a user would start it; their output
(mlp_digits.py shows a progress bar per epoch) streams through unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (script, arguments, what it shows)
STEPS = [
    ("demo.py", [], "tensors, broadcasting, autograd, second derivatives, a tiny net trained with SGD"),
    ("transparent_net.py", [], "the seed notebooks' TransparentNet: loss and every gradient as PyTorch prints them"),
    ("mlp_digits.py", [], "an MLP trained on scikit-learn's 8x8 digits to ~98% test accuracy, with a loss plot"),
]


def main() -> int:
    print("tritongrad demo: every number below comes from tritongrad's Triton kernels.")
    for number, (script, _, what) in enumerate(STEPS, 1):
        print(f"  {number}. {script:<20} {what}")
    total = time.perf_counter()
    for number, (script, arguments, _) in enumerate(STEPS, 1):
        print(f"\n[{number}/{len(STEPS)}] python examples/{script} {' '.join(arguments)}".rstrip(), flush=True)
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, os.path.join(HERE, script), *arguments])
        if completed.returncode != 0:
            print(f"{script} failed with exit code {completed.returncode}", file=sys.stderr)
            return completed.returncode
        print(f"[{number}/{len(STEPS)}] {script} done in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"\ndemo finished in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks run [--only NAME[,NAME...]] [--smoke] [--output [DIR]]``: tritongrad vs torch.

On a GPU, results go to benchmarks/results/<gpu name>/ (CSV, Markdown, PNG per
benchmark). Without one, kernels run in Triton's CPU interpreter: only
``--smoke`` sizes are practical, the timings mean nothing, and files are written
only when ``--output`` asks for them (default folder:
benchmarks/results/cpu-interpreter-smoke/).
"""

from __future__ import annotations

import argparse
import sys

import tritongrad  # noqa: F401  (first: switches on the interpreter before triton loads)


def main(argv: list[str] | None = None) -> int:
    from benchmarks import suite

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run benchmarks", description=suite.__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    run.add_argument("--only", metavar="NAME", help=f"comma-separated subset of: {', '.join(suite.BENCHMARKS)}")
    run.add_argument("--smoke", action="store_true", help="tiny sizes, any device (what CI runs)")
    run.add_argument("--output", nargs="?", const="default", metavar="DIR",
                     help="write CSV/Markdown/PNG here (no DIR: benchmarks/results/<device>/)")  # fmt: skip
    commands.add_parser("list", help="list the benchmarks")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, benchmark in suite.BENCHMARKS.items():
            print(f"{name:15} {benchmark.title}")
        return 0
    try:
        suite.select(args.only)
    except ValueError as error:
        parser.error(str(error))
    suite.run(args.only, smoke=args.smoke, output=args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

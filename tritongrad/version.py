"""``torch.version``: what was built in. The version is tritongrad's own (pyproject.toml is its one
home: read from the installed package's metadata); no CUDA or HIP toolkit is linked (Triton compiles
the kernels), so ``cuda`` and ``hip`` are None, as in a CPU build of torch."""

from importlib import metadata

try:
    __version__ = metadata.version("tritongrad")
except metadata.PackageNotFoundError:  # (run from a source tree that was never installed)
    __version__ = "0+unknown"
cuda = None
hip = None
git_version = "unknown"
debug = False

"""``torch.version``: what was built in.

``__version__`` says which torch API tritongrad implements, with tritongrad's own release as the
local label: ``2.13.0+tritongrad.0.1.0``. Scripts gate features on the torch version
(``if torch.__version__ >= "2.0"``, ``version.parse(torch.__version__) >= version.parse("1.12")``);
tritongrad's own number there would send them down branches written for torch 0.x. It is a
``TorchVersion``, torch's str subclass that compares as a version with strings and tuples. The
release number's one home is pyproject.toml (read from the installed package's metadata, as
``release``). No CUDA or HIP toolkit is linked (Triton compiles the kernels), so ``cuda`` and ``hip``
are None, as in a CPU build of torch.
"""

from importlib import metadata

from torch.torch_version import TorchVersion

# The torch release whose behaviour tritongrad reproduces: the test oracle's (tests compare with it).
TORCH_API_VERSION = "2.13.0"

try:
    release = metadata.version("tritongrad")
except metadata.PackageNotFoundError:  # (run from a source tree that was never installed)
    release = "0+unknown"
__version__ = TorchVersion(f"{TORCH_API_VERSION}+tritongrad.{release.replace('+', '.')}")
cuda = None
hip = None
git_version = "unknown"
debug = False

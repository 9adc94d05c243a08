"""Random generators: a Philox key (the seed) and a counter offset, like torch's Philox generators.

Every random kernel takes ``(seed, offset)`` and draws Philox4x32-10 streams
from counter ``offset + element index``; after each launch the generator's
offset advances past the numbers consumed, so consecutive draws never overlap
and ``manual_seed`` makes a program reproducible. ``default_generator`` serves
every random function that is not given ``generator=``; a ``Generator`` of
one's own is an independent stream. This mirrors torch's seed/offset design,
not its values: tritongrad's random numbers differ from torch's for the same
seed (and are the same on the CPU and on a GPU).

Example::

    >>> g = tritongrad.Generator().manual_seed(0)
    >>> a = tritongrad.rand(3, generator=g)
    >>> state = g.get_state()          # a uint8 tensor: seed and offset
    >>> b = tritongrad.rand(3, generator=g)
    >>> g.set_state(state)
    >>> bool((tritongrad.rand(3, generator=g) == b).all())
    True
"""

from __future__ import annotations

import contextlib
import operator
import os
import threading
from collections.abc import Iterator

import torch

from tritongrad.dtypes import python_type_name
from tritongrad.tensor import Tensor

__all__ = [
    "Generator",
    "default_generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "fork_rng",
    "thread_safe_generator",
    "philox_seed_and_offset",
]

# torch's default seed for a new generator (so initial_seed() agrees with torch's in a fresh process).
_DEFAULT_SEED = 67280421310721
# get_state's layout: the seed and the offset, 8 little-endian bytes each.
_STATE_BYTES = 16
_BASE_STATE_BYTES = torch.Generator().get_state().numel()  # (torch's CPU generator state, after the Philox one)
# The kernels use counters at or above 2**62 for the upper halves of 64-bit draws (kernels/random.py).
_OFFSET_LIMIT = 2**62
# Mixes the Philox offset into the torch base's seed (an odd 64-bit constant, the golden ratio's).
_OFFSET_MIX = 0x9E3779B97F4A7C15


def _seed_value(seed, name: str = "manual_seed") -> int:
    """A seed as Generator.manual_seed reads it: a Python int (not a bool, a float, a string or a
    tensor) in [-2**63, 2**64), negatives wrapping modulo 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        if hasattr(type(seed), "__index__") and not isinstance(seed, (bool, Tensor, torch.Tensor)):
            # numpy's integers: torch's argument parser takes them as "an integer" it cannot unpack
            raise TypeError("an integer is required")
        raise RuntimeError(f"{name} expected a long, but got {python_type_name(seed)}")
    value = operator.index(seed)
    if not -(2**63) <= value < 2**64:
        raise ValueError(f"{name}: seed {value} is outside [-2**63, 2**64) (Overflow when unpacking long long)")
    return value % 2**64


# torch's error for a CUDA generator in a build (or on a machine) without CUDA.
_NO_CUDA_GENERATOR = (
    "Cannot get CUDA generator without ATen_cuda library. PyTorch splits its backend into two shared libraries: a "
    "CPU library and a CUDA library; this error has occurred because you are trying to use some CUDA functionality, "
    "but the CUDA library has not been loaded by the dynamic linker for some reason.  The CUDA library MUST be "
    "loaded, EVEN IF you don't directly use any symbols from the CUDA library! One common culprit is a lack of "
    "-Wl,--no-as-needed in your link arguments; many dynamic linkers will delete dynamic library dependencies if "
    "you don't depend on any of their symbols.  You can check if this has occurred by using ldd on your binary to "
    "see if there is a dependency on *_cuda.so library."
)


class Generator(torch.Generator):
    """An independent Philox stream: a 64-bit seed (the key) and the offset of the next number.

    It is also a ``torch.Generator`` (a CPU one, its "torch base"), so that real torch's samplers
    (``torch.utils.data``'s, bound by ``from torch.utils.data import ...`` after ``import tritongrad as
    torch``) accept it: their randperm/random_/multinomial draw from the base. ``manual_seed``,
    ``seed`` and ``set_state`` seed the base too, so those draws are reproducible from the same seed
    (torch's values for that seed, not tritongrad's Philox ones). tritongrad's own samplers refuse a
    plain ``torch.Generator``, as before.

    Args:
        device: the device the generator is meant for (``"cpu"``, the default for None, or ``"cuda"``,
            refused as torch refuses it where there is no GPU); kept for torch's API only, since the
            stream is the same on every device and a generator serves tensors on any device (torch
            requires a generator of the tensor's device type).

    Copies (``copy.copy``, ``copy.deepcopy``, pickling) carry the seed and offset into a new
    generator with its own lock, as torch's Generator.__reduce__ does; ``clone_state`` is one more.
    """

    def __new__(cls, device: str | torch.device | None = "cpu") -> Generator:
        # The torch base is a CPU generator whatever ``device`` is: it only serves torch's CPU samplers.
        return torch.Generator.__new__(cls, "cpu")

    def __init__(self, device: str | torch.device | None = "cpu") -> None:
        device = torch.device("cpu" if device is None else device)
        if device.type not in ("cpu", "cuda"):
            raise RuntimeError(f"{device.type.upper()} device type not an accelerator.")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(_NO_CUDA_GENERATOR)
        self._device = device
        self._lock = threading.Lock()
        self._seed = _DEFAULT_SEED
        self._offset = 0
        torch.Generator.manual_seed(self, _DEFAULT_SEED)

    @property
    def device(self) -> torch.device:
        """The device the generator was made for (torch's base is always a CPU one)."""
        return self._device

    def _seed_torch_base(self, seed: int, offset: int) -> None:
        # The base follows the Philox state: the same (seed, offset) always restarts the same torch
        # stream, and offset 0 is plain ``manual_seed(seed)``, as torch.Generator(...).manual_seed(seed).
        torch.Generator.manual_seed(self, (seed + offset * _OFFSET_MIX) % 2**64)

    def manual_seed(self, seed: int) -> Generator:
        """Sets the seed and resets the offset; returns the generator (so it chains)."""
        value = _seed_value(seed)
        with self._lock:
            self._seed, self._offset = value, 0
            self._seed_torch_base(value, 0)
        return self

    def seed(self) -> int:
        """Seeds from the OS's entropy (a non-deterministic seed) and returns the seed."""
        new_seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        """The seed last set (the default seed if never set)."""
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor: 16 bytes (the Philox seed, then offset, little-endian),
        then the state of its torch base (what torch's own samplers draw from), so that ``set_state``
        restores both.

        torch's states are ByteTensors of another layout; the two do not mix.
        """
        with self._lock:
            raw = self._seed.to_bytes(8, "little") + self._offset.to_bytes(8, "little")
            base = torch.Generator.get_state(self)
        return Tensor._wrap(torch.tensor(list(raw) + base.tolist(), dtype=torch.uint8))

    def set_state(self, new_state: Tensor) -> Generator:
        """Restores a state from ``get_state``; returns the generator."""
        data = new_state._data if isinstance(new_state, Tensor) else new_state
        if not isinstance(data, torch.Tensor) or data.dtype != torch.uint8:
            raise TypeError(f"RNG state must be a torch.ByteTensor (uint8 tensor), got {_describe(new_state)}")
        if data.numel() not in (_STATE_BYTES, _STATE_BYTES + _BASE_STATE_BYTES):
            raise RuntimeError(
                f"Expected a tritongrad generator state of size {_STATE_BYTES + _BASE_STATE_BYTES} (or {_STATE_BYTES}, "
                "Philox only) but found the input "
                f"RNG state size to be {data.numel()}"
            )
        flat = data.cpu().reshape(-1)
        raw = bytes(flat[:_STATE_BYTES].tolist())
        seed, offset = int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")
        if offset >= _OFFSET_LIMIT or offset % 4:
            raise RuntimeError(f"invalid RNG state: offset {offset} is not a multiple of 4 below 2**62")
        with self._lock:
            self._seed, self._offset = seed, offset
            if flat.numel() > _STATE_BYTES:  # (the base's own state: its stream goes on where it was)
                torch.Generator.set_state(self, torch.tensor(flat[_STATE_BYTES:].tolist(), dtype=torch.uint8))
            else:  # (a Philox-only state: the base restarts from it)
                self._seed_torch_base(seed, offset)
        return self

    def philox_seed_and_offset(self, count: int) -> tuple[int, int]:
        """Reserves ``count`` Philox numbers; returns the (seed, offset) a kernel should draw them from.

        Offsets advance in multiples of 4 because one Philox call yields four 32-bit numbers.
        """
        with self._lock:
            start = self._offset
            self._offset += (int(count) + 3) // 4 * 4
            if self._offset >= _OFFSET_LIMIT:
                raise RuntimeError("the random generator's Philox offset passed 2**62: reseed it")
        return self._seed, start

    def clone_state(self) -> Generator:
        """A new generator of the same device whose stream continues from this one's state (the torch
        base's too)."""
        clone = Generator(self.device)
        clone.__setstate__(self._full_state())
        return clone

    def _full_state(self) -> tuple[Tensor, torch.Tensor]:
        return self.get_state(), torch.Generator.get_state(self)

    def get_offset(self) -> int:
        # torch's CPU generator (a Mersenne twister) has no offset; tritongrad's Philox offset is internal
        # to its state, so a CPU generator answers as torch's does.
        if self.device.type == "cpu":
            raise RuntimeError("CPU Generator does not use offset")
        return self._offset

    def set_offset(self, offset: int) -> Generator:
        if self.device.type == "cpu":
            raise RuntimeError("CPU Generator does not use offset")
        if not (isinstance(offset, int) and 0 <= offset < _OFFSET_LIMIT and offset % 4 == 0):
            raise RuntimeError(f"invalid offset {offset}: tritongrad's Philox offsets are multiples of 4 below 2**62")
        with self._lock:
            self._offset = offset
        return self

    def graphsafe_get_state(self) -> Generator:
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state: Generator) -> Generator:
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    def __reduce__(self):
        # Copies and pickles carry the state (seed and offset, and the torch base's) and get a lock of
        # their own, as torch's Generator.__reduce__ rebuilds a generator of the same device and state.
        return Generator, (self.device,), self._full_state()

    def __setstate__(self, state: tuple[Tensor, torch.Tensor] | Tensor) -> None:
        # A bare Philox state is what pickles written before the torch base existed hold.
        own, base = state if isinstance(state, tuple) else (state, None)
        self.set_state(own)
        if base is not None:
            torch.Generator.set_state(self, base)

    def __repr__(self) -> str:
        return f"<tritongrad.Generator device={self.device}>"


def _describe(value) -> str:
    if isinstance(value, (Tensor, torch.Tensor)):
        return f"a tensor of dtype {value.dtype}"
    return type(value).__name__


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seeds the default generator (and resets its offset); returns it. As torch.manual_seed, the seed
    is ``int(seed)`` first (1.5, "3", True and a one-element tensor are accepted).

    It seeds real torch's default generator too (seeding, not arithmetic): torch's own samplers, such
    as those of ``from torch.utils.data import ...`` after ``import tritongrad as torch``, draw from
    it, and a seeded program must shuffle and split reproducibly there as well.
    """
    generator = default_generator.manual_seed(int(seed))
    torch.manual_seed(generator.initial_seed())
    return generator


def seed() -> int:
    """Seeds the default generator from the OS's entropy and returns the seed (real torch's default
    generator gets the same seed, as in ``manual_seed``)."""
    new_seed = default_generator.seed()
    torch.manual_seed(new_seed)
    return new_seed


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (a uint8 tensor; see ``Generator.get_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restores the default generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, device_type: str = "cuda") -> Iterator[None]:
    """Restores the default generator's state on exit, so random draws inside the block do not
    change what is drawn after it. (One generator serves every device: ``devices`` and
    ``device_type`` are accepted for torch's signature and unused.)"""
    if not enabled:
        yield
        return
    if torch.device(device_type).type == "cpu" and (devices is None or list(devices)):
        # torch's quirk, kept: for device_type="cpu" it asks torch.cpu (one device) for a device state it
        # does not have; only devices=[] passes.
        raise AttributeError("module 'torch.cpu' has no attribute 'get_rng_state'")
    state, torch_state = get_rng_state(), torch.get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
        # real torch's default generator (seeded by manual_seed, drawn by torch's samplers) as well
        torch.set_rng_state(torch_state)


def thread_safe_generator() -> Generator | None:
    """The generator of the calling DataLoader thread worker, or None (the default generator serves).

    tritongrad's DataLoader loads in-process, with no thread workers, so this is always None.
    """
    return None


class _Refusal(threading.local):
    refusing = False


_refusal = _Refusal()


@contextlib.contextmanager
def refusing_random(refuse: bool = True) -> Iterator[None]:
    """Inside, every random draw of this thread raises (``func.vmap``'s ``randomness="error"``)."""
    before, _refusal.refusing = _refusal.refusing, refuse
    try:
        yield
    finally:
        _refusal.refusing = before


def resolve_generator(generator: Generator | None) -> Generator:
    """``generator`` itself, or the default generator for None; TypeError for anything else."""
    if _refusal.refusing:
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use the 'same' or "
            "'different' randomness flags on vmap or perform the randomness operation out of vmap"
        )
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tritongrad.Generator or None, not {type(generator).__name__}")
    return generator


def philox_seed_and_offset(count: int, generator: Generator | None = None) -> tuple[int, int]:
    """Reserves ``count`` numbers from ``generator`` (default: the default generator)."""
    return resolve_generator(generator).philox_seed_and_offset(count)

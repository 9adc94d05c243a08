"""torch.hub's checkpoint download: ``load_state_dict_from_url`` fetches a file into torch's hub
cache (torch.hub's own downloader: file transfer, no computation) and loads it with
``tritongrad.load``, so torchvision-style model files get tritongrad tensors. ``load``/``list``/
``help`` run a repository's torch code, which tritongrad cannot, and refuse."""

from __future__ import annotations

import os
import re
import sys
from typing import Any
from urllib.parse import urlparse

from torch import hub as _torch_hub

from tritongrad.serialization import load as _load

__all__ = ["load_state_dict_from_url", "download_url_to_file", "get_dir", "set_dir", "load", "list", "help"]

download_url_to_file = _torch_hub.download_url_to_file
get_dir = _torch_hub.get_dir
set_dir = _torch_hub.set_dir

# torch.hub's rule for a file name carrying the start of its SHA-256: name-<hex>.ext
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location: Any = None, progress: bool = True,
                             check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = False) -> dict[str, Any]:  # fmt: skip
    """The checkpoint at ``url``, downloaded once into ``<hub dir>/checkpoints`` (or ``model_dir``) as
    torch's is, then read by ``tritongrad.load``."""
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        match = _HASH_IN_NAME.search(filename) if check_hash else None
        download_url_to_file(url, cached_file, match.group(1) if match else None, progress=progress)
    return _load(cached_file, map_location=map_location, weights_only=weights_only)


def _refuse(name: str):
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"torch.hub.{name}: a hub repository's entry points build torch models; tritongrad cannot run them "
            "(load_state_dict_from_url loads a checkpoint into a tritongrad model instead)"
        )

    refused.__name__ = name
    return refused


load = _refuse("load")
list = _refuse("list")  # noqa: A001 (torch.hub's name)
help = _refuse("help")  # noqa: A001 (torch.hub's name)

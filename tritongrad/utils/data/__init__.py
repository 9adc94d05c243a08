"""torch.utils.data for tritongrad: datasets, samplers, collation and the DataLoader.

``import tritongrad as torch; from torch.utils.data import DataLoader, TensorDataset`` works
as with PyTorch. Shuffles and random splits draw from tritongrad's generators (``randperm`` and
``multinomial`` kernels), so ``tritongrad.manual_seed`` or a ``generator=`` makes them
reproducible; the orders differ from torch's for the same seed. Loading runs in the calling
process (see ``DataLoader``).

Example::

    >>> dataset = TensorDataset(tritongrad.randn(10, 3), tritongrad.arange(10))
    >>> for features, labels in DataLoader(dataset, batch_size=4, shuffle=True):
    ...     features.shape, labels.shape   # (4, 3), (4,) ... (2, 3), (2,)
"""

# _utils: torch's import paths for the collate registry and worker info (torch.utils.data._utils.collate)
from tritongrad.utils.data import _utils  # noqa: F401
from tritongrad.utils.data._utils.collate import default_collate, default_convert
from tritongrad.utils.data._utils.worker import get_worker_info
from tritongrad.utils.data.dataloader import DataLoader, _DatasetKind
from tritongrad.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from tritongrad.utils.data.distributed import DistributedSampler
from tritongrad.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
    "_DatasetKind",
]

"""Optimizers with fused multi-tensor update kernels, and learning-rate schedulers."""

from tritongrad.optim import lr_scheduler, swa_utils  # noqa: F401
from tritongrad.optim.adadelta import Adadelta  # noqa: F401
from tritongrad.optim.adagrad import Adagrad  # noqa: F401
from tritongrad.optim.adam import Adam, AdamW  # noqa: F401
from tritongrad.optim.adamax import Adamax  # noqa: F401
from tritongrad.optim.asgd import ASGD  # noqa: F401
from tritongrad.optim.lbfgs import LBFGS  # noqa: F401
from tritongrad.optim.nadam import NAdam  # noqa: F401
from tritongrad.optim.optimizer import Optimizer  # noqa: F401
from tritongrad.optim.radam import RAdam  # noqa: F401
from tritongrad.optim.rmsprop import RMSprop  # noqa: F401
from tritongrad.optim.rprop import Rprop  # noqa: F401
from tritongrad.optim.sgd import SGD  # noqa: F401

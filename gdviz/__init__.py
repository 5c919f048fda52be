"""gdviz: see how gradient-descent optimizers move.

The numerical core (numpy only) is imported here::

    import gdviz
    traj = gdviz.run("Momentum", "elongated_bowl", steps=50, lr=0.1, momentum=0.9)

The picture layers load on first use, so ``import gdviz`` never imports matplotlib:
``gdviz.plotting`` (figures), ``gdviz.animation`` (players and GIFs) and ``gdviz.explorer``
(ipywidgets sliders).
"""
from importlib import import_module

from . import schedules
from ._project import RELEASE_TAG, REPOSITORY_URL
from .hyperparams import HYPERPARAMETERS, Hyperparameter
from .optimizers import (OPTIMIZERS, SGD, AdaGrad, Adadelta, Adam, AdamW, Momentum, Nesterov,
                         Optimizer, RMSprop, get_optimizer, optimizer_class)
from .surfaces import SURFACES, Quadratic, Surface, get_surface, surface_class
from .trajectory import SweepResult, Trajectory, run, sweep

__version__ = "0.1.0"

_LAZY = ("plotting", "animation", "explorer", "theory", "variants", "exercises", "notebook",
         "comparison", "data", "network", "training", "landscape", "network_plots", "checks", "rates")


def __getattr__(name):
    if name in _LAZY:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gdviz' has no attribute {name!r}")


__all__ = ["OPTIMIZERS", "SURFACES", "HYPERPARAMETERS", "Hyperparameter", "Optimizer",
           "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adadelta", "Adam", "AdamW",
           "get_optimizer", "optimizer_class", "Surface", "Quadratic", "get_surface",
           "surface_class", "Trajectory", "run", "SweepResult", "sweep", "schedules",
           "REPOSITORY_URL", "RELEASE_TAG", "__version__", *_LAZY]

"""Simulators of a two-layer linear network (gradient flow and gradient descent)."""

from ._descent import gradient_descent as gradient_descent
from ._flow import gradient_flow as gradient_flow
from ._task import AlignedTask as AlignedTask
from ._task import aligned_init as aligned_init
from ._trajectory import Trajectory as Trajectory

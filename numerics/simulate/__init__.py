"""Simulators of the networks the closed forms describe: the aligned two-layer linear network (gradient flow
and descent), the matrix network from any start, the single neuron, linear and deep linear regression from
pretrained weights, diagonal networks, kernel regression, muP transfer, wide ReLU networks, online SGD and the
mean-field staircase network."""

from ._descent import gradient_descent as gradient_descent
from ._flow import gradient_flow as gradient_flow
from ._task import AlignedTask as AlignedTask
from ._task import aligned_init as aligned_init
from ._trajectory import Trajectory as Trajectory

# the models' simulators: imported on first use (PEP 562), so that importing the package stays cheap
_LAZY = {
    'DeepLinearFit': ('._deep_linear', 'DeepLinearFit'),
    'DiagonalWeights': ('._diagonal', 'DiagonalWeights'),
    'MatrixTrajectory': ('._matrix_network', 'MatrixTrajectory'),
    'NeuronTrajectory': ('._single_neuron', 'NeuronTrajectory'),
    'ReluNetwork': ('._ntk', 'ReluNetwork'),
    'FinetuneRuns': ('._lowrank_finetune', 'FinetuneRuns'),
    'SGDRuns': ('._online_sgd', 'SGDRuns'),
    'adapter_sgd': ('._lowrank_finetune', 'adapter_sgd'),
    'balanced_layers': ('._deep_linear', 'balanced_layers'),
    'bernoulli_gaussian_task': ('._diagonal', 'bernoulli_gaussian_task'),
    'deep_linear_flow': ('._deep_linear', 'deep_linear_flow'),
    'descent_contraction': ('._linear_teacher', 'descent_contraction'),
    'diagonal_init': ('._diagonal', 'diagonal_init'),
    'empirical_ntk': ('._ntk', 'empirical_ntk'),
    'end_to_end': ('._deep_linear', 'end_to_end'),
    'finetune_min_norm': ('._kernel_regression', 'finetune_min_norm'),
    'fresh_readout_losses': ('._mup_transfer', 'fresh_readout_losses'),
    'imbalance': ('._deep_linear', 'imbalance'),
    'init_network': ('._mup_transfer', 'init_network'),
    'krr_gaussian_features': ('._kernel_regression', 'krr_gaussian_features'),
    'krr_mode_errors': ('._kernel_regression', 'krr_mode_errors'),
    'linear_regression_descent': ('._linear_teacher', 'linear_regression_descent'),
    'matrix_gradient_descent': ('._matrix_network', 'matrix_gradient_descent'),
    'matrix_gradient_flow': ('._matrix_network', 'matrix_gradient_flow'),
    'neuron_gradient_descent': ('._single_neuron', 'neuron_gradient_descent'),
    'neuron_gradient_flow': ('._single_neuron', 'neuron_gradient_flow'),
    'online_sgd': ('._online_sgd', 'online_sgd'),
    'pretrain': ('._mup_transfer', 'pretrain'),
    'pretrain_finetune': ('._diagonal', 'pretrain_finetune'),
    'reset': ('._diagonal', 'reset'),
    'staircase_sgd': ('._staircase_sgd', 'staircase_sgd'),
    'staircase_sgd_runs': ('._staircase_sgd', 'staircase_sgd_runs'),
    'silent_alignment_small_init': ('._silent_alignment', 'small_init'),
    'silent_alignment_train': ('._silent_alignment', 'train'),
    'train': ('._diagonal', 'train'),
    'train_linearised': ('._ntk', 'train_linearised'),
    'train_network': ('._ntk', 'train_network'),
    'two_stage_network': ('._two_stage_network', 'two_stage_network'),
}


from .._lazy_exports import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = ["AlignedTask", "Trajectory", "aligned_init", "gradient_descent", "gradient_flow", *sorted(_LAZY)]

r"""Generalization error of the interpolating diagonal network in the proportional limit (replica symmetric).

``diagonal.generalization_error`` (registered): a single Bernoulli-Gaussian task (beta*_i = 0 w.p.
1 - rho, else N(0, 1/rho), so E beta*^2 = 1), uniform kappa (kappa = 2c for pretraining from the
(c, lam) initialisation, whatever lam is), alpha = n/d, X_ij ~ N(0, 1/n), noiseless labels. Output:
the per-coordinate error ``eps = ||beta_hat - beta*||^2 / d`` (the test MSE for x ~ N(0, I/d);
multiply by d for x ~ N(0, I)).

The richer pretrain -> fine-tune call is :func:`finetune_generalization_error` (public as
``derive.diagonal.finetune_generalization_error``):
teacher groups OV / NEW / PT-only / NONE (research note §2.2) with the per-group fine-tuning
scale of ``diagonal.kappa_ft_merged`` (protocol ``"merged"``) or ``diagonal.kappa_ft_readout_reset``
(protocol ``"readout_reset"``, only at gamma = 0, where the Bregman centre is 0).

Equations, numerics and the branch selection (the fixed point state evolution reaches from the zero
estimate, searched below *and* above it): :func:`numerics._replica_diagonal.solve`, the one solver
both entry points use (research note §4, DERIVED+CHECKED D8, D9; the note's D8 values are
reproduced to the digits it quotes). Sign convention as in
:mod:`derive._diagonal_model` (lam = v^2 - w^2).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from numerics._replica_diagonal import bernoulli_gaussian_groups, solve

from ._diagonal_model import REFS, SETTING
from ._domain import Param, interval, positive
from ._registry import register
from ._result import Result

P_KAPPA = Param("kappa", positive(), r"\kappa", "uniform implicit-bias scale (2c at pretraining)")
P_ALPHA = Param("alpha", interval(0.0, 1.0, lo_open=True, hi_open=True), r"\alpha", "samples per dimension n/d")
P_RHO = Param("rho", interval(0.0, 1.0, lo_open=True), r"\rho", "fraction of nonzero teacher coordinates")

_s, _g, _z, _xh, _x, _xi = sp.symbols(r"s g z \hat{x} x \xi", real=True)
_eps = sp.Symbol(r"\varepsilon_g")
_E = sp.Function(r"\mathbb{E}")
# Display: the error of the scalar channel, then the equations fixing (s, g). Every left-hand side is a
# fresh symbol or an expression that the display does not contain, so ``Result.expr`` (which substitutes
# the definitions into the display) stays E(x - xhat)^2 and no parameter is ever replaced.
DISPLAY = _E((_x - _xh) ** 2)
DEFINITIONS = (
    (_s**2, _eps / P_ALPHA.symbol),                                                    # noise of the channel
    (_E(1 / (1 + _g / sp.sqrt(P_KAPPA.symbol**2 + 4 * _xh**2))), P_ALPHA.symbol),      # degrees of freedom
    (_xh + _g / 2 * sp.asinh(2 * _xh / P_KAPPA.symbol), _z),                           # xhat = prox_{g phi}(z)
    (_z, _x + _s * _xi),                                                               # scalar channel
)


def _evaluate(kappa, alpha, rho):
    k, a, r = np.broadcast_arrays(kappa, alpha, rho)
    out = np.empty(k.shape)
    for idx in np.ndindex(k.shape):
        out[idx] = solve(float(a[idx]), bernoulli_gaussian_groups(float(k[idx]), float(r[idx])))["eps"]
    return out


generalization_error = register(Result(
    "diagonal.generalization_error",
    title="Generalization error of an interpolating diagonal network (Bernoulli–Gaussian teacher, proportional limit)",
    params=[P_KAPPA, P_ALPHA, P_RHO],
    expr=DISPLAY, output="eps", output_latex=r"\varepsilon_g",
    definitions=DEFINITIONS,
    evaluator=_evaluate,
    conditions=(
        "n, d -> inf with alpha = n/d in (0, 1); X_ij ~ N(0, 1/n); noiseless labels y = X beta*",
        "teacher Bernoulli-Gaussian: beta*_i = 0 w.p. 1 - rho, else N(0, 1/rho) (E beta*^2 = 1)",
        "estimator: the interpolator diagonal.implicit_bias with uniform kappa and centre 0 (e.g. pretraining, kappa = 2c)",
        ("replica-symmetric scalar channel z = x + s xi, xi ~ N(0, 1) independent of x ~ teacher prior; "
         "xhat = prox of g phi_kappa; E over x and xi; (s, g) the fixed point of the two equations shown"),
        ("branch: the fixed point state evolution reaches from the zero estimate s0^2 = E beta*^2/alpha "
         "(the first root below s0 when the residual there is negative, the first above it when positive)"),
        "per-coordinate error ||beta_hat - beta*||^2/d; finite-d simulations lie 1-5 % above it (finite-size bias)",
    ),
    source=("RS / state-evolution equations: research note diagonal-linear.md §4 (DERIVED+CHECKED D8, D9; "
            "Rangan-Goyal-Fletcher-style MAP analysis, as in the authors' replica code); ridge limit "
            "(1 - alpha) E beta*^2 as kappa -> inf; " + SETTING),
    references=REFS,
))


def finetune_groups(*, c, lam, gamma, protocol, rho_pt, a_pt, rho_ft, omega):
    """[(p, kappa_F, v)] for the groups OV, NEW, PT-only, NONE (zero-probability groups dropped)."""
    from ._registry import get

    if protocol == "merged":
        res = get("diagonal.kappa_ft_merged")
    elif protocol == "readout_reset":
        if gamma != 0:
            raise ValueError("gamma: the readout reset has a nonzero Bregman centre for gamma != 0; the RS equations "
                             "here assume centre 0 (use gamma = 0 or protocol='merged')")
        res = get("diagonal.kappa_ft_readout_reset")
    else:
        raise ValueError(f"protocol: must be 'merged' or 'readout_reset', got {protocol!r}")
    for name, val, ok, cond in (("c", c, c > 0, "c > 0"), ("lam", lam, abs(lam) <= c, "|lam| <= c"),
                                ("gamma", gamma, gamma >= 0, "gamma >= 0"),
                                ("rho_pt", rho_pt, 0 <= rho_pt <= 1, "0 <= rho_pt <= 1"),
                                ("a_pt", a_pt, a_pt > 0, "a_pt > 0"),
                                ("rho_ft", rho_ft, 0 < rho_ft <= 1, "0 < rho_ft <= 1"),
                                ("omega", omega, 0 <= omega <= 1, "0 <= omega <= 1")):
        if not (np.isfinite(val) and ok):
            raise ValueError(f"{name}: must satisfy {cond}, got {val}")
    if omega * rho_ft > rho_pt + 1e-15 or rho_pt + (1 - omega) * rho_ft > 1 + 1e-15:
        raise ValueError("omega: infeasible overlap: need omega rho_ft <= rho_pt and rho_pt + (1 - omega) rho_ft <= 1")
    k_on = float(res.evaluate(c=c, lam=lam, beta_pt=a_pt, gamma=gamma)["kappa"])
    k_off = float(res.evaluate(c=c, lam=lam, beta_pt=0.0, gamma=gamma)["kappa"])
    if k_off <= 0 or k_on <= 0:
        raise ValueError("lam: kappa_F = 0 on some group (a zero first layer, lam = c, with gamma = 0): "
                         "those coordinates can never move; use |lam| < c")
    groups = [(omega * rho_ft, k_on, 1 / rho_ft), ((1 - omega) * rho_ft, k_off, 1 / rho_ft),
              (rho_pt - omega * rho_ft, k_on, 0.0), (1 - rho_pt - (1 - omega) * rho_ft, k_off, 0.0)]
    return [g for g in groups if g[0] > 0]


def finetune_generalization_error(*, c, lam, gamma, protocol, rho_pt, a_pt, rho_ft, omega, alpha):
    """Per-coordinate fine-tuning error (E beta_FT*^2 = 1) after rich/lazy pretraining on the PT teacher.

    PT teacher: support fraction ``rho_pt``, amplitude ``a_pt`` (the pretrained coefficient on its
    support, assuming pretraining recovered it); FT teacher: Bernoulli-Gaussian with density
    ``rho_ft``; overlap ``omega = |S_pt ∩ S_ft| / |S_ft|``; ``protocol`` "merged" or "readout_reset".
    Example: ``finetune_generalization_error(c=1e-2, lam=0.9e-2, gamma=0.0, protocol="readout_reset",
    rho_pt=0.2, a_pt=1.0, rho_ft=0.1, omega=1.0, alpha=0.3)``.
    """
    groups = finetune_groups(c=c, lam=lam, gamma=gamma, protocol=protocol, rho_pt=rho_pt, a_pt=a_pt,
                             rho_ft=rho_ft, omega=omega)
    return solve(float(alpha), groups)["eps"]


__all__ = ["finetune_generalization_error", "finetune_groups", "generalization_error"]

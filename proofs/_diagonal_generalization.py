"""Claims about ``diagonal.generalization_error`` (replica-symmetric, proportional limit).

Bounds follow from the method:
- the note's D8/D9 values are quoted to 3 significant digits (or 1 for 0.0004): the solver must
  agree to half a unit in the last quoted digit;
- the RS fixed point is re-checked with an independent adaptive quadrature (scipy ``quad``,
  ``epsabs = epsrel = 1e-12``) of the two equations: residuals <= 1e-9 (the trapezoid rule on the
  4001-point grid is spectrally accurate, brentq stops at 1e-13);
- the ridge limit: eps - (1 - alpha) E beta*^2 = O(kappa^-2) (phi_kappa = beta^2/kappa + O(beta^4/kappa^3));
  the claim measures the decay ratio between kappa = 1e3 and 1e4 (100 for an exact kappa^-2 law);
- finite-d simulations (min-Bregman interpolator from :mod:`numerics._bregman`, Gaussian design,
  d = 1000, independent seeds): ``-4 SE <= mean - theory <= 4 SE + B``, with ``B = 0.06 theory``
  the finite-size bias stated by the research note (simulations lie 1-5 % above the limit, more
  near the l1 transition; measured here 0.5-6 %, see the report).
Signs are lazyrich's (``lam = v^2 - w^2``): the note's ``lambda/c = -0.9`` is ``lam/c = +0.9`` here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.integrate import quad

import derive
from derive._diagonal_generalization import finetune_generalization_error
from numerics._replica_diagonal import (
    bernoulli_gaussian_groups,
    prox,
    simulate_finetune,
    simulate_single_task,
    solve,
)

from ._claim import Evidence, claim

GE = "diagonal.generalization_error"
RHO_D8 = 0.1
# (kappa, alpha, RS value quoted by the note, half a unit of its last digit)
D8 = ((0.05, 0.3, 0.254, 5e-4), (0.05, 0.6, 0.0099, 5e-5), (1.0, 0.3, 0.526, 5e-4), (1.0, 0.6, 0.148, 5e-4),
      (20.0, 0.3, 0.698, 5e-4), (20.0, 0.6, 0.393, 5e-4), (1e4, 0.4, 0.6000, 5e-5))
# D9: rho_pt = 0.2, rho_ft = 0.1, a_pt = 1, alpha = 0.3, gamma = 0; lazyrich lam/c (note's sign flipped)
D9_COMMON = dict(gamma=0.0, rho_pt=0.2, a_pt=1.0, rho_ft=0.1, alpha=0.3)
D9 = (("readout_reset", 1e-2, 0.9, 1.0, 0.0004, 5e-5), ("readout_reset", 1e-2, 0.9, 0.0, 0.733, 5e-4),
      ("merged", 1e-2, 0.9, 1.0, 0.0138, 5e-5), ("merged", 1.0, 0.99, 1.0, 0.224, 5e-4),
      ("merged", 1.0, -0.9, 1.0, 0.629, 5e-4))
SIM_D, SIM_SEEDS, Z, BIAS = 1000, 8, 4.0, 0.06


def _ge(kappa, alpha, rho=RHO_D8):
    return float(derive.get(GE).evaluate(kappa=kappa, alpha=alpha, rho=rho))


def _worst(rows):
    """rows of (measured, bound) -> Evidence on the largest measured/bound."""
    ratios = [m / b for m, b in rows]
    k = int(np.argmax(ratios))
    return Evidence(bool(max(ratios) <= 1.0), float(rows[k][0]), float(rows[k][1]),
                    f"worst of {len(rows)} (measured/bound = {max(ratios):.3g})")


@claim("diagonal.generalization_error.note_values",
       "the RS solver reproduces the research note's D8 values (Bernoulli-Gaussian rho = 0.1) to the quoted digits",
       method="high-precision", results=[GE])
def _note_values():
    return _worst([(abs(_ge(k, a) - ref), tol) for k, a, ref, tol in D8])


@claim("diagonal.generalization_error.finetune_note_values",
       "the pretrain -> fine-tune mixture reproduces the note's D9 values (both reset protocols, omega = 0, 1)",
       method="high-precision", results=[GE])
def _finetune_note_values():
    rows = []
    for protocol, c, lam_ratio, omega, ref, tol in D9:
        eps = finetune_generalization_error(c=c, lam=lam_ratio * c, protocol=protocol, omega=omega, **D9_COMMON)
        rows.append((abs(eps - ref), tol))
    return _worst(rows)


def _equation_residuals(kappa, alpha, rho):
    """Re-evaluate both RS equations at the solver's (s, g) by adaptive quadrature in z."""
    groups = bernoulli_gaussian_groups(kappa, rho)
    sol = solve(alpha, groups)
    s, g = sol["s"], sol["g"]
    eps = dof = 0.0
    for p, k, v in groups:
        var = v + s * s

        def dens(z):
            return math.exp(-0.5 * z * z / var) / math.sqrt(2 * math.pi * var)

        def err(z):
            xh = prox(z, g, k)
            return dens(z) * ((z * v / var - xh) ** 2 + v * s * s / var)

        def dfree(z):
            return dens(z) / (1.0 + g / math.sqrt(k * k + 4.0 * prox(z, g, k) ** 2))

        lim = 12.0 * math.sqrt(var)
        eps += p * quad(err, -lim, lim, epsabs=1e-13, epsrel=1e-12, limit=400, points=[0.0])[0]
        dof += p * quad(dfree, -lim, lim, epsabs=1e-13, epsrel=1e-12, limit=400, points=[0.0])[0]
    return abs(eps / alpha - s * s) / (s * s), abs(dof - alpha) / alpha


@claim("diagonal.generalization_error.fixed_point",
       "the returned (s, g) satisfy s^2 = eps/alpha and dof = alpha under an independent adaptive quadrature",
       method="high-precision", results=[GE])
def _fixed_point():
    rows = []
    for kappa, alpha in ((0.05, 0.3), (1.0, 0.6), (20.0, 0.3)):
        r1, r2 = _equation_residuals(kappa, alpha, RHO_D8)
        rows += [(r1, 1e-9), (r2, 1e-9)]
    return _worst(rows)


@claim("diagonal.generalization_error.ridge_limit",
       "lazy limit: eps -> (1 - alpha) E beta*^2 with a kappa^-2 approach (error ratio 100 between kappa = 1e3 and 1e4)",
       method="high-precision", results=[GE])
def _ridge_limit():
    rows = []
    for alpha in (0.2, 0.5, 0.8):
        dev3, dev4 = (_ge(k, alpha) - (1 - alpha) for k in (1e3, 1e4))
        rows.append((abs(dev4), 1e-7))  # 10 (the largest teacher variance) / kappa^2 = 1e-7
        rows.append((abs(dev3 / dev4 / 100.0 - 1.0), 0.05))
    return _worst(rows)


def _sim_rows(draws, theory):
    e = np.asarray(draws)
    se = e.std(ddof=1) / math.sqrt(e.size)
    diff = e.mean() - theory
    # one-sided bias allowance: finite d lies above the limit
    bound = Z * se + (BIAS * theory if diff > 0 else 0.0)
    return abs(diff), bound, f"theory {theory:.4f}, sim {e.mean():.4f} +- {se:.4f}"


@functools.lru_cache(maxsize=1)
def _single_task_sims():
    out = []
    for kappa in (1.0, 20.0):
        draws = [simulate_single_task(kappa, 0.3, RHO_D8, SIM_D, seed) for seed in range(SIM_SEEDS)]
        out.append(_sim_rows(draws, _ge(kappa, 0.3)))
    return out


@claim("diagonal.generalization_error.simulation",
       "finite-d (d = 1000, 8 seeds) min-Bregman interpolators match the RS error within 4 SE + 6 % finite-size bias",
       method="simulation", results=[GE])
def _simulation():
    rows = _single_task_sims()
    ev = _worst([(m, b) for m, b, _ in rows])
    return Evidence(ev.passed, ev.measured, ev.bound, "; ".join(d for _, _, d in rows))


@claim("diagonal.generalization_error.finetune_simulation",
       "pretrain -> merged reset -> fine-tune at d = 1000 (c = 1e-2, lam/c = 0.9, omega = 1) matches the RS mixture",
       method="simulation", results=[GE])
def _finetune_simulation():
    c, lam = 1e-2, 0.9e-2
    res = derive.get("diagonal.kappa_ft_merged")

    def kappa_f(beta_pt):
        return res.evaluate(c=c, lam=lam, beta_pt=beta_pt, gamma=0.0)["kappa"]

    draws = [simulate_finetune(kappa_f, 0.2, 1.0, 0.1, 1.0, 0.3, SIM_D, seed) for seed in range(SIM_SEEDS)]
    theory = finetune_generalization_error(c=c, lam=lam, protocol="merged", omega=1.0, **D9_COMMON)
    m, b, d = _sim_rows(draws, theory)
    return Evidence(bool(m <= b), float(m), float(b), d)

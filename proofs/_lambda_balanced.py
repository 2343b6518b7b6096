"""Claims about ``lambda_balanced.*`` and ``saxe.*``, each checked three ways where it can be.

Bounds follow from the method: exact zero for SymPy identities; a small multiple
of 10^-dps (or of the float64 unit roundoff, for statements about the compiled
kernel) for high-precision checks; the integrator's tolerance for gradient flow;
the slope of log error against log eta for gradient descent (first order).
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp
from scipy import stats

import derive
from derive import _lambda_balanced as lb
from derive import _saxe as sx
from numerics.simulate import aligned_init, gradient_descent, gradient_flow

from ._claim import Evidence, bounded, claim

MODE = "lambda_balanced.mode"
TIME = "lambda_balanced.time_to_learn"
LOSS = "lambda_balanced.loss"
UNIT = 2.0**-52

# points (lam, s, a0, t) that cover both signs of lam and a0, lam = 0 and tiny lam,
# small and large t; shared by the high-precision claims
POINTS = [(lam, s, a0, t)
          for lam in (-10.0, -1.0, -1e-12, 0.0, 1e-12, 0.5, 10.0)
          for s, a0 in ((1.0, 0.01), (1.0, -0.5), (3.0, 2.5), (0.5, 4.0))
          for t in (0.0, 0.3, 2.0, 40.0)]


def _symbolic(difference: sp.Expr, detail: str) -> Evidence:
    ok = sp.simplify(difference) == 0
    return Evidence(ok, 0.0 if ok else None, 0.0, detail if ok else f"{detail}: does not simplify to 0")


# -- the mode solves its ODE ---------------------------------------------------------------
def _display_branches():
    """(lam = 0 & a0 >= 0 branch, lam = 0 & a0 < 0 branch, general branch) of the registered display form."""
    pieces = [expr for expr, _ in lb.MODE_DISPLAY.args]
    return pieces[1], pieces[2], pieces[3]


@claim("lambda_balanced.mode.riccati", "nu(t) solves dnu/dt = s^2 - lam nu - nu^2 with nu(0) = nu0",
       method="symbolic", results=[MODE])
def _riccati():
    defs = dict(lb.MODE_DEFINITIONS)
    K = sp.Symbol("K", positive=True)
    nu = defs[lb.nu].subs({lb.nu_p: defs[lb.nu_p], lb.nu_m: defs[lb.nu_m]}).subs(lb.K, K)
    lam, s, t, r0 = lb.lam, lb.s, lb.t, lb.r0
    residual = sp.diff(nu, t) - (s**2 - lam * nu - nu**2)
    residual = residual.subs(s, sp.sqrt(K**2 - lam**2) / 2)
    # nu(0) = (nu+ - nu- r0)/(1 - r0) with the registered r0 is s c0/d0, the layer ratio
    nu0 = defs[lb.nu].subs(t, 0).subs(r0, defs[lb.r0])
    ok0 = sp.simplify(nu0 - s * lb.c0 / lb.d0) == 0
    ev = _symbolic(residual, "Riccati residual with K^2 = lam^2 + 4 s^2")
    return Evidence(ev.passed and ok0, ev.measured, 0.0, ev.detail + ("" if ok0 else "; nu(0) != s c0/d0"))


@claim("lambda_balanced.mode.ode_residual",
       "a = lam s nu/(s^2 - nu^2) solves da/dt = sqrt(lam^2 + 4a^2)(s - a) (lam != 0; c, d the layer values)",
       method="symbolic", results=[MODE])
def _ode_residual():
    s = sp.Symbol("s", positive=True)
    c = sp.Symbol("c", real=True)
    d = sp.Symbol("d", positive=True)
    lam, a, nu = d**2 - c**2, c * d, s * c / d
    nu_sym = sp.Symbol("nu", real=True)
    a_of_nu = _display_branches()[2].subs({lb.lam: lam, lb.s: s, lb.nu: nu_sym})
    adot = (sp.diff(a_of_nu, nu_sym) * (s**2 - lam * nu_sym - nu_sym**2)).subs(nu_sym, nu)
    # a(nu) is the product c d; its rate over (s - a) is c^2 + d^2 = sqrt(lam^2 + 4a^2) > 0
    checks = [a_of_nu.subs(nu_sym, nu) - a, adot / (s - a) - (c**2 + d**2), (c**2 + d**2) ** 2 - (lam**2 + 4 * a**2)]
    ok = all(sp.simplify(x) == 0 for x in checks)
    return Evidence(ok, 0.0 if ok else None, 0.0, "a(nu) = c d; adot/(s-a) = c^2+d^2; (c^2+d^2)^2 = lam^2+4a^2")


@claim("lambda_balanced.mode.saxe_branches",
       "at lam = 0 the logistic (a0 >= 0) and its time reversal (a0 < 0) solve da/dt = 2|a|(s - a)",
       method="symbolic", results=[MODE])
def _saxe_branches():
    s, t = sp.symbols("s t", positive=True)
    a0p, a0n = sp.Symbol("a0", positive=True), sp.Symbol("a0", negative=True)
    pos, neg, _ = _display_branches()
    up = pos.subs({lb.s: s, lb.t: t, lb.a0: a0p})
    un = neg.subs({lb.s: s, lb.t: t, lb.a0: a0n})
    checks = [sp.diff(up, t) - 2 * up * (s - up), sp.diff(un, t) + 2 * un * (s - un),
              up.subs(t, 0) - a0p, un.subs(t, 0) - a0n]
    ok = all(sp.simplify(x) == 0 for x in checks)
    return Evidence(ok, 0.0 if ok else None, 0.0, "residuals and initial values")


@claim("lambda_balanced.mode.kernel_equals_display",
       "the compiled decaying-exponential form equals the Riccati display form (mpmath, 50 digits)",
       method="high-precision", results=[MODE])
def _kernel_vs_display():
    mode = derive.get(MODE)
    worst = 0.0
    for lam, s, a0, t in POINTS:
        ref = mode.mp(dps=50, lam=lam, s=s, a0=a0, t=t)
        val = float(mode.evaluate(lam=lam, s=s, a0=a0, t=t))
        worst = max(worst, abs(val - float(ref)) / max(abs(float(ref)), s * 1e-3))
    return bounded(worst, 64 * UNIT, f"{len(POINTS)} points; error relative to max(|a|, 1e-3 s)")


# -- conservation law and simulation -------------------------------------------------------
_LAMS = (-10.0, -1.0, 0.0, 1.0, 10.0)


@functools.cache  # three claims read the same five trajectories
def _flow(lam, Ni=3, No=2):
    s = np.array([2.0, 1.0])
    a0 = np.array([0.05, -0.3]) if lam != 0 else np.array([0.05, 0.3])
    task = aligned_init(lam, s, a0, Ni=Ni, No=No, Lstar=0.25, seed=1)
    times = np.linspace(0.0, 4.0, 9)
    return task, times, gradient_flow(task, times, rtol=1e-12, atol=1e-14)


@claim("lambda_balanced.conservation",
       "gradient flow conserves W2^T W2 - W1 W1^T = lam I (simulation, DOP853 rtol 1e-12)",
       method="simulation", results=[MODE])
def _conservation():
    worst = max(float(np.max(_flow(lam)[2].imbalance)) / max(1.0, abs(lam)) for lam in _LAMS)
    return bounded(worst, 1e-9, "max |W2^T W2 - W1 W1^T - lam I| / max(1, |lam|) over t in [0, 4]")


@claim("lambda_balanced.mode.gradient_flow",
       "every aligned mode of the simulated network follows the closed form (relative error <= 1e-8)",
       method="simulation", results=[MODE])
def _mode_vs_flow():
    mode = derive.get(MODE)
    worst = 0.0
    for lam in _LAMS:
        task, times, traj = _flow(lam)
        a0 = traj.modes[0]
        theory = mode.evaluate(lam=lam, s=task.s[None, :], a0=a0[None, :], t=times[:, None])
        worst = max(worst, float(np.max(np.abs(traj.modes - theory) / np.maximum(np.abs(theory), 1e-3))))
    return bounded(worst, 1e-8, "lam in {-10,-1,0,1,10}, (Ni,No) = (3,2), two modes incl. one crossing zero")


@claim("lambda_balanced.loss.gradient_flow",
       "the loss of the simulated network is (1/2) sum (s - a(t))^2 + L* (relative error <= 1e-8)",
       method="simulation", results=[LOSS])
def _loss_vs_flow():
    loss = derive.get(LOSS)
    worst = 0.0
    for lam in _LAMS:
        task, times, traj = _flow(lam)
        theory = loss.evaluate(lam=lam, s=task.s, a0=traj.modes[0], t=times, Lstar=task.Lstar)
        worst = max(worst, float(np.max(np.abs(traj.loss - theory) / np.abs(theory))))
    return bounded(worst, 1e-8, "L* = 0.25 from label noise orthogonal to the inputs")


@claim("lambda_balanced.mode.gradient_descent_order",
       "gradient descent at rate eta approaches the closed form as O(eta) (slope of log error vs log eta)",
       method="simulation", results=[MODE])
def _gd_order():
    mode = derive.get(MODE)
    etas = np.array([0.04, 0.02, 0.01, 0.005])
    errs = []
    task = aligned_init(1.0, np.array([2.0, 1.0]), np.array([0.05, 0.1]), Ni=2, No=2, seed=3)
    T = 2.0
    for eta in etas:
        traj = gradient_descent(task, eta, int(round(T / eta)))
        theory = mode.evaluate(lam=1.0, s=task.s, a0=np.array([0.05, 0.1]), t=T)
        errs.append(float(np.max(np.abs(traj.modes[-1] - theory))))
    slope = stats.linregress(np.log(etas), np.log(errs)).slope
    return bounded(abs(slope - 1.0), 0.2, f"slope {slope:.3f}; errors {', '.join(f'{e:.2e}' for e in errs)}")


# -- limits -----------------------------------------------------------------------------------
def _sigmoid(s, a0, t):
    return s * a0 / (a0 + (s - a0) * mpmath.exp(-2 * s * t))


@claim("lambda_balanced.mode.limit_rich",
       "lam -> 0 gives Saxe's sigmoid: |a_lam(t) - sigmoid(t)| = O(lam) (measured order 2; mpmath, 40 digits)",
       method="high-precision", results=[MODE])
def _limit_rich():
    mode = derive.get(MODE)
    lams = [mpmath.mpf(10) ** -k for k in range(3, 9)]
    with mpmath.workdps(40):
        errs = [abs(mode.mp(dps=40, lam=lam, s=1.0, a0=0.01, t=3.0) - _sigmoid(1, mpmath.mpf("0.01"), 3))
                for lam in lams]
    slope = stats.linregress([float(mpmath.log(x)) for x in lams], [float(mpmath.log(e)) for e in errs]).slope
    # the error vanishes at least linearly (slope >= 1 within 0.05); it is measured quadratic here
    return bounded(max(0.0, 1.0 - slope), 0.05, f"slope of log error vs log lam = {slope:.4f}")


@claim("lambda_balanced.mode.limit_lazy",
       "|lam| -> inf at fixed tau = |lam| t gives s + (a0 - s) e^(-tau): error O(1/|lam|) (measured order 2), "
       "both signs",
       method="high-precision", results=[MODE])
def _limit_lazy():
    mode = derive.get(MODE)
    slopes = []
    for sign in (1, -1):
        lams = [sign * mpmath.mpf(10) ** k for k in range(3, 8)]
        with mpmath.workdps(40):
            errs = [abs(mode.mp(dps=40, lam=lam, s=1.0, a0=0.01, t=mpmath.mpf(1) / abs(lam))
                        - (1 + (mpmath.mpf("0.01") - 1) * mpmath.exp(-1))) for lam in lams]
        slopes.append(stats.linregress([float(mpmath.log(abs(x))) for x in lams],
                                       [float(mpmath.log(e)) for e in errs]).slope)
    worst = max(max(0.0, sl + 1.0) for sl in slopes)  # slope <= -1 within 0.05
    return bounded(worst, 0.05, f"slopes {slopes[0]:.4f} (lam > 0), {slopes[1]:.4f} (lam < 0)")


@claim("lambda_balanced.mode.continuity_at_zero",
       "the kernel is continuous at lam = 0: |a(+-1e-12) - a(0)| and |a(+-1e-300) - a(0)| <= 1e-11 s",
       method="high-precision", results=[MODE])
def _continuity():
    mode = derive.get(MODE)
    worst = 0.0
    for s, a0 in ((1.0, 0.01), (1.0, -0.5), (2.0, 1.5)):
        t = np.array([0.0, 0.5, 3.0, 10.0])
        ref = mode.evaluate(lam=0.0, s=s, a0=a0, t=t)
        for lam in (1e-12, -1e-12, 1e-300, -1e-300):
            worst = max(worst, float(np.max(np.abs(mode.evaluate(lam=lam, s=s, a0=a0, t=t) - ref))) / s)
    return bounded(worst, 1e-11, "t in {0, 0.5, 3, 10}")


# -- time to learn ---------------------------------------------------------------------------
_TIME_POINTS = [(lam, 1.0, a0, af) for lam in (-3.0, -0.1, 0.1, 2.0, 30.0)
                for a0, af in ((0.01, 0.9), (-0.5, 0.5), (0.3, 0.31), (2.0, 1.2))]


@claim("lambda_balanced.time_to_learn.inverts_mode",
       "mode(time_to_learn(a0 -> af)) = af (mpmath, 40 digits)",
       method="high-precision", results=[TIME, MODE])
def _inverts():
    mode, ttl = derive.get(MODE), derive.get(TIME)
    worst = 0.0
    with mpmath.workdps(40):
        for lam, s, a0, af in _TIME_POINTS:
            t = ttl.mp(dps=40, lam=lam, s=s, a0=a0, af=af)
            worst = max(worst, float(abs(mode.mp(dps=40, lam=lam, s=s, a0=a0, t=t) - af)))
    return bounded(worst, 1e-30, f"{len(_TIME_POINTS)} (lam, a0, af) triples incl. crossings and a0 > s")


@claim("lambda_balanced.time_to_learn.quadrature",
       "time_to_learn equals the integral of da / (sqrt(lam^2 + 4a^2)(s - a)) (mpmath quad, 30 digits)",
       method="high-precision", results=[TIME])
def _quadrature():
    ttl = derive.get(TIME)
    worst = 0.0
    with mpmath.workdps(30):
        for lam, s, a0, af in _TIME_POINTS:
            ml, ms = mpmath.mpf(lam), mpmath.mpf(s)  # lam**2 of a Python float would round to float64
            f = lambda a, ml=ml, ms=ms: 1 / (mpmath.sqrt(ml**2 + 4 * a**2) * (ms - a))  # noqa: E731
            # the integrand peaks at a = 0 with width |lam|: give tanh-sinh those breakpoints
            inner = [x for x in (-abs(lam), 0.0, abs(lam)) if min(a0, af) < x < max(a0, af)]
            pts = [a0, *(inner if a0 < af else inner[::-1]), af]
            q = mpmath.quad(f, pts)
            worst = max(worst, float(abs(q - ttl.mp(dps=30, lam=lam, s=s, a0=a0, af=af)) / abs(q)))
    return bounded(worst, 1e-25, "tanh-sinh quadrature, split at 0")


@claim("lambda_balanced.time_to_learn.limit_rich",
       "at lam = 0 (0 < a0 <= af < s) time_to_learn is Saxe's (1/2s) ln[af (s - a0) / (a0 (s - af))]",
       method="symbolic", results=[TIME])
def _time_limit_rich():
    s, a0, af = sp.symbols("s a0 af", positive=True)
    expr = lb._time_to_learn(sp.Integer(0), s, a0, af).args[1][0]  # the general branch
    saxe = sp.log(af * (s - a0) / (a0 * (s - af))) / (2 * s)
    diff = sp.expand_log(sp.simplify(expr.subs({sp.Abs(s - a0): s - a0, sp.Abs(s - af): s - af}) - saxe), force=True)
    return _symbolic(diff, "general branch at lam = 0 minus Saxe's formula")


@claim("lambda_balanced.time_to_learn.limit_lazy",
       "|lam| t_learn -> ln((s - a0)/(s - af)) as |lam| -> inf (error O(1/|lam|), mpmath)",
       method="high-precision", results=[TIME])
def _time_limit_lazy():
    ttl = derive.get(TIME)
    with mpmath.workdps(40):
        target = mpmath.log(mpmath.mpf("0.99") / mpmath.mpf("0.01"))
        errs = [abs(abs(lam) * ttl.mp(dps=40, lam=lam, s=1.0, a0=0.01, af=0.99) - target)
                for lam in (mpmath.mpf(10) ** 4, -mpmath.mpf(10) ** 4, mpmath.mpf(10) ** 6)]
    # O(s/|lam|) terms: the error at 1e6 must be ~100x smaller than at 1e4
    ratio = float(errs[2] / errs[0])
    return bounded(max(float(errs[0]), float(errs[1])) * 1e-2 + ratio, 0.02,
                    f"errors {float(errs[0]):.2e} (1e4), {float(errs[1]):.2e} (-1e4), {float(errs[2]):.2e} (1e6)")


# -- depth-N chain -----------------------------------------------------------------------------
@claim("saxe.depth_chain_time.derivative",
       "d/du T_N(u^(1/N)) = 1 / (N u^(2-2/N) (s - u)) for N = 2, 3, 4, 6 (SymPy, exact)",
       method="symbolic", results=["saxe.depth_chain_time"])
def _chain_derivative():
    u, s = sp.symbols("u s", positive=True)
    ok = True
    for n in (2, 3, 4, 6):
        T = sx.antiderivative_fixed(u ** sp.Rational(1, n), n, s)
        rate = 1 / (n * u ** (2 - sp.Rational(2, n)) * (s - u))
        d = sp.diff(T, u) - rate
        # atan2 derivatives are exact for v away from the real roots; check on u < s by substitution
        ok &= sp.simplify(sp.nsimplify(d.subs(s, 1))) == 0 or all(
            abs(complex(d.subs({s: 1, u: x}).evalf(40))) < 1e-35 for x in (sp.Rational(1, 7), sp.Rational(3, 5)))
    return Evidence(bool(ok), 0.0 if ok else None, 0.0, "symbolic, with 40-digit spot checks where simplify stalls")


@claim("saxe.depth_chain_time.sympy_integrate",
       "T_N agrees with SymPy's integrate(1/(N u^(2-2/N)(s-u)), u) up to a constant for N = 2, 3 (30 digits)",
       method="symbolic", results=["saxe.depth_chain_time"])
def _chain_vs_integrate():
    u = sp.Symbol("u", positive=True)
    s = sp.Integer(2)
    worst = 0.0
    for n in (2, 3):
        ours = sx.antiderivative_fixed(u ** sp.Rational(1, n), n, s)
        theirs = sp.integrate(1 / (n * u ** (2 - sp.Rational(2, n)) * (s - u)), u)
        vals = [complex((ours - theirs).subs(u, x).evalf(30)) for x in (sp.Rational(1, 10), sp.Rational(3, 2))]
        worst = max(worst, abs(vals[0].real - vals[1].real))
    return bounded(worst, 1e-25, "difference of the two antiderivatives is constant on (0, s)")


@claim("saxe.depth_chain.ode",
       "the kernel's u(t) solves du/dt = N u^(2-2/N)(s - u) (mpmath Taylor ODE solver, 30 digits)",
       method="high-precision", results=["saxe.depth_chain"])
def _chain_ode():
    chain = derive.get("saxe.depth_chain")
    worst = 0.0
    for n, s, u0 in ((2, 1.0, 0.01), (3, 2.0, 0.05), (5, 1.0, 1.5)):
        with mpmath.workdps(30):
            sol = mpmath.odefun(lambda t, y, n=n, s=s: n * y ** (2 - mpmath.mpf(2) / n) * (s - y), 0, mpmath.mpf(u0))
            for t in (0.5, 2.0):
                ref = sol(t)
                val = float(chain.evaluate(N=n, s=s, u0=u0, t=t))
                worst = max(worst, abs(val - float(ref)) / float(ref))
    return bounded(worst, 1e-12, "N in {2, 3, 5}, u0 below and above s")


@claim("saxe.depth_chain.two_layers",
       "the N = 2 chain is the lam = 0 aligned mode (kernels agree to 1e-13 relative)",
       method="high-precision", results=["saxe.depth_chain", MODE])
def _chain_two_layers():
    t = np.linspace(0.0, 5.0, 11)
    u = derive.get("saxe.depth_chain").evaluate(N=2, s=1.5, u0=0.02, t=t)
    a = derive.get(MODE).evaluate(lam=0.0, s=1.5, a0=0.02, t=t)
    return bounded(float(np.max(np.abs(u - a) / a)), 1e-13)


@claim("saxe.depth_chain.inverts_time",
       "depth_chain(depth_chain_time(u0 -> u)) = u for N = 2..8",
       method="high-precision", results=["saxe.depth_chain", "saxe.depth_chain_time"])
def _chain_inverts():
    chain, ttl = derive.get("saxe.depth_chain"), derive.get("saxe.depth_chain_time")
    u = np.array([0.02, 0.3, 0.9, 0.999])
    worst = 0.0
    for n in range(2, 9):
        t = ttl.evaluate(N=n, s=1.0, u0=0.01, u=u)
        worst = max(worst, float(np.max(np.abs(chain.evaluate(N=n, s=1.0, u0=0.01, t=t) - u) / u)))
    return bounded(worst, 1e-12, "float64 round trip; conditioning near u = s bounds the error")


__all__: list[str] = []

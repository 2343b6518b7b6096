"""Claims about ``transfer.*``: the adapted kernel after rich pretraining and the fine-tuning loss.

Bounds: exact zero for SymPy identities; a small multiple of the float64 unit roundoff for the
compiled kernels against mpmath at 50 digits; the RK4 step for the network simulation (orthonormal
initialisation makes the finite network follow the N -> inf theory exactly, see
``numerics.simulate._mup_transfer``); Monte Carlo within Bonferroni z standard errors plus the
O(1/P2) bias of the kernel-regression deterministic equivalent.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

import derive
from derive import _transfer as tr
from numerics.simulate._mup_transfer import fresh_readout_losses, init_network, pretrain

from ._claim import Evidence, bounded, claim
from ._learning_curve import z_family

CHI, RHO, TIME, AUU, NTK = ("transfer.chi", "transfer.rho", "transfer.time_to_rho", "transfer.a_uu",
                            "transfer.ntk_eigenvalues")
FT, FTD, FTM, FLOOR = ("transfer.finetune_loss", "transfer.finetune_loss_finite_d", "transfer.finetune_loss_multispike",
                       "transfer.infinite_richness_floor")
UNIT = 2.0**-52
GAMMAS = (0.0, 1e-9, 1e-3, 0.5, 1.0, 4.0, 100.0)


def _all_zero(exprs, detail: str) -> Evidence:
    ok = all(sp.simplify(e) == 0 for e in exprs)
    return Evidence(ok, 0.0 if ok else None, 0.0, detail if ok else detail + ": does not simplify to 0")


@claim("transfer.chi.stable_form",
       "chi = sqrt(1 + gamma1^2) - 1 = gamma1^2/(sqrt(1 + gamma1^2) + 1) = A_uu(rho = 1) - 1, and the compiled "
       "kernel is accurate to 4 u relative down to gamma1 = 1e-9 (mpmath, 50 digits)",
       method="high-precision", results=[CHI])
def _chi():
    g = tr.g
    sym_ok = sp.simplify(tr.CHI_STABLE - tr.CHI_EXPR) == 0 and sp.simplify(
        sp.sqrt(1 + g**2 * 1**2) - 1 - tr.CHI_EXPR) == 0
    worst = 0.0
    for gv in GAMMAS:
        val = float(derive.get(CHI).evaluate(gamma1=gv))
        with mpmath.workdps(50):
            ref = mpmath.sqrt(1 + mpmath.mpf(gv) ** 2) - 1
        worst = max(worst, abs(val - float(ref)) / float(ref) if ref else abs(val))
    return Evidence(sym_ok and worst <= 4 * UNIT, worst, 4 * UNIT, f"symbolic {sym_ok}; measured = max relative error")


@claim("transfer.rho.ode",
       "rho(t) = (1 - 2q - gamma1^2 q^2)/(1 + 2 gamma1^2 q - gamma1^2 q^2), q = e^{-2st}/(1 + s), s = sqrt(1 + gamma1^2), "
       "solves drho/dt = 2 sqrt(1 + gamma1^2 rho^2)(1 - rho) with rho(0) = 0 (SymPy)",
       method="symbolic", results=[RHO, AUU, NTK])
def _rho_ode():
    g, q, s, R = tr.g, tr.q_, tr.s_, tr.RHO_EXPR
    # drho/dt = drho/dq dq/dt with dq/dt = -2 s q; the rate over 2(1 - rho) must be sqrt(1 + gamma1^2 rho^2):
    # it is positive (1 + gamma1^2 q^2 > 0 over 1 + gamma1^2 q (2 - q) > 0 for 0 < q <= 1/(1 + s)) and its
    # square is 1 + gamma1^2 rho^2 once s^2 = 1 + gamma1^2
    rate = sp.simplify(sp.diff(R, q) * (-2 * s * q) / (2 * (1 - R)))
    pos = sp.simplify(rate - s * (1 + g**2 * q**2) / (1 + g**2 * q * (2 - q))) == 0
    ev = _all_zero([(rate**2 - (1 + g**2 * R**2)).subs(g**2, s**2 - 1),
                    R.subs(q, 1 / (1 + s)).subs(g**2, s**2 - 1)], "rate^2 = 1 + gamma1^2 rho^2; rho(0) = 0")
    return Evidence(ev.passed and pos, ev.measured, 0.0, ev.detail + f"; rate = s(1 + g^2 q^2)/(1 + g^2 q (2 - q)) {pos}")


@claim("transfer.time_to_rho.sympy_integral",
       "SymPy integrates dt = drho/(2 sqrt(1 + gamma1^2 rho^2)(1 - rho)) (substituting v = 1/(1 - rho)); the result "
       "equals the registered log form up to the constant that makes t(0) = 0, whose rho-derivative is the integrand",
       method="symbolic", results=[TIME])
def _time_integral():
    g, rho = tr.g, tr.rho
    v = sp.Symbol("v", positive=True)
    integrand = 1 / (2 * sp.sqrt(1 + g**2 * rho**2) * (1 - rho))
    # dt = integrand drho with rho = 1 - 1/v, drho = dv/v^2: the integrand becomes 1/(2 sqrt(v^2 + g^2 (v - 1)^2))
    prim = sp.integrate(1 / (2 * sp.sqrt(v**2 + g**2 * (v - 1) ** 2)), v)
    prim = prim.args[0][0] if isinstance(prim, sp.Piecewise) else prim  # the branch for g > 0
    sympy_t = (prim.subs(v, 1 / (1 - rho)) - prim.subs(v, 1))
    registered = tr.TIME_EXPR.subs(tr.s_, sp.sqrt(1 + g**2))
    checks = [sp.diff(registered, rho) - integrand, registered.subs(rho, 0)]
    ev = _all_zero(checks, "d t/d rho = integrand, t(0) = 0")
    # SymPy's own antiderivative (an asinh) agrees with the registered log form at sample points, exactly
    pts = [(sp.Rational(1, 2), sp.Rational(3, 10)), (sp.Integer(4), sp.Rational(9, 10)), (sp.Rational(1, 10), 0)]
    diffs = [abs(float(sp.N((sympy_t - registered).subs({g: gv, rho: rv}), 40))) for gv, rv in pts]
    ok = ev.passed and max(diffs) < 1e-35
    return Evidence(ok, max(diffs), 1e-35, ev.detail + "; measured = |SymPy's integral - log form| at 40 digits")


@claim("transfer.rho.inverse",
       "t(rho(t)) = t (mpmath, 50 digits), the compiled stable forms equal the display forms, and the kernels for rho, "
       "t(rho), A_uu and the NTK eigenvalues match 50-digit values to 64 u relative (t from 1e-6 to 3)",
       method="high-precision", results=[RHO, TIME, AUU, NTK])
def _rho_inverse():
    g, t, rho = tr.g, tr.t, tr.rho
    disp_rho = tr.RHO_EXPR.subs(tr.q_, tr.Q_EXPR).subs(tr.s_, tr.S_EXPR)
    disp_t = tr.TIME_EXPR.subs(tr.s_, tr.S_EXPR)
    f_rho = sp.lambdify((g, t), disp_rho, modules="mpmath")
    f_t = sp.lambdify((g, rho), disp_t, modules="mpmath")
    # the stable forms with expm1(x) -> exp(x) - 1 and log1p(x) -> log(1 + x) (50 digits absorb the cancellation)
    st_rho = sp.lambdify((g, t), tr.RHO_STABLE.replace(expm1, lambda x: sp.exp(x) - 1), modules="mpmath")
    st_t = sp.lambdify((g, rho), tr.TIME_STABLE.replace(log1p, lambda x: sp.log(1 + x)), modules="mpmath")
    worst_inv, worst_form, worst = 0.0, 0.0, 0.0
    with mpmath.workdps(50):
        for gv in (0.0, 1e-6, 0.5, 1.0, 4.0, 30.0):
            G = mpmath.mpf(gv)
            for tv in (1e-6, 1e-3, 0.1, 1.0, 3.0):
                T = mpmath.mpf(tv)
                r = f_rho(G, T)
                if 1 - r > 1e-8:  # t(rho) has condition number ~ 1/(1 - rho): keep it below 1e8 at 50 digits
                    worst_inv = max(worst_inv, float(abs(f_t(G, r) - T) / T))
                    worst_form = max(worst_form, float(abs(st_t(G, r) - T) / T))
                worst_form = max(worst_form, float(abs(st_rho(G, T) - r) / r))
                auu = mpmath.sqrt(1 + G**2 * r**2)
                vr = float(derive.get(RHO).evaluate(gamma1=gv, t=tv))
                worst = max(worst, abs(vr - float(r)) / float(r))
                rf = float(r)
                if rf < 1.0:  # t(rho) at the float64 rho, against its own 50-digit value
                    vt = float(derive.get(TIME).evaluate(gamma1=gv, rho=rf))
                    ref_t = f_t(G, mpmath.mpf(rf))
                    worst = max(worst, abs(vt - float(ref_t)) / float(ref_t))
                va = float(derive.get(AUU).evaluate(gamma1=gv, t=tv))
                worst = max(worst, abs(va - float(auu)) / float(auu))
                ntk = derive.get(NTK).evaluate(gamma1=gv, t=tv)
                worst = max(worst, abs(float(ntk["ntk_parallel"]) - float(2 * auu)) / float(2 * auu),
                            abs(float(ntk["ntk_orthogonal"]) - float(1 + auu)) / float(1 + auu))
    ok = worst_inv < 1e-38 and worst_form < 1e-38
    return Evidence(ok and worst <= 64 * UNIT, worst, 64 * UNIT,
                    f"mp round trip {worst_inv:.1e}, stable vs display {worst_form:.1e}; measured = max relative "
                    "error of the kernels")


@claim("transfer.rho.lazy_limit",
       "gamma1 -> 0: rho = 1 - e^{-2t}, t(rho) = -ln(1 - rho)/2, A_uu = 1, NTK = 2 I, chi = 0 (SymPy limits)",
       method="symbolic", results=[RHO, TIME, AUU, NTK, CHI])
def _lazy():
    g, t, rho = tr.g, tr.t, tr.rho
    R = tr.RHO_EXPR.subs(tr.q_, tr.Q_EXPR).subs(tr.s_, tr.S_EXPR)
    T = tr.TIME_EXPR.subs(tr.s_, tr.S_EXPR)
    w = sp.Symbol("w", positive=True)  # 1 - rho > 0
    checks = [sp.limit(R, g, 0) - (1 - sp.exp(-2 * t)),
              sp.expand_log((sp.limit(T, g, 0) + sp.log(1 - rho) / 2).subs(rho, 1 - w), force=True),
              sp.limit(sp.sqrt(1 + g**2 * R**2), g, 0) - 1, sp.limit(tr.CHI_EXPR, g, 0)]
    return _all_zero(checks, "limits of rho(t), t(rho), A_uu, chi")


# -- the finite network ---------------------------------------------------------------------------
NET_D, NET_N, NET_DT = 6, 400, 2e-3
NET_TIMES = np.array([0.0, 0.05, 0.2, 0.5, 1.0, 2.0, 12.0])


@functools.cache
def network_runs():
    """gamma1 -> pretraining record of an orthonormally initialised N = 400, D = 6 network."""
    out = {}
    for j, gv in enumerate((0.5, 1.0, 4.0)):
        a, W = init_network(NET_D, NET_N, seed=40 + j)
        out[gv] = pretrain(a, W, gv, NET_TIMES, dt=NET_DT)
    return out


def network_deviation(rho_fn=None):
    """Max deviation of the network from rho(t), A_uu(t), NTK eigenvalues, chi and A_perp = I."""
    rho_fn = rho_fn or (lambda **kw: derive.get(RHO).evaluate(**kw))
    worst = 0.0
    for gv, rec in network_runs().items():
        auu = np.asarray(derive.get(AUU).evaluate(gamma1=gv, t=NET_TIMES))
        ntk = derive.get(NTK).evaluate(gamma1=gv, t=NET_TIMES)
        devs = [np.abs(rec["rho"] - rho_fn(gamma1=gv, t=NET_TIMES)), np.abs(rec["A_uu"] - auu),
                np.abs(rec["a2"] - auu), np.abs(rec["A_uu"] + rec["a2"] - ntk["ntk_parallel"]),
                np.abs(1 + rec["a2"] - ntk["ntk_orthogonal"]), rec["A_perp_dev"], rec["A_ua"], rec["beta_perp"],
                np.array([abs(rec["A_uu"][-1] - 1 - float(derive.get(CHI).evaluate(gamma1=gv)))])]
        worst = max(worst, max(float(np.max(d)) for d in devs))
    return worst


@claim("transfer.pretraining.network",
       "a finite mu-P two-layer linear network (N = 400, D = 6, orthonormal init: its second moments are exactly the "
       "N -> inf ones) trained by RK4 gradient flow on the population source loss follows rho(t), A_uu(t) = <a^2>(t), "
       "the NTK eigenvalues, A_perp = I, beta_hat parallel to u, and A_uu -> 1 + chi (gamma1 = 0.5, 1, 4; t <= 12)",
       method="simulation", results=[RHO, AUU, NTK, CHI, TIME])
def _network():
    # RK4 with dt = 2e-3 on rates up to 2 s (1 + gamma1) ~ 40: global error ~ t L (L dt)^4 / 120 ~ 1e-6 at most
    return bounded(network_deviation(), 1e-6, "measured = max absolute deviation over times, gamma1 and quantities")


# -- fine-tuning loss ---------------------------------------------------------------------------
@claim("transfer.finetune_loss.simplified",
       "(1 - nu2)[1 - 2 chi alpha^2 nu2/(1 + chi nu2) + chi^2 alpha^2 nu2^2/(1 + chi nu2)^2] = "
       "(1 - nu2)[1 - alpha^2 + alpha^2/(1 + chi nu2)^2] (SymPy)",
       method="symbolic", results=[FT])
def _simplified():
    return _all_zero([tr.FT_EXPANDED - tr.FT_SIMPLE], "expanded form minus simplified form")


@claim("transfer.finetune_loss.bound",
       "1 - nu2 - L = (1 - nu2) alpha^2 chi nu2 (2 + chi nu2)/(1 + chi nu2)^2 >= 0: pretraining never hurts at "
       "population source (SymPy factorisation; and the evaluator on a grid)",
       method="symbolic", results=[FT])
def _bound():
    nu2, a, chi = tr.nu2, tr.alpha, tr.chi
    gap = (1 - nu2) * a**2 * chi * nu2 * (2 + chi * nu2) / (1 + chi * nu2) ** 2
    ok = sp.simplify((1 - nu2) - tr.FT_SIMPLE - gap) == 0
    NU, AL, CH = np.meshgrid(np.linspace(0, 1.5, 31), np.linspace(-1, 1, 21), np.array([0, 0.1, 1, 10, 1e3]))
    L = derive.get(FT).evaluate(nu2=NU, alpha=AL, chi=CH)
    excess = float(np.max(L - np.maximum(1 - NU, 0)))
    return Evidence(ok and excess <= 4 * UNIT, excess, 4 * UNIT, f"factorisation {ok}; measured = max(L - (1 - nu2)+)")


@claim("transfer.finetune_loss.infinite_d_limit",
       "SymPy derives the D -> inf limit of the finite-D spike learning curve at P2 = nu2 D (ridgeless): kappa/D -> "
       "1 - nu2, gamma_overlap -> nu2, L_D -> (1 - nu2)[1 - alpha^2 + alpha^2/(1 + chi nu2)^2]",
       method="symbolic", results=[FT, FTD])
def _d_limit():
    nu, D, chi, al = sp.symbols("nu D chi alpha", positive=True)
    k = sp.Symbol("kappa")
    P, a = nu * D, 1 + chi
    # ridgeless fixed point 1 = a/(aP + kappa) + (D - 1)/(P + kappa), cleared of denominators: a quadratic
    roots = sp.solve(sp.expand((a * P + k) * (P + k) - a * (P + k) - (D - 1) * (a * P + k)), k)
    def _denest(e):  # sqrt of a perfect square of positives: factor the radicand
        return e.replace(lambda x: x.is_Pow and x.exp == sp.Rational(1, 2), lambda x: sp.sqrt(sp.factor(x.base)))

    limits = [sp.simplify(_denest(sp.limit(r / D, D, sp.oo))) for r in roots]
    c = [lim for lim in limits if sp.simplify(lim - (1 - nu)) == 0]
    if not c:
        return Evidence(False, None, 0.0, f"no root with kappa/D -> 1 - nu: {limits}")
    Kd = sp.Symbol("c", positive=True) * D  # kappa = c D with c -> 1 - nu
    gam = P * (a**2 / (a * P + Kd) ** 2 + (D - 1) / (P + Kd) ** 2)
    L = Kd**2 / (1 - gam) * (al**2 / (a * P + Kd) ** 2 + (1 - al**2) / (P + Kd) ** 2)
    cs = sp.Symbol("c", positive=True)
    gam_lim = sp.limit(gam, D, sp.oo).subs(cs, 1 - nu)
    L_lim = sp.limit(L, D, sp.oo).subs(cs, 1 - nu)
    target = tr.FT_SIMPLE.subs({tr.nu2: nu, tr.alpha: al, tr.chi: chi})
    return _all_zero([gam_lim - nu, L_lim - target], "kappa/D -> 1 - nu; gamma_overlap -> nu; L_D -> L")


@claim("transfer.finetune_loss_finite_d.mpmath",
       "the finite-D spike loss (shared kappa solver) equals its mpmath twin (40 digits) within 32 M u/(1 - gamma)^2",
       method="high-precision", results=[FTD])
def _finite_mp():
    worst = 0.0
    for D in (10, 60, 600):
        for P2 in (0.0, 1.0, 0.3 * D, D - 1.0, D + 2.0):
            for al, ch, r in ((0.8, 1.0, 0.0), (0.0, 3.0, 0.0), (1.0, 0.4, 0.05)):
                val = float(derive.get(FTD).evaluate(P2=P2, D=D, alpha=al, chi=ch, ridge=r))
                ref = derive.get(FTD).mp(dps=40, P2=P2, D=D, alpha=al, chi=ch, ridge=r)
                g = derive.get("learning_curve.gamma_overlap").mp(dps=40, eigenvalues=[1 + ch, 1.0],
                                                                    multiplicities=[1.0, D - 1.0], P=P2, ridge=r)
                om = float(1 - g) if g < 1 else 1.0
                err = abs(val - float(ref)) / float(ref) if ref != 0 else abs(val)
                worst = max(worst, err / (64 * UNIT / om**2))
    return bounded(worst, 1.0, "measured = max(relative error / bound)")


@claim("transfer.finetune_loss_multispike.limit",
       "the multi-spike loss is the D -> inf limit of the learning curve with eigenvalues {1 + s_k, 1 (D - K times)}: "
       "the gap at P2 = nu2 D shrinks as 1/D (log-log slope in [-1.1, -0.9] over D = 1e3..1e6); one spike gives "
       "transfer.finetune_loss",
       method="high-precision", results=[FTM, FT])
def _multi_limit():
    spikes, taus = np.array([3.0, 0.5, 0.0]), np.array([0.6, 0.5, 0.4])
    lc = derive.get("learning_curve.error")
    worst_slope, worst_single = 0.0, 0.0
    for nu in (0.2, 0.5, 0.8):
        lim = float(derive.get(FTM).evaluate(nu2=nu, spikes=spikes, overlaps=taus))
        Ds = np.array([1e3, 1e4, 1e5, 1e6])
        gaps = []
        for D in Ds:
            lam = np.concatenate([1 + spikes[:2], [1.0]])
            pw = np.concatenate([taus[:2] ** 2, [1 - np.sum(taus[:2] ** 2)]])  # s = 0: part of the bulk
            val = float(lc.evaluate(eigenvalues=lam, multiplicities=np.array([1.0, 1.0, D - 2]), P=nu * D, ridge=0.0,
                                    target_power=pw, noise=0.0))
            gaps.append(abs(val - lim))
        slope = np.polyfit(np.log(Ds), np.log(gaps), 1)[0]
        worst_slope = max(worst_slope, abs(slope + 1))
        single = float(derive.get(FTM).evaluate(nu2=nu, spikes=[2.0], overlaps=[0.7]))
        worst_single = max(worst_single, abs(single - float(derive.get(FT).evaluate(nu2=nu, alpha=0.7, chi=2.0))))
    ok = worst_slope <= 0.1 and worst_single <= 4 * UNIT
    return Evidence(ok, worst_slope, 0.1, f"measured = max |slope + 1|; single-spike reduction error {worst_single:.1e}")


# -- end to end ------------------------------------------------------------------------------
E2E_D, E2E_N, E2E_T, E2E_TRIALS = 60, 120, 12.0, 40
E2E_CASES = ((1.0, 0.8, 6), (1.0, 0.8, 30), (4.0, 1.0, 18), (4.0, 0.5, 45), (4.0, 0.0, 30))  # (gamma1, alpha, P2)


@functools.cache
def end_to_end(trials: int = E2E_TRIALS, seed: int = 70):
    """Per case: (gamma1, alpha, P2, chi measured, MC mean, s.e.): pretrain, freeze, fresh min-norm readout."""
    out = []
    nets = {}
    for j, (gv, al, P2) in enumerate(E2E_CASES):
        if gv not in nets:
            a, W = init_network(E2E_D, E2E_N, seed=seed + int(10 * gv))
            nets[gv] = pretrain(a, W, gv, np.array([0.0, E2E_T]), dt=4e-3)
        rec = nets[gv]
        u_t = np.zeros(E2E_D)
        u_t[0], u_t[1] = al, np.sqrt(1 - al**2)
        L = fresh_readout_losses(rec["W"], u_t, P2, trials=trials, seed=seed + 100 + j)
        out.append((gv, al, P2, rec["A_uu"][-1] - 1, L.mean(), L.std(ddof=1) / np.sqrt(trials)))
    return out


def end_to_end_deviation(loss_fn=None):
    """Max |MC - theory| / (z s.e. + theory/P2) with the finite-D formula at the network's own chi."""
    loss_fn = loss_fn or (lambda **kw: derive.get(FTD).evaluate(**kw))
    z = z_family(len(E2E_CASES))
    worst = 0.0
    for gv, al, P2, chi_net, mean, se in end_to_end():
        th = float(loss_fn(P2=P2, D=E2E_D, alpha=al, chi=chi_net, ridge=0.0))
        worst = max(worst, abs(mean - th) / (z * se + th / P2))
    return worst


@claim("transfer.finetune_loss.end_to_end",
       "pretrain a finite mu-P linear network (D = 60, N = 120, population source, gamma1 = 1 and 4), freeze it, fit a "
       "fresh readout by min-norm least squares on P2 target samples: the loss matches the finite-D spike formula "
       "within z s.e. + L/P2 (40 trials per case, z Bonferroni at 1%)",
       method="simulation", results=[FTD, FT, CHI])
def _end_to_end():
    return bounded(end_to_end_deviation(), 1.0, "measured = max |MC - theory| / (z s.e. + theory/P2)")


@claim("transfer.infinite_richness_floor.projection",
       "the rank-one source direction P_X1 u_s has squared norm nu1 on average (Monte Carlo, D = 200, 20 draws, "
       "z s.e.), so its "
       "unit vector is sqrt(nu1) u_s + sqrt(1 - nu1) g_hat up to O(D^-1/2); the floor with the sample's "
       "||P_X1 u_s||^2 in place of nu1 equals 1 - (unit vector . u_t)^2 exactly",
       method="simulation", results=[FLOOR])
def _floor():
    rng = np.random.default_rng(90)
    D, trials = 200, 20
    worst, worst_id = 0.0, 0.0
    nus = (0.2, 0.5, 0.8)
    z = z_family(len(nus))
    for nu1 in nus:
        n = int(nu1 * D)
        norms = []
        for _ in range(trials):
            X = rng.standard_normal((n, D))
            u = np.zeros(D)
            u[0] = 1.0
            Pu = X.T @ np.linalg.solve(X @ X.T, X @ u)
            m2 = float(Pu @ u)  # = ||P_X u||^2
            norms.append(m2)
            v = Pu / np.sqrt(m2)
            g = v - (v @ u) * u
            g /= np.linalg.norm(g)
            u_t = rng.standard_normal(D)
            u_t /= np.linalg.norm(u_t)
            a_s, a_g = float(u_t @ u), float(u_t @ g)
            L = float(derive.get(FLOOR).evaluate(nu1=m2, alpha_s=a_s, alpha_g=a_g))
            worst_id = max(worst_id, abs(L - (1 - float(v @ u_t) ** 2)))
        norms = np.array(norms)
        worst = max(worst, abs(norms.mean() - nu1) / (z * norms.std(ddof=1) / np.sqrt(trials)))
    ok = worst <= 1.0 and worst_id <= 1e-12
    return Evidence(ok, worst, 1.0, f"measured = max |mean ||P_X u||^2 - nu1| / (z s.e.); identity error {worst_id:.1e}")

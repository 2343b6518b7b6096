"""Report section "learning_curve": kernel-regression learning curves and the linear-teacher risk.

Figures, each computed by a pure ``*_data`` function (tests check the numbers shown):

* issue 6 (c): E_g against P for a power-law spectrum, ridgeless and ridged, with and without
  label noise: theory lines against Monte Carlo kernel ridge regression with Gaussian features
  (markers with error bars); and the per-eigenvalue errors E_k for a few k;
* issue 5 (b): the risk of min-norm fine-tuning against n for an anisotropic power-law covariance
  (d = 400): the deterministic equivalent ``linear_teacher.risk`` against Monte Carlo, with the
  relative deviations in a table (the finite-size bias);
* issue 6 (a), (b): the fine-tuning loss after rich pretraining against nu2 (theory against the end-to-end
  simulation of a pretrained finite network with a fresh readout), and the gamma1 -> inf floor against nu1.
"""

from __future__ import annotations

import numpy as np

import derive
from numerics.simulate._kernel_regression import finetune_min_norm, krr_gaussian_features, krr_mode_errors

from ._figures import colors, render
from ._sections import Context, Figure, Paragraph, SectionContent, Table, section

ERROR, MODES, RISK = "learning_curve.error", "learning_curve.mode_errors", "linear_teacher.risk"

LC_M = 400
LC_CURVES = ((0.0, 0.0), (0.0, 0.05), (1e-2, 0.05))  # (ridge, noise)
LC_P_MC = (10, 30, 100, 250, 600)
LC_TRIALS = 30
MODE_KS = (1, 5, 20, 80)
MODE_P_MC = (10, 50, 150)
MODE_TRIALS = 12

RT_D = 400
RT_N_MC = (20, 60, 150, 300, 600)
RT_TRIALS = 40
RT_SIGMA2 = 0.1


def _spectrum():
    k = np.arange(1, LC_M + 1, dtype=float)
    lam = k**-1.5
    power = k**-2.0 / np.sum(k**-2.0)
    return lam, np.ones(LC_M), power


def learning_curve_data(*, simulate: bool = True) -> dict:
    """Theory E_g(P) for each (ridge, noise) in LC_CURVES on a log grid; with ``simulate``, Monte Carlo
    means and standard errors at LC_P_MC (LC_TRIALS trials each)."""
    lam, mult, power = _spectrum()
    err = derive.get(ERROR)
    P = np.unique(np.concatenate([np.logspace(0, np.log10(3 * LC_M), 400), [LC_M - 1.0, LC_M + 1.0]]))
    P = P[P != LC_M]  # the ridgeless noisy curve diverges at P = N
    out = {"P": P, "curves": LC_CURVES, "theory": np.stack([
        err.evaluate(eigenvalues=lam, multiplicities=mult, P=P, ridge=r, target_power=power, noise=s2)
        for r, s2 in LC_CURVES])}
    if simulate:
        mean = np.empty((len(LC_CURVES), len(LC_P_MC)))
        se = np.empty_like(mean)
        for i, (r, s2) in enumerate(LC_CURVES):
            for j, p in enumerate(LC_P_MC):
                e = krr_gaussian_features(lam, mult, p, r, power, s2, trials=LC_TRIALS, seed=100 * i + j)["error"]
                mean[i, j], se[i, j] = e.mean(), e.std(ddof=1) / np.sqrt(e.size)
        th = np.stack([err.evaluate(eigenvalues=lam, multiplicities=mult, P=np.array(LC_P_MC, float), ridge=r,
                                    target_power=power, noise=s2) for r, s2 in LC_CURVES])
        # where the theory is exactly 0 (ridgeless, noise-free, P > N) the simulation interpolates to rounding
        pos = th > 0
        out.update(P_mc=np.array(LC_P_MC), mc_mean=mean, mc_se=se, theory_mc=th,
                   z=np.abs(mean - th)[pos] / se[pos], max_mc_where_zero=float(mean[~pos].max(initial=0.0)))
    return out


def mode_data(*, simulate: bool = True) -> dict:
    """Theory E_k(P) (ridgeless) for k in MODE_KS; Monte Carlo E_k at MODE_P_MC."""
    lam, mult, _ = _spectrum()
    P = np.logspace(0, np.log10(3 * LC_M), 300)
    E = np.asarray(derive.get(MODES).evaluate(eigenvalues=lam, multiplicities=mult, P=P, ridge=0.0))
    idx = np.array(MODE_KS) - 1
    out = {"P": P, "ks": MODE_KS, "theory": E[:, idx].T}
    if simulate:
        mean = np.empty((len(MODE_KS), len(MODE_P_MC)))
        se = np.empty_like(mean)
        for j, p in enumerate(MODE_P_MC):
            e = krr_mode_errors(lam, mult, p, 0.0, trials=MODE_TRIALS, seed=500 + j)[:, idx]
            mean[:, j], se[:, j] = e.mean(axis=0), e.std(axis=0, ddof=1) / np.sqrt(MODE_TRIALS)
        out.update(P_mc=np.array(MODE_P_MC), mc_mean=mean, mc_se=se)
    return out


def risk_data(*, simulate: bool = True) -> dict:
    """Deterministic equivalent of the fine-tuning risk against n (lam_i = 1/i, d = 400, fixed random delta,
    sigma^2 = 0.1), and Monte Carlo min-norm fine-tuning at RT_N_MC."""
    lam = np.arange(1, RT_D + 1, dtype=float) ** -1.0
    delta = np.random.default_rng(7).standard_normal(RT_D)
    n = np.unique(np.concatenate([np.linspace(1, 2 * RT_D, 500), [RT_D - 1.0, RT_D + 1.0]]))
    n = n[n != RT_D]
    risk = derive.get(RISK)
    out = {"n": n, "theory": risk.evaluate(eigenvalues=lam, delta=delta, n=n, sigma2=RT_SIGMA2), "d": RT_D}
    if simulate:
        mean, se = [], []
        for j, m in enumerate(RT_N_MC):
            r = finetune_min_norm(lam, delta, m, RT_SIGMA2, trials=RT_TRIALS, seed=900 + j)
            mean.append(r.mean()), se.append(r.std(ddof=1) / np.sqrt(r.size))
        th = risk.evaluate(eigenvalues=lam, delta=delta, n=np.array(RT_N_MC, float), sigma2=RT_SIGMA2)
        out.update(n_mc=np.array(RT_N_MC), mc_mean=np.array(mean), mc_se=np.array(se), theory_mc=th,
                   rel_dev=(np.array(mean) - th) / th)
    return out


def _lc_figure(d: dict) -> bytes:
    def draw(ax):
        for i, ((r, s2), c) in enumerate(zip(d["curves"], colors(len(d["curves"])))):
            label = f"ridge = {r:g}, σ² = {s2:g}"
            th = np.where(d["theory"][i] > 0, d["theory"][i], np.nan)  # 0 beyond P = N (ridgeless, noise-free)
            ax.plot(d["P"], th, color=c, lw=1.6, label=label)
            if "mc_mean" in d:
                show = d["theory_mc"][i] > 0
                ax.errorbar(d["P_mc"][show], d["mc_mean"][i][show], yerr=d["mc_se"][i][show], fmt="o", mfc="none",
                            color=c, ms=6, capsize=2)
        if "mc_mean" in d:
            ax.plot([], [], "o", mfc="none", color="0.3", label="KRR Monte Carlo (mean ± s.e.)")
        ax.axvline(LC_M, color="0.6", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="P (training samples)", ylabel="generalization error E_g",
               ylim=(1e-3, 3),
               title=f"λ_k = k^-1.5 ({LC_M} modes), target power ∝ k^-2")
        ax.legend(loc="lower left")

    return render(draw)


def _mode_figure(d: dict) -> bytes:
    def draw(ax):
        for i, (k, c) in enumerate(zip(d["ks"], colors(len(d["ks"])))):
            ax.plot(d["P"], d["theory"][i], color=c, lw=1.6, label=f"k = {k}")
            if "mc_mean" in d:
                ax.errorbar(d["P_mc"], d["mc_mean"][i], yerr=d["mc_se"][i], fmt="o", mfc="none", color=c, ms=6,
                            capsize=2)
        ax.set(xscale="log", yscale="log", xlabel="P", ylabel="E_k (per unit target power)",
               title="Per-eigenvalue errors, ridgeless", ylim=(1e-6, 3))
        ax.legend(loc="lower left")

    return render(draw)


def _risk_figure(d: dict) -> bytes:
    def draw(ax):
        ax.plot(d["n"], d["theory"], color=colors(1)[0], lw=1.6, label="deterministic equivalent")
        if "mc_mean" in d:
            ax.errorbar(d["n_mc"], d["mc_mean"], yerr=d["mc_se"], fmt="o", mfc="none", color="C3", ms=6, capsize=2,
                        label="min-norm fine-tuning, Monte Carlo")
        ax.axvline(d["d"], color="0.6", lw=0.8, ls=":")
        ax.set(yscale="log", xlabel="n (target samples)", ylabel="risk",
               title=f"Σ = diag(1/i), d = {d['d']}, σ² = {RT_SIGMA2:g}")
        ax.legend(loc="lower left")

    return render(draw)


def _learning_curves(ctx: Context) -> list:
    d = learning_curve_data()
    ctx.data["learning_curve.error"] = d
    m = mode_data()
    ctx.data["learning_curve.mode_errors"] = m
    zmax = float(d["z"].max())
    cap = ("Generalization error of kernel ridge regression against P (learning_curve.error, lines) and Monte "
           f"Carlo with Gaussian features ({LC_TRIALS} data sets per marker, error bars one standard error). The "
           "dotted line is P = N: the ridgeless noisy curve diverges there (double descent) and ridge removes "
           "the peak.")
    text = (f"Largest deviation between Monte Carlo and theory: {zmax:.1f} standard errors over "
            f"{d['z'].size} markers. The theory is the large-P deterministic equivalent; its bias is O(1/P), "
            "which the claims allow for (learning_curve.error.krr_monte_carlo). Beyond P = N the ridgeless "
            f"noise-free error is exactly 0 (the simulation gives at most {d['max_mc_where_zero']:.1e}, rounding).")
    cap2 = ("Per-eigenvalue errors E_k (learning_curve.mode_errors, ridgeless, normalised to 1 at P = 0) and the "
            f"Monte Carlo mean of the coefficient-error map's column norms ({MODE_TRIALS} data sets per marker). "
            "Modes are learned in order of their eigenvalue; small-eigenvalue modes exceed 1 before they are "
            "learned (the 1/(1 − γ) variance factor).")
    return [Figure("fig-learning-curve-error", _lc_figure(d), cap, d), Paragraph(text),
            Figure("fig-learning-curve-modes", _mode_figure(m), cap2, m)]


def _risk(ctx: Context) -> list:
    d = risk_data()
    ctx.data["linear_teacher.risk"] = d
    cap = ("Risk of linear regression fine-tuned from w_S by min-norm interpolation (the limit of gradient descent "
           "from w_S) against the number of target samples n, for an anisotropic covariance with eigenvalues 1/i "
           f"(d = {RT_D}), δ = w_T − w_S a fixed Gaussian vector and label noise σ² = {RT_SIGMA2:g}: the "
           f"deterministic equivalent linear_teacher.risk (line) against Monte Carlo ({RT_TRIALS} designs per "
           "marker). n > d is least squares.")
    rows = tuple((f"{n:d}", f"{t:.4f}", f"{m:.4f} ± {s:.4f}", f"{100 * r:+.2f}%")
                 for n, t, m, s, r in zip(d["n_mc"], d["theory_mc"], d["mc_mean"], d["mc_se"], d["rel_dev"]))
    table = Table(("n", "deterministic equivalent", "Monte Carlo (mean ± s.e.)", "relative deviation"), rows,
                  caption="The finite-size bias of the deterministic equivalent at d = 400 is of order 1–2% "
                          "(the claim linear_teacher.risk.monte_carlo allows 2% plus the Monte Carlo error).")
    return [Figure("fig-linear-teacher-risk", _risk_figure(d), cap, d), table]


# -- transfer (issue 6 (a), (b)) -----------------------------------------------------------------
TR_ALPHAS = (0.0, 0.5, 0.8, 1.0)
TR_GAMMAS = (0.0, 1.0, 4.0)
TR_NU_MC = (0.1, 0.3, 0.6, 0.9)
TR_D, TR_N, TR_TRIALS = 60, 120, 25
FLOOR_CASES = ((1.0, 0.0), (0.8, 0.0), (0.5, 0.0), (0.6, 0.6))  # (alpha_s, alpha_g)
FLOOR_NU_MC = (0.2, 0.4, 0.6, 0.8)
FLOOR_D, FLOOR_DRAWS = 400, 8


def transfer_data(*, simulate: bool = True) -> dict:
    """Target loss against nu2 for each gamma1 in TR_GAMMAS and alpha in TR_ALPHAS: the D -> inf formula, the
    finite-D formula at D = TR_D, and the end-to-end simulation (pretrain a finite network, freeze, fresh
    min-norm readout) at TR_NU_MC."""
    from numerics.simulate._mup_transfer import fresh_readout_losses, init_network, pretrain

    nu = np.linspace(0.0, 1.2, 241)
    ft, ftd, chi_r = derive.get("transfer.finetune_loss"), derive.get("transfer.finetune_loss_finite_d"), \
        derive.get("transfer.chi")
    al = np.array(TR_ALPHAS)[:, None]
    out = {"nu": nu, "alphas": TR_ALPHAS, "gammas": TR_GAMMAS, "D": TR_D, "theory": {}, "finite": {}, "mc": {}}
    for j, g in enumerate(TR_GAMMAS):
        chi = float(chi_r.evaluate(gamma1=g))
        out["theory"][g] = ft.evaluate(nu2=nu[None, :], alpha=al, chi=chi)
        out["finite"][g] = ftd.evaluate(P2=(nu * TR_D)[None, :], D=TR_D, alpha=al, chi=chi, ridge=0.0)
        if simulate:
            a, W = init_network(TR_D, TR_N, seed=300 + j)
            if g > 0:
                W = pretrain(a, W, g, np.array([0.0, 12.0]), dt=4e-3)["W"]
            mean = np.empty((len(TR_ALPHAS), len(TR_NU_MC)))
            se = np.empty_like(mean)
            for i, alpha in enumerate(TR_ALPHAS):
                u_t = np.zeros(TR_D)
                u_t[0], u_t[1] = alpha, np.sqrt(1 - alpha**2)
                for k, n2 in enumerate(TR_NU_MC):
                    L = fresh_readout_losses(W, u_t, int(round(n2 * TR_D)), trials=TR_TRIALS, seed=1000 * j + 10 * i + k)
                    mean[i, k], se[i, k] = L.mean(), L.std(ddof=1) / np.sqrt(TR_TRIALS)
            out["mc"][g] = (mean, se)
    if simulate:
        Pm = np.round(np.array(TR_NU_MC) * TR_D)
        dev = [np.abs(out["mc"][g][0] - ftd.evaluate(P2=Pm[None, :], D=TR_D, alpha=al,
                                                     chi=float(chi_r.evaluate(gamma1=g)), ridge=0.0))
               / out["mc"][g][1] for g in TR_GAMMAS]
        out["z_finite"] = float(np.max(dev))
    return out


def _transfer_figure(d: dict, g: float) -> bytes:
    def draw(ax):
        for i, (alpha, c) in enumerate(zip(d["alphas"], colors(len(d["alphas"])))):
            ax.plot(d["nu"], d["theory"][g][i], color=c, lw=1.6, label=f"α = {alpha:g}")
            ax.plot(d["nu"], d["finite"][g][i], color=c, lw=0.9, ls="--")
            if g in d["mc"]:
                m, se = d["mc"][g]
                ax.errorbar(TR_NU_MC, m[i], yerr=se[i], fmt="o", mfc="none", color=c, ms=5, capsize=2)
        ax.plot(d["nu"], np.maximum(1 - d["nu"], 0), color="0.5", lw=0.8, ls=":", label="1 − ν₂ (no transfer)")
        ax.set(xlabel="ν₂ = P₂/D", ylabel="target loss", xlim=(0, 1.2), ylim=(0, 1.02),
               title=f"γ₁ = {g:g} (χ = {np.sqrt(1 + g * g) - 1:.3f})")
        ax.legend(loc="upper right", fontsize=8)

    return render(draw, size=(5.6, 3.6))


def floor_data(*, simulate: bool = True) -> dict:
    """The gamma1 -> inf floor against nu1 for FLOOR_CASES; with ``simulate``, 1 - (v.u_t)^2 for the rank-one
    direction v of sampled source data (D = FLOOR_D), with u_t built from the sample's own g_hat."""
    nu1 = np.linspace(0.0, 1.0, 201)
    fl = derive.get("transfer.infinite_richness_floor")
    out = {"nu1": nu1, "cases": FLOOR_CASES,
           "theory": np.stack([fl.evaluate(nu1=nu1, alpha_s=a, alpha_g=b) for a, b in FLOOR_CASES])}
    if simulate:
        rng = np.random.default_rng(5)
        sim = np.zeros((len(FLOOR_CASES), len(FLOOR_NU_MC)))
        for k, n1 in enumerate(FLOOR_NU_MC):
            for _ in range(FLOOR_DRAWS):
                X = rng.standard_normal((int(n1 * FLOOR_D), FLOOR_D))
                u = np.eye(FLOOR_D)[0]
                v = X.T @ np.linalg.solve(X @ X.T, X[:, 0])  # P_X u
                v /= np.linalg.norm(v)
                g = v - v[0] * u
                g /= np.linalg.norm(g)
                rest = rng.standard_normal(FLOOR_D)
                rest -= (rest @ u) * u + (rest @ g) * g
                rest /= np.linalg.norm(rest)
                for i, (a, b) in enumerate(FLOOR_CASES):
                    u_t = a * u + b * g + np.sqrt(max(1 - a * a - b * b, 0.0)) * rest
                    sim[i, k] += (1 - float(v @ u_t) ** 2) / FLOOR_DRAWS
        out.update(nu_mc=np.array(FLOOR_NU_MC), simulated=sim)
    return out


def _floor_figure(d: dict) -> bytes:
    def draw(ax):
        for i, ((a, b), c) in enumerate(zip(d["cases"], colors(len(d["cases"])))):
            ax.plot(d["nu1"], d["theory"][i], color=c, lw=1.6, label=f"α_s = {a:g}, α_g = {b:g}")
            if "simulated" in d:
                ax.plot(d["nu_mc"], d["simulated"][i], "o", mfc="none", color=c, ms=6)
        ax.set(xlabel="ν₁ = P₁/D", ylabel="target loss floor", ylim=(0, 1.02),
               title="γ₁ → ∞: 1 − (√ν₁ α_s + √(1 − ν₁) α_g)²")
        ax.legend(loc="lower left", fontsize=8)

    return render(draw, size=(5.6, 3.6))


def _transfer(ctx: Context) -> list:
    try:
        derive.get("transfer.finetune_loss")
    except KeyError:
        return [Paragraph("The transfer figures are skipped: transfer.finetune_loss is not registered.")]
    d = transfer_data()
    ctx.data["transfer.finetune_loss"] = d
    blocks = [Paragraph(
        "Transfer after rich pretraining (Lauditi, Bordelon, Pehlevan; lazyrich conventions, see transfer.*): a "
        "two-layer linear μP network pretrained on the population source task to convergence has the feature "
        "kernel xᵀ(I + χuuᵀ)x′ with χ = √(1 + γ₁²) − 1; a fresh readout fitted by min-norm least squares on P₂ = ν₂D "
        "target samples then has loss (1 − ν₂)[1 − α² + α²/(1 + χν₂)²] as D → ∞ (solid lines), and the finite-D "
        f"spike formula at D = {TR_D} (dashed). Markers: the end-to-end simulation (pretrain a finite network with "
        f"N = {TR_N}, freeze, fit a fresh readout; {TR_TRIALS} target samples sets per marker, error bars one "
        f"standard error). Largest deviation from the finite-D formula: {d['z_finite']:.1f} standard errors.")]
    for g in TR_GAMMAS:
        cap = (f"Target loss against ν₂ after pretraining with γ₁ = {g:g}: α is the source-target alignment. "
               "γ₁ = 0 is the lazy limit (A = I, no transfer: the dotted line 1 − ν₂).")
        blocks.append(Figure(f"fig-transfer-gamma{int(g)}", _transfer_figure(d, g), cap,
                             {k: d[k] for k in ("nu", "alphas")}))
    f = floor_data()
    ctx.data["transfer.infinite_richness_floor"] = f
    cap = ("Loss floor after infinitely rich pretraining on ν₁D < D source samples (transfer.infinite_richness_floor), "
           "independent of ν₂. It assumes (paper's Result 4, known only from a secondary summary) that the features "
           "collapse to the min-norm source interpolator's direction; markers compute 1 − (v̂·u_t)² for that direction "
           f"from sampled source data (D = {FLOOR_D}, mean of {FLOOR_DRAWS} draws), α_g taken along the sample's own "
           "noise direction.")
    blocks.append(Figure("fig-transfer-floor", _floor_figure(f), cap, f))
    return blocks


@section("learning_curve", order=40)
def learning_curve(ctx: Context) -> SectionContent:
    """Kernel-regression learning curves (issue 6 (c)) and the anisotropic fine-tuning risk (issue 5 (b))."""
    intro = Paragraph(
        "Kernel ridge regression on P samples, with kernel eigenvalues λ_k (multiplicities m_k), target power v_k² "
        "and label noise σ², has the learning curve E_g = (Σ_k v_k² κ²/(λ_kP + κ)² + σ²γ)/(1 − γ), where κ solves "
        "κ = ridge + κ Σ_k m_k λ_k/(λ_k P + κ) (kernel without 1/P) and γ = P Σ_k m_k λ_k²/(λ_k P + κ)² "
        "(Bordelon, Canatar, Pehlevan). lazyrich solves the κ fixed point by a safeguarded Newton iteration "
        "warm-started along P; the same solver gives the deterministic equivalent of linear regression "
        "fine-tuned from pretrained weights.")
    return SectionContent("Learning curves of kernel regression, the fine-tuning risk, and transfer",
                          [intro, *_learning_curves(ctx), *_risk(ctx), *_transfer(ctx)])

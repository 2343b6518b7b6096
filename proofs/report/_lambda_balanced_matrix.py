"""Report section for whole λ-balanced networks (``lambda_balanced.qqt`` and its observables).

Three figures, each computed by a pure ``*_data`` function (tests can check the numbers shown):

* (a) entries of W2W1(t), W1ᵀW1(t), W2W2ᵀ(t) for a 5×5×5 network on P = 10 whitened samples,
  λ ∈ {−10, 0, 10}: closed form (lines) against full-batch gradient descent (markers);
* (b) the kernel distance S(0, ∞) against λ on the 4×4×4 task diag(3, 2, 1, 0.5), closed form
  against gradient flow (markers);
* (c) the phase diagram of S(0, ∞) over (λ, absolute scale of the start).
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np

import derive
from numerics import _qqt
from numerics._blas_threads import one_blas_thread
from numerics._init_lambda_balanced import lambda_balanced_init, rotated_aligned_init

from ._figures import STYLE, colors
from ._sections import Context, Figure, Paragraph, SectionContent, section

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GD_LAMS = (-10.0, 0.0, 10.0)
GD_N, GD_P, GD_T = 5, 10, 6.0
KD_TASK = np.diag([3.0, 2.0, 1.0, 0.5])
KD_A0 = 0.05


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _lam(x: float) -> str:
    return f"{x:g}".replace("-", "−")


# -- (a) entries against gradient descent ---------------------------------------------------
def _gd_problem(seed: int = 0):
    """Whitened X (5 x 10), a task Syx with singular values 3 .. 0.25 and label noise orthogonal to X."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((GD_P, GD_P)))[0]
    X = np.sqrt(GD_P) * Q[:GD_N]
    U = np.linalg.qr(rng.standard_normal((GD_N, GD_N)))[0]
    V = np.linalg.qr(rng.standard_normal((GD_N, GD_N)))[0]
    Syx_task = (U * np.array([3.0, 2.0, 1.0, 0.5, 0.25])) @ V.T
    Y = Syx_task @ X + 0.1 * rng.standard_normal((GD_N, GD_P - GD_N)) @ Q[GD_N:]
    return X, Y


def _balanced_start(lam, Syx, seed0=0):
    """The first seed whose random λ-balanced start has cond(B) <= 1e3 (a start the closed form covers)."""
    for seed in range(seed0, seed0 + 100):
        W1, W2 = lambda_balanced_init(lam, GD_N, GD_N, GD_N, scale=0.2, seed=seed)
        try:
            if _qqt.factorise(W1, W2, Syx).cond_b <= 1e3:
                return W1, W2
        except ValueError:
            continue
    raise RuntimeError("no well-conditioned start found")


def gd_data(n_t: int = 241) -> dict:
    from numerics.simulate._matrix_network import matrix_gradient_descent

    X, Y = _gd_problem()
    Syx = Y @ X.T / GD_P
    t = np.linspace(0.0, GD_T, n_t)
    out = {"lams": GD_LAMS, "t": t, "theory": {}, "gd": {}, "dev": {}, "eta": {}}
    for lam in GD_LAMS:
        W1, W2 = _balanced_start(lam, Syx)
        eta = 1e-3 / max(1.0, abs(lam) / 10)
        steps = int(round(GD_T / eta))
        tr = matrix_gradient_descent(W1, W2, Syx, eta, steps, record_every=steps // 24)
        f = _qqt.factorise(W1, W2, Syx)
        out["theory"][lam] = _qqt.evaluate_blocks(f, t)
        sim = {"W2W1": tr.product, "W1TW1": tr.input_representation, "W2W2T": tr.output_representation}
        at = _qqt.evaluate_blocks(f, tr.t)
        out["gd"][lam] = (tr.t, sim)
        out["dev"][lam] = max(float(np.max(np.abs(sim[k] - at[k]))) for k in sim)
        out["eta"][lam] = eta
    return out


def _gd_figure(d) -> bytes:
    blocks = (("W2W1", "W₂W₁(t)"), ("W1TW1", "W₁ᵀW₁(t)"), ("W2W2T", "W₂W₂ᵀ(t)"))
    with matplotlib.rc_context(STYLE):
        fig, axes = plt.subplots(3, 3, figsize=(10, 8), layout="constrained", sharex=True)
        for i, lam in enumerate(d["lams"]):
            tg, sim = d["gd"][lam]
            for j, (key, label) in enumerate(blocks):
                ax = axes[i, j]
                th = d["theory"][lam][key].reshape(len(d["t"]), -1)
                sm = sim[key].reshape(len(tg), -1)
                cols = colors(th.shape[1], "tab20") if th.shape[1] <= 20 else colors(th.shape[1])
                for k in range(th.shape[1]):
                    ax.plot(d["t"], th[:, k], color=cols[k], lw=1)
                    ax.plot(tg, sm[:, k], "o", color=cols[k], ms=2.5)
                if i == 0:
                    ax.set_title(label)
                if j == 0:
                    ax.set_ylabel(f"λ = {_lam(lam)}")
                if i == 2:
                    ax.set_xlabel("t")
        return _png(fig)


def _gd(ctx: Context) -> list:
    d = gd_data()
    ctx.data["lambda_balanced_matrix.gd"] = d
    dev = ", ".join(f"λ = {_lam(lam)}: {d['dev'][lam]:.1e} (η = {d['eta'][lam]:g})" for lam in d["lams"])
    caption = ("All 25 entries of W₂W₁(t), W₁ᵀW₁(t) and W₂W₂ᵀ(t) of a 5×5×5 network on P = 10 whitened samples "
               "from a random λ-balanced start: lambda_balanced.qqt (lines) against full-batch gradient descent "
               f"at step k ↦ t = kη (markers). Max deviation (first order in η): {dev}.")
    return [Figure("fig-lambda-balanced-matrix-entries", _gd_figure(d), caption, d)]


# -- (b) kernel distance against lambda --------------------------------------------------------
def _t_inf(lam, a0):
    K = np.hypot(lam, 2 * np.diag(KD_TASK))
    return float(80.0 / np.min(K) + 10.0 * np.log1p(1.0 / a0) / np.min(np.diag(KD_TASK)))


def kd_data(n_lam: int = 61, markers=(-100.0, -1.0, 0.0, 1.0, 10.0), simulate: bool = True) -> dict:
    kd = derive.get("lambda_balanced.kernel_distance")
    mags = np.logspace(-3, 3, n_lam // 2)
    lams = np.concatenate([-mags[::-1], [0.0], mags])
    S = []
    for lam in lams:
        W1, W2 = rotated_aligned_init(lam, KD_TASK, np.full(4, KD_A0), seed=0)
        S.append(float(kd.evaluate(W1=W1, W2=W2, Syx=KD_TASK, t1=0.0, t2=_t_inf(lam, KD_A0))["S"]))
    out = {"lams": lams, "S": np.array(S), "markers": np.array(markers), "sim": None}
    if simulate:
        from numerics.simulate._matrix_network import matrix_gradient_flow

        sim = []
        for lam in markers:
            W1, W2 = rotated_aligned_init(lam, KD_TASK, np.full(4, KD_A0), seed=0)
            tr = matrix_gradient_flow(W1, W2, KD_TASK, np.array([0.0, _t_inf(lam, KD_A0)]), rtol=1e-10, atol=1e-12)
            R, B = tr.input_representation, tr.output_representation

            def inner(i, j):
                return (4 * np.sum(R[i] * R[j]) + np.trace(B[j]) * np.trace(R[i]) + np.trace(B[i]) * np.trace(R[j])
                        + 4 * np.sum(B[i] * B[j]))
            sim.append(1 - inner(0, 1) / np.sqrt(inner(0, 0) * inner(1, 1)))
        out["sim"] = np.array(sim)
    return out


def _kd_figure(d) -> bytes:
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
        ax.plot(d["lams"], d["S"], color="C0", lw=1.5, label="closed form")
        if d["sim"] is not None:
            ax.plot(d["markers"], d["sim"], "o", color="C1", label="gradient flow")
        ax.set_xscale("symlog", linthresh=1e-2)
        ax.set_xlabel("λ")
        ax.set_ylabel("S(0, ∞)")
        ax.legend()
        return _png(fig)


def _kd(ctx: Context) -> list:
    d = kd_data()
    ctx.data["lambda_balanced_matrix.kd"] = d
    i0 = int(np.argmin(np.abs(d["lams"])))
    caption = ("Kernel distance S(0, ∞) = 1 − ⟨K(0), K(∞)⟩/(‖K(0)‖‖K(∞)‖) of the NTK of a 4×4×4 network on the "
               f"task diag(3, 2, 1, 0.5), start with product singular values {KD_A0} (frames rotated from the task's), "
               "against λ: lambda_balanced.kernel_distance by the exact trace form (line) and from the gradient-flow "
               f"weights (markers). Rich at λ = 0 (S = {d['S'][i0]:.4f}), lazy as |λ| → ∞ (S → 0).")
    return [Figure("fig-lambda-balanced-matrix-kernel-distance", _kd_figure(d), caption, d)]


# -- (c) phase diagram ---------------------------------------------------------------------
PHASE_SHAPE = np.array([1.5, 1.0, 0.6, 0.3])  # singular values of W2 W1(0) / scale (anisotropic start)


def phase_data(n_lam: int = 31, n_scale: int = 21) -> dict:
    kd = derive.get("lambda_balanced.kernel_distance")
    lams = np.linspace(-9.0, 9.0, n_lam)
    scales = np.logspace(-3, 2, n_scale)
    S = np.empty((n_scale, n_lam))
    conds = []
    for i, a in enumerate(scales):
        for j, lam in enumerate(lams):
            W1, W2 = rotated_aligned_init(lam, KD_TASK, a * PHASE_SHAPE, angle=1.0, seed=0)
            conds.append(_qqt.factorise(W1, W2, KD_TASK).cond_b)
            S[i, j] = kd.evaluate(W1=W1, W2=W2, Syx=KD_TASK, t1=0.0, t2=_t_inf(lam, a * PHASE_SHAPE[-1]))["S"]
    return {"lams": lams, "scales": scales, "S": S, "max_cond_b": max(conds)}


def _phase_figure(d) -> bytes:
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
        m = ax.pcolormesh(d["lams"], d["scales"], d["S"], shading="nearest", cmap="viridis")
        ax.set_yscale("log")
        ax.set_xlabel("λ (relative scale)")
        ax.set_ylabel("absolute scale c of W₂W₁(0)")
        fig.colorbar(m, ax=ax, label="S(0, ∞)")
        ax.grid(False)
        return _png(fig)


def _phase(ctx: Context) -> list:
    d = phase_data()
    ctx.data["lambda_balanced_matrix.phase"] = d
    caption = ("Phase diagram of the kernel distance S(0, ∞) over the relative scale λ and the absolute scale c of the "
               "start (singular values of W₂W₁(0) = c·(1.5, 1, 0.6, 0.3), frames rotated from the task's; "
               f"max cond(B) over the grid {d['max_cond_b']:.0f}), 4×4×4 network on diag(3, 2, 1, 0.5). "
               "At λ = 0 S(0, ∞) does not depend on c (K(0) is proportional to c and S is scale-free); the kernel "
               "freezes (lazy) when |λ| is large compared with both the task's singular values and the start's "
               "scale, so a larger start needs a larger |λ| to be lazy.")
    return [Figure("fig-lambda-balanced-matrix-phase", _phase_figure(d), caption, d)]


# -- (d) the single neuron ---------------------------------------------------------------------
NEURON_DELTAS = (-2.0, 0.0, 2.0)
NEURON_BETA0 = np.array([-1.0, 0.0])
NEURON_TARGET = np.array([0.0, 1.0])


def neuron_data(n_t: int = 400, n_markers: int = 13, simulate: bool = True) -> dict:
    """β(t) of the single neuron (Kunin et al. Fig. 2 setting: β* = (0, 1), β0 = (−1, 0), a0 > 0)."""
    traj = derive.get("single_neuron.trajectory")
    t = np.concatenate([[0.0], np.geomspace(1e-3, 20.0, n_t - 1)])
    tm = np.concatenate([[0.0], np.geomspace(0.05, 20.0, n_markers - 1)])
    out = {"deltas": NEURON_DELTAS, "t": t, "tm": tm, "theory": {}, "sim": {}, "dev": {}}
    for d in NEURON_DELTAS:
        n = np.linalg.norm(NEURON_BETA0)
        a0 = float(np.sqrt((d + np.sqrt(d**2 + 4 * n**2)) / 2))
        w0 = NEURON_BETA0 / a0
        out["theory"][d] = traj.evaluate(a0=a0, w0=w0, beta_star=NEURON_TARGET, eta_w=1.0, eta_a=1.0, t=t)["beta"]
        if simulate:
            from numerics.simulate._single_neuron import neuron_gradient_flow

            sim = neuron_gradient_flow(a0, w0, NEURON_TARGET, tm, rtol=1e-11, atol=1e-13).beta
            at = traj.evaluate(a0=a0, w0=w0, beta_star=NEURON_TARGET, eta_w=1.0, eta_a=1.0, t=tm)["beta"]
            out["sim"][d], out["dev"][d] = sim, float(np.max(np.abs(sim - at)))
    return out


def _neuron_figure(d) -> bytes:
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 5.0), layout="constrained")
        g = np.linspace(-1.6, 1.2, 200)
        B1, B2 = np.meshgrid(g, np.linspace(-0.8, 1.6, 200))
        ax.contour(B1, B2, 0.5 * ((B1 - NEURON_TARGET[0]) ** 2 + (B2 - NEURON_TARGET[1]) ** 2), levels=12,
                   colors="0.8", linewidths=0.7)
        for k, delta in enumerate(d["deltas"]):
            th = d["theory"][delta]
            ax.plot(th[:, 0], th[:, 1], color=f"C{k}", lw=1.5, label=f"δ = {_lam(delta)}")
            if delta in d["sim"]:
                ax.plot(d["sim"][delta][:, 0], d["sim"][delta][:, 1], "o", color=f"C{k}", ms=4)
        ax.plot(*NEURON_BETA0, "ks", ms=5)
        ax.plot(*NEURON_TARGET, "k*", ms=9)
        ax.set_xlabel("β₁")
        ax.set_ylabel("β₂")
        ax.set_aspect("equal")
        ax.legend(loc="lower right")
        return _png(fig)


def _neuron(ctx: Context) -> list:
    d = neuron_data()
    ctx.data["lambda_balanced_matrix.neuron"] = d
    dev = ", ".join(f"δ = {_lam(k)}: {v:.1e}" for k, v in d["dev"].items())
    caption = ("Single neuron f(x) = a wᵀx (Kunin et al. 2024, Fig. 2 setting): β = a w from β₀ = (−1, 0) (square) to "
               "β* = (0, 1) (star) over the loss contours, for δ = a² − ‖w‖² ∈ {−2, 0, 2}: "
               "single_neuron.trajectory (lines) against gradient flow (markers, max deviation "
               f"{dev}). δ > 0 is lazy (nearly straight), δ < 0 first moves along w₀ and turns late.")
    return [Figure("fig-single-neuron-beta", _neuron_figure(d), caption, d)]


# -- (e) continual learning --------------------------------------------------------------------
CL_LAM, CL_N, CL_P, CL_ETA, CL_STEPS = 1.0, 5, 25, 0.01, 6000


def continual_data(n_t: int = 150) -> dict:
    """Four random tasks learned in turn by a 5×5×5 network (P = 25, λ = 1): chained closed form and GD."""
    from derive._lambda_balanced_sequential import chain
    from numerics.simulate._matrix_network import matrix_gradient_descent

    rng = np.random.default_rng(3)
    tasks = [rng.standard_normal((CL_N, CL_N)) / np.sqrt(CL_N) * 2 for _ in range(4)]
    T = CL_ETA * CL_STEPS
    for seed in range(50):  # first start for which every switch has a well-conditioned B
        W1, W2 = lambda_balanced_init(CL_LAM, CL_N, CL_N, CL_N, scale=0.05, seed=seed)
        try:
            c = chain(W1, W2, tasks, [T] * 4, n_t=n_t)
            break
        except ValueError:
            continue
    gd_t, gd_loss = [], []
    a, b = W1, W2
    for j, S in enumerate(tasks):
        tr = matrix_gradient_descent(a, b, S, CL_ETA, CL_STEPS, record_every=CL_STEPS // 20)
        gd_t.append(j * T + tr.t)
        gd_loss.append([tr.loss(Si) for Si in tasks])
        a, b = tr.W1[-1], tr.W2[-1]
    gd = np.concatenate([np.array(x) for x in gd_loss], axis=1)
    return {"t": c["t"], "loss": c["loss"], "gd_t": np.concatenate(gd_t), "gd_loss": gd, "T": T,
            "dev": float(np.max(np.abs(gd - np.array([np.interp(np.concatenate(gd_t), c["t"], row)
                                                       for row in c["loss"]]))))}


def _continual_figure(d) -> bytes:
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.0, 4.0), layout="constrained")
        for i in range(d["loss"].shape[0]):
            ax.plot(d["t"], d["loss"][i], color=f"C{i}", lw=1.3, label=f"task {i + 1}")
            ax.plot(d["gd_t"], d["gd_loss"][i], "o", color=f"C{i}", ms=2.5)
        for k in range(1, 4):
            ax.axvline(k * d["T"], color="0.6", lw=0.8, ls="--")
        ax.set_xlabel("t")
        ax.set_ylabel("loss on task i (without L*)")
        ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
        return _png(fig)


def _continual(ctx: Context) -> list:
    d = continual_data()
    ctx.data["lambda_balanced_matrix.continual"] = d
    caption = (f"Continual learning: a 5×5×5 network (P = 25, λ = {CL_LAM:g}) learns four random tasks in turn, each for "
               f"t = {d['T']:g}. Loss on every task: the exact solution chained across tasks (λ is conserved; the weights "
               "at each switch are a factor of QQᵀ) (lines) against gradient descent at η = 0.01 continuing from its own "
               f"weights (markers; max deviation {d['dev']:.1e}, first order in η). At convergence the forgetting "
               "½‖Σ_k − Σ_i‖² − ½‖Σ_j − Σ_i‖² does not depend on λ (lambda_balanced.forgetting).")
    return [Figure("fig-lambda-balanced-matrix-continual", _continual_figure(d), caption, d)]


@section("lambda_balanced_matrix", order=20)
def lambda_balanced_matrix(ctx: Context) -> SectionContent:
    """Whole λ-balanced networks: QQᵀ(t) against gradient descent, kernel distance, phase diagram."""
    with one_blas_thread():  # small matrices throughout: threaded BLAS only contends for the cores
        return _content(ctx)


def _content(ctx: Context) -> SectionContent:
    intro = Paragraph(
        "From any λ-balanced start (W₂ᵀW₂ − W₁W₁ᵀ = λI, whitened inputs, Nh = min(Ni, No)) the whole matrix "
        "QQᵀ(t) = [[W₁ᵀW₁, W₁ᵀW₂ᵀ], [W₂W₁, W₂W₂ᵀ]] is known in closed form (lambda_balanced.qqt, evaluated in a "
        "stable form with decaying exponentials only). Its blocks give the network function, both representations, "
        "the loss and the neural tangent kernel, whose motion S(0, ∞) measures how rich the learning is.")
    return SectionContent("Whole λ-balanced networks: function, representations and kernel",
                          [intro, *_gd(ctx), *_kd(ctx), *_phase(ctx), *_neuron(ctx),
                           *_continual(ctx)])

"""Report section for the λ-balanced aligned modes (``lambda_balanced.*``).

Three figures, each computed by a pure ``*_data`` function (so tests can check
the numbers the figure shows):

* the family a(t) for several λ at s = 1, a0 = 0.01: closed form (lines) against
  the gradient-flow simulation of the network (markers);
* the time to learn from a0 = 0.01 to af = 0.99 against λ, with Saxe's λ = 0 value
  and the lazy limit ln((s − a0)/(s − af))/|λ|;
* the loss of a three-mode task for a few λ.

A result that is not registered skips its figure with a note.
"""

from __future__ import annotations

import numpy as np

import derive

from ._figures import colors, render
from ._sections import Context, Figure, Paragraph, SectionContent, section

S, A0, AF = 1.0, 0.01, 0.99
T_MAX = 8.0
FAMILY_LAMS = (-10.0, -1.0, 0.0, 1.0, 10.0)
TIME_LAM_MAX = 20.0
LOSS_LAMS = (0.0, 1.0, 10.0)
LOSS_S = (3.0, 2.0, 1.0)

MODE, TIME, LOSS = "lambda_balanced.mode", "lambda_balanced.time_to_learn", "lambda_balanced.loss"


def _lam(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def _skip(name: str, what: str) -> Paragraph:
    return Paragraph(f"The {what} figure is skipped: the result {name} is not registered.")


# -- figure 1: the family a(t) ------------------------------------------------------
def family_data(*, simulate: bool = True, n_t: int = 401, n_markers: int = 17) -> dict:
    """Closed-form a(t) for each λ in FAMILY_LAMS (rows) on t ∈ [0, T_MAX]; with ``simulate``,
    also the gradient-flow modes of a scalar network (Ni = No = Nh = 1) at ``n_markers`` times
    and their relative deviation from the closed form (a few extra early markers catch the fast
    lazy modes)."""
    mode = derive.get(MODE)
    lams = np.array(FAMILY_LAMS)
    t = np.linspace(0.0, T_MAX, n_t)
    out = {"lams": lams, "s": S, "a0": A0, "t": t,
           "theory": np.asarray(mode.evaluate(lam=lams[:, None], s=S, a0=A0, t=t[None, :]))}
    if simulate:
        from numerics.simulate import aligned_init, gradient_flow

        tm = np.union1d(np.linspace(0.0, T_MAX, n_markers), [0.05, 0.1, 0.2, 0.3])
        at = np.asarray(mode.evaluate(lam=lams[:, None], s=S, a0=A0, t=tm[None, :]))
        # (a copy: the simulator's Trajectory freezes the time array it is given)
        sim = np.stack([gradient_flow(aligned_init(lam, s=np.array([S]), a0=np.array([A0]), Ni=1, No=1, seed=0),
                                      tm.copy()).modes[:, 0] for lam in FAMILY_LAMS])
        rel = np.abs(sim - at) / np.abs(at)
        out.update(t_markers=tm, simulated=sim, theory_markers=at, rel_dev=rel, max_rel_dev=float(rel.max()))
    return out


def _family_figure(d: dict) -> bytes:
    mags = sorted({abs(x) for x in FAMILY_LAMS})
    cmap = dict(zip(mags, colors(len(mags))))

    def draw(ax):
        for k, lam in enumerate(FAMILY_LAMS):
            c = cmap[abs(lam)]
            ax.plot(d["t"], d["theory"][k], color=c, ls=":" if lam < 0 else "-", lw=1.6,
                    label=f"λ = {_lam(lam)}")
            if "simulated" in d:
                ax.plot(d["t_markers"], d["simulated"][k], ls="none", color=c,
                        marker="x" if lam < 0 else "o", mfc="none", ms=6 if lam < 0 else 7)
        if "simulated" in d:
            ax.plot([], [], ls="none", marker="o", mfc="none", color="0.3", label="simulation (gradient flow)")
        ax.axhline(S, color="0.5", lw=0.8, ls="--")
        ax.set(xlabel="t", ylabel="a(t)", xlim=(0, T_MAX), ylim=(0, 1.05 * S),
               title=f"Aligned mode, s = {S:g}, a0 = {A0:g}")
        ax.legend(loc="lower right")

    return render(draw)


def _family(ctx: Context) -> list:
    try:
        derive.get(MODE)
    except KeyError:
        return [_skip(MODE, "mode-family")]
    try:
        d = family_data()
        sim_note = ""
    except ImportError as exc:  # the simulator is optional for the figure
        d = family_data(simulate=False)
        sim_note = f" (simulation unavailable: {exc})"
    ctx.data["lambda_balanced.family"] = d
    lams = ", ".join(_lam(x) for x in FAMILY_LAMS)
    caption = (f"The aligned mode a(t) for λ ∈ {{{lams}}} at s = {S:g}, a0 = {A0:g}: closed form {MODE} (lines) "
               "and gradient-flow simulation of the two-layer network (markers; Ni = No = Nh = 1, "
               "circles λ ≥ 0, crosses λ < 0). The trajectory goes from sigmoidal (rich, λ = 0) to "
               "exponential (lazy, |λ| large). a(t) depends on λ only through λ², so the curves for ±λ "
               "coincide although the networks differ (the input layer is the larger one for λ < 0).")
    blocks: list = [Figure("fig-lambda-balanced-family", _family_figure(d), caption, d)]
    if "max_rel_dev" in d:
        n = d["rel_dev"].size
        blocks.append(Paragraph(
            f"Simulation against theory: the largest relative deviation between the {n} simulated markers "
            f"(DOP853, rtol = 1e-12) and the closed form is {d['max_rel_dev']:.2e}."))
    else:
        blocks.append(Paragraph("Theory only" + sim_note + "."))
    return blocks


# -- figure 2: time to learn -------------------------------------------------------
def time_data(n_half: int = 200) -> dict:
    """Time to learn a0 → af at s = 1 over λ ∈ [−20, 20] (symmetric grid containing 0 exactly),
    with Saxe's λ = 0 value and the lazy limit ln((s − a0)/(s − af))/|λ|."""
    half = np.linspace(0.0, TIME_LAM_MAX, n_half + 1)[1:]
    lam = np.concatenate([-half[::-1], [0.0], half])
    t = np.asarray(derive.get(TIME).evaluate(lam=lam, s=S, a0=A0, af=AF))
    with np.errstate(divide="ignore"):
        lazy = np.log((S - A0) / (S - AF)) / np.abs(lam)
    saxe = np.log(AF * (S - A0) / (A0 * (S - AF))) / (2 * S)
    return {"lam": lam, "t": t, "saxe": float(saxe), "lazy": lazy, "t0": float(t[n_half])}


def _time_figure(d: dict) -> bytes:
    def draw(ax):
        lam = d["lam"]
        ax.plot(lam, d["t"], color="C0", lw=1.8, label="closed form")
        lazy = np.where(np.abs(lam) >= 0.4, d["lazy"], np.nan)
        ax.plot(lam, lazy, color="C3", ls="--", lw=1.2, label="lazy limit ln((s−a0)/(s−af))/|λ|")
        ax.plot([0.0], [d["saxe"]], ls="none", marker="*", ms=13, color="C1", label="Saxe et al. (λ = 0)")
        ax.set_yscale("log")
        ax.set(xlabel="λ", ylabel="time to learn", xlim=(-TIME_LAM_MAX, TIME_LAM_MAX),
               title=f"Time from a0 = {A0:g} to af = {AF:g} at s = {S:g}")
        ax.legend(loc="upper left")

    return render(draw)


def _time(ctx: Context) -> list:
    try:
        derive.get(TIME)
    except KeyError:
        return [_skip(TIME, "time-to-learn")]
    d = time_data()
    ctx.data["lambda_balanced.time_to_learn"] = d
    rel0 = abs(d["t0"] - d["saxe"]) / d["saxe"]
    ratio = d["t"][-1] / d["lazy"][-1]
    caption = (f"Time for the mode to go from a0 = {A0:g} to af = {AF:g} (s = {S:g}) against λ, "
               f"from {TIME} (log scale). The star is Saxe's rich-regime time (1/(2s)) ln(af(s − a0)/(a0(s − af))) "
               "at λ = 0; the dashed line is the lazy limit ln((s − a0)/(s − af))/|λ|.")
    text = (f"At λ = 0 the closed form gives {d['t0']:.6f} and Saxe's formula {d['saxe']:.6f} "
            f"(relative difference {rel0:.1e}); at |λ| = {TIME_LAM_MAX:g} the time to learn is "
            f"{ratio:.4f} times the lazy limit.")
    return [Figure("fig-lambda-balanced-time", _time_figure(d), caption, d), Paragraph(text)]


# -- figure 3: loss ----------------------------------------------------------------
def loss_data(n_t: int = 401) -> dict:
    """Loss of the task s = (3, 2, 1), a0 = 0.01 per mode, L* = 0, for each λ in LOSS_LAMS (rows)."""
    loss = derive.get(LOSS)
    s = np.array(LOSS_S)
    t = np.linspace(0.0, T_MAX, n_t)
    L = np.stack([np.asarray(loss.evaluate(lam=lam, s=s, a0=np.full(s.size, A0), t=t, Lstar=0.0))
                  for lam in LOSS_LAMS])
    return {"lams": np.array(LOSS_LAMS), "s": s, "t": t, "loss": L}


def _loss_figure(d: dict) -> bytes:
    def draw(ax):
        for k, (lam, c) in enumerate(zip(d["lams"], colors(len(d["lams"])))):
            ax.plot(d["t"], d["loss"][k], color=c, lw=1.6, label=f"λ = {_lam(lam)}")
        ax.set(xlabel="t", ylabel="loss", xlim=(0, T_MAX), ylim=(0, None),
               title="Loss, s = (" + ", ".join(f"{x:g}" for x in d["s"]) + f"), a0 = {A0:g}")
        ax.legend(loc="upper right")

    return render(draw)


def _loss(ctx: Context) -> list:
    try:
        derive.get(LOSS)
    except KeyError:
        return [_skip(LOSS, "loss")]
    d = loss_data()
    ctx.data["lambda_balanced.loss"] = d
    caption = (f"Loss trajectories from {LOSS} for s = (3, 2, 1), a0 = {A0:g} in every mode, L* = 0. "
               "In the rich regime (λ = 0) the modes are learned one after another, strongest first: "
               "a sigmoidal drop, then a shoulder near 1/2 while the weakest mode (s = 1) is still small; "
               "as |λ| grows the stages merge into one fast exponential decay.")
    return [Figure("fig-lambda-balanced-loss", _loss_figure(d), caption, d)]


@section("lambda_balanced", order=10)
def lambda_balanced(ctx: Context) -> SectionContent:
    """The λ-balanced aligned-mode section: the three figures above."""
    intro = Paragraph(
        "A two-layer linear network W2 W1 trained by gradient flow on whitened inputs conserves "
        "W2ᵀW2 − W1W1ᵀ = λI. When the initial product shares its singular vectors with the task, every "
        "mode obeys da/dt = √(λ² + 4a²)(s − a): λ = 0 is the rich (Saxe) regime, |λ| large the lazy one.")
    return SectionContent("λ-balanced aligned modes: from rich to lazy",
                          [intro, *_family(ctx), *_time(ctx), *_loss(ctx)])

"""Report section "two_stage": the jointly rich two-stage dynamics (issue 6 (d)), mean field against finite width.

A two-layer linear μP network (conventions of :mod:`numerics._two_stage_dmft`) is pretrained on the source
task with richness γ₁ and then trained on the target with richness γ₂ (fresh readout), or trained on the
target from initialisation (no pretraining). The mean-field curve is the exact S → ∞ limit of the Euler
scheme for a linear network (the second-moment recursion, :func:`numerics._two_stage_dmft.linear_mean_field`);
markers are finite-width networks (N in WIDTHS, NET_SEEDS seeds, error bars one standard error over seeds).
For a linear network the width-N trajectory is the same recursion started at the sample's own moments; that
gives the finite-N gap for many seeds at negligible cost.
The data function :func:`two_stage_data` also returns the fitted rate at which the finite-N gap closes.
"""

from __future__ import annotations

import functools

import numpy as np

from numerics._two_stage_dmft import linear_mean_field, make_task, sample_moments
from numerics.simulate._two_stage_network import WIDTHS, two_stage_network

from ._figures import colors, render
from ._sections import Context, Figure, Paragraph, SectionContent, Table, section

D, P1, P2, N_TEST, ALPHA = 32, 16, 16, 32, 0.8
GAMMA1, GAMMA2S = 2.0, (0.5, 1.0, 2.0)
DT, STEPS1, STEPS2 = 0.2, 100, 100
NET_GAMMA2 = 1.0  # the gamma2 at which the finite-width networks run
NET_SEEDS = 4
MOMENT_SEEDS = 100
MARK_EVERY = 10


def _task():
    return make_task(D, P1, P2, N_TEST, ALPHA, seed=11)


@functools.lru_cache(maxsize=8)
def _moments(N: int, count: int) -> tuple:
    """Sample moments of ``count`` seeds at width N (shared by both protocols: drawing them dominates the cost)."""
    return tuple(sample_moments(D, N, seed=7 + 1000 * N + s) for s in range(count))


def two_stage_data(*, simulate: bool = True, widths=WIDTHS, seeds: int = NET_SEEDS,
                   moment_seeds: int = MOMENT_SEEDS) -> dict:
    """Mean-field target test loss over stage-two time for each gamma2, with (steps1 = STEPS1) and without
    (steps1 = 0) pretraining. With ``simulate``, at NET_GAMMA2:

    * finite-width networks (``seeds`` seeds per width): mean and standard error over seeds of the target test
      loss, and z = max over times of |mean - mean field|/s.e.;
    * the convergence rate, from ``moment_seeds`` seeds per width of the exact sample-moment recursion (for a
      linear network it IS the width-N network's trajectory, to rounding: ``net_vs_moments`` checks it on the
      network seeds): ``fluct`` = RMS over seeds and times of one seed's gap to the mean field, ``bias`` = RMS
      over times of the seed-mean gap, ``bias_se`` its Monte Carlo noise level, and the fitted log-log slopes
      ``rate_fluct``, ``rate_bias`` against N."""
    task = _task()
    out = {"gamma2s": GAMMA2S, "gamma1": GAMMA1, "mf": {}, "net": {}}
    for pre in (True, False):
        for g2 in GAMMA2S:
            r = linear_mean_field(task, gamma1=GAMMA1, gamma2=g2, dt=DT, steps1=STEPS1 if pre else 0, steps2=STEPS2)
            out["mf"][(pre, g2)] = r["target_test"]
            out["t2"] = r["t2"]
    if not simulate:
        return out
    out["widths"] = tuple(widths)
    kw = dict(gamma1=GAMMA1, gamma2=NET_GAMMA2, dt=DT, steps2=STEPS2)
    z, fluct, bias, bias_se, net_vs_moments = {}, {}, {}, {}, 0.0
    for pre in (True, False):
        mf = out["mf"][(pre, NET_GAMMA2)]
        steps1 = STEPS1 if pre else 0
        fluct[pre], bias[pre], bias_se[pre] = [], [], []
        for N in widths:
            L = []
            for s in range(seeds):
                net = two_stage_network(task, width=N, steps1=steps1, activation="linear", seed=1000 * N + s, **kw)
                mom = linear_mean_field(task, steps1=steps1, C0=sample_moments(D, N, seed=1000 * N + s), **kw)
                net_vs_moments = max(net_vs_moments, float(np.max(np.abs(net["target_test"] - mom["target_test"]))))
                L.append(net["target_test"])
            L = np.stack(L)
            m, se = L.mean(0), L.std(0, ddof=1) / np.sqrt(seeds)
            out["net"][(pre, N)] = (m, se)
            z[(pre, N)] = float(np.max(np.abs(m[1:] - mf[1:]) / se[1:]))
            moments = _moments(N, moment_seeds)
            G = np.stack([linear_mean_field(task, steps1=steps1, C0=C, **kw)["target_test"][1:] - mf[1:]
                          for C in moments])
            fluct[pre].append(float(np.sqrt(np.mean(G * G))))
            bias[pre].append(float(np.sqrt(np.mean(G.mean(0) ** 2))))
            bias_se[pre].append(float(np.sqrt(np.mean(G.var(0, ddof=1))) / np.sqrt(moment_seeds)))
    _moments.cache_clear()
    logN = np.log(np.array(widths, float))
    out.update(z=z, fluct=fluct, bias=bias, bias_se=bias_se, net_vs_moments=net_vs_moments,
               rate_fluct={p: float(np.polyfit(logN, np.log(fluct[p]), 1)[0]) for p in fluct},
               rate_bias={p: float(np.polyfit(logN, np.log(bias[p]), 1)[0]) for p in bias})
    return out


def _figure(d: dict, pre: bool) -> bytes:
    def draw(ax):
        t = d["t2"]
        for g2, c in zip(d["gamma2s"], colors(len(d["gamma2s"]))):
            ax.plot(t, d["mf"][(pre, g2)], color=c, lw=1.6, label=f"γ₂ = {g2:g} (mean field)")
        other = d["mf"][(not pre, NET_GAMMA2)]
        ax.plot(t, other, color="0.5", lw=0.9, ls=":",
                label=f"γ₂ = {NET_GAMMA2:g}, {'no pretraining' if pre else 'pretrained'}")
        shapes = ("s", "^", "o")
        for N, mk in zip(d.get("widths", ()), shapes):
            m, se = d["net"][(pre, N)]
            sl = slice(0, None, MARK_EVERY)
            ax.errorbar(t[sl], m[sl], yerr=se[sl], fmt=mk, mfc="none", ms=4, capsize=2, color="k", lw=0.8,
                        label=f"network N = {N}")
        ax.set(xlabel="stage-two time t (= steps × η)", ylabel="target test loss", ylim=(0, None),
               title=("pretrained on the source (γ₁ = %g)" % d["gamma1"]) if pre else "no pretraining")
        ax.legend(fontsize=7, loc="upper right")

    return render(draw, size=(5.6, 3.8))


@section("two_stage", order=45)
def two_stage(ctx: Context) -> SectionContent:
    """Jointly rich two-stage dynamics: mean-field (DMFT) target loss against finite-width networks."""
    d = two_stage_data()
    ctx.data["two_stage.dmft"] = d
    intro = Paragraph(
        "Two-stage training of a two-layer μP network (Lauditi, Bordelon, Pehlevan, ICLR 2026; conventions of "
        "numerics._two_stage_dmft): h = w·x/√D, f = Σ z φ(h)/(Nγ), mean half-squared loss, gradient descent with "
        f"step ηNγ² (η = {DT:g}); stage one on P₁ = {P1} source points with γ₁ = {GAMMA1:g} for {STEPS1} steps, "
        f"stage two on P₂ = {P2} target points (alignment α = {ALPHA:g}, D = {D}, linear teachers) with richness "
        "γ₂ and a fresh readout; 'no pretraining' starts stage two from initialisation. The dynamical mean-field "
        "solver (single-site Monte Carlo over preactivation fields and readouts) reduces for φ = identity to an "
        "exact second-moment recursion: that is the mean-field line. Markers: finite networks, mean ± standard "
        f"error over {NET_SEEDS} seeds.")
    blocks = [intro]
    for pre in (True, False):
        cap = (f"Target test loss during stage two for γ₂ ∈ {{{', '.join(f'{g:g}' for g in GAMMA2S)}}}, "
               f"{'after pretraining' if pre else 'without pretraining'}; markers: networks at γ₂ = {NET_GAMMA2:g}.")
        blocks.append(Figure(f"fig-two-stage-{'pretrained' if pre else 'scratch'}", _figure(d, pre), cap,
                             {"t2": d["t2"]}))
    rows = []
    for pre in (True, False):
        for k, N in enumerate(d["widths"]):
            rows.append(("pretrained" if pre else "no pretraining", str(N), f"{d['fluct'][pre][k]:.2e}",
                         f"{d['bias'][pre][k]:.1e} ± {d['bias_se'][pre][k]:.0e}", f"{d['z'][(pre, N)]:.1f}"))
    rate = "; ".join(f"{'pretrained' if p else 'no pretraining'}: one-seed gap ∝ N^{d['rate_fluct'][p]:.2f}, "
                     f"seed-mean gap ∝ N^{d['rate_bias'][p]:.2f}" for p in (True, False))
    blocks.append(Table(("protocol", "N", "one-seed RMS gap", f"gap of the {MOMENT_SEEDS}-seed mean",
                         f"max |mean − MF|/s.e. ({NET_SEEDS} networks)"), tuple(rows),
                        caption="Gap between width-N networks and the mean field over the stage-two trajectory at "
                                f"γ₂ = {NET_GAMMA2:g}. The gap columns use {MOMENT_SEEDS} seeds per N of the exact "
                                "sample-moment recursion, which for a linear network is the width-N network's "
                                "trajectory (largest difference from the simulated networks: "
                                f"{d['net_vs_moments']:.0e}). Fitted rates: {rate}."))
    return SectionContent("Jointly rich transfer: two-stage mean-field dynamics", blocks)

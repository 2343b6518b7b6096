"""Report section for diagonal linear networks through pretraining and fine-tuning (``diagonal.*``).

Four parts, each computed by a pure ``*_data`` function (tests and the closing note read the
numbers the figures show):

* (a) single-task learning curves for several lam at fixed c: the simulated network (gradient
  flow, markers) and its implicit bias (lines) coincide for every lam (lam-independence);
* (c) kappa_FT heatmaps over (beta_PT, lam/c) for both fine-tuning resets (closed forms);
* (d) the implicit-bias verification table: simulated pipeline against the Bregman projections;
* (e) rich-limit convergence: distance to the minimum-l1 (and weighted-l1) interpolant against kappa.

Signs are lazyrich's: lam = v^2 - w^2 (readout minus first layer), so lam > 0 is a smaller first layer.
"""

from __future__ import annotations

import numpy as np

import derive

from ._figures import colors, render
from ._sections import Context, Figure, Paragraph, SectionContent, Table, section

BIAS = "diagonal.implicit_bias"
KB, KA = "diagonal.kappa_ft_readout_reset", "diagonal.kappa_ft_merged"

# (a) learning curves
CURVE_C, CURVE_RATIOS = 0.05, (-0.99, 0.0, 0.99)
CURVE_D, CURVE_RHO, CURVE_ALPHAS, CURVE_SEEDS = 100, 0.1, (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), 4


def curves_data(*, simulate: bool = True) -> dict:
    """Per-coordinate error ||beta - beta*||^2 / d against alpha = n/d, averaged over seeds: Bregman
    projection with kappa = 2c (theory, lam-free) and, with ``simulate``, the gradient flow of the
    network from (c, lam) for each lam in CURVE_RATIOS on the same data."""
    from numerics.simulate._diagonal import (
        bernoulli_gaussian_task,
        diagonal_init,
        train,
    )

    bias = derive.get(BIAS)
    alphas = np.array(CURVE_ALPHAS)
    theory = np.zeros(alphas.size)
    sim = np.zeros((len(CURVE_RATIOS), alphas.size))
    dev = 0.0
    for k, a in enumerate(alphas):
        n = round(a * CURVE_D)
        for seed in range(CURVE_SEEDS):
            X, y, star = bernoulli_gaussian_task(n, CURVE_D, CURVE_RHO, seed=1000 * k + seed)
            b = bias.evaluate(X=X, y=y, kappa=2 * CURVE_C, beta0=0.0)
            theory[k] += np.mean((b - star) ** 2) / CURVE_SEEDS
            if simulate:
                for j, r in enumerate(CURVE_RATIOS):
                    bs = train(diagonal_init(CURVE_C, r * CURVE_C, CURVE_D), X, y).weights.beta
                    sim[j, k] += np.mean((bs - star) ** 2) / CURVE_SEEDS
                    dev = max(dev, float(np.abs(bs - b).max()))
    out = {"alphas": alphas, "theory": theory, "c": CURVE_C, "ratios": np.array(CURVE_RATIOS)}
    if simulate:
        out.update(simulated=sim, max_beta_deviation=dev)
    return out


def _curves_figure(d: dict) -> bytes:
    def draw(ax):
        ax.plot(d["alphas"], d["theory"], color="k", lw=1.5, label="Bregman projection, κ = 2c (any λ)")
        if "simulated" in d:
            for j, (r, col) in enumerate(zip(d["ratios"], colors(len(d["ratios"])))):
                ax.plot(d["alphas"], d["simulated"][j], ls="none", marker="ox+"[j], mfc="none", color=col, ms=8,
                        label=f"gradient flow, λ/c = {r:g}".replace("-", "−"))
        ax.set_yscale("log")
        ax.set_xlabel("α = n/d")
        ax.set_ylabel("‖β̂ − β*‖² / d")
        ax.legend()

    return render(draw)


def _curves(ctx: Context) -> list:
    d = curves_data()
    ctx.data["diagonal.curves"] = d
    caption = (f"(a) Single task, Bernoulli–Gaussian teacher (ρ = {CURVE_RHO}), d = {CURVE_D}, c = {CURVE_C}, "
               f"{CURVE_SEEDS} seeds per α. The curves for λ/c ∈ {{−0.99, 0, 0.99}} coincide: the largest "
               f"difference between any simulated predictor and the projection is {d['max_beta_deviation']:.1e}.")
    return [Figure("fig-diagonal-lambda-independence", _curves_figure(d), caption, d)]


# (c) heatmaps
HEAT_C = 0.1


def heatmap_data(n_beta: int = 121, n_lam: int = 81) -> dict:
    """log10 kappa_FT over beta_PT in [5e-4, 2e3] x lam/c in [-1, 1] at c = HEAT_C, gamma = 0, both resets."""
    beta = np.geomspace(5e-4, 2e3, n_beta)
    ratio = np.linspace(-1.0, 1.0, n_lam)
    args = {"c": HEAT_C, "lam": HEAT_C * ratio[:, None], "beta_pt": beta[None, :], "gamma": 0.0}
    kb = np.asarray(derive.get(KB).evaluate(**args)["kappa"])
    ka = np.asarray(derive.get(KA).evaluate(**args)["kappa"])
    with np.errstate(divide="ignore"):
        return {"beta_pt": beta, "lam_ratio": ratio, "log10_kappa_readout_reset": np.log10(kb),
                "log10_kappa_merged": np.log10(ka)}


def _heatmap_figure(d: dict, key: str, title: str) -> bytes:
    def draw(ax):
        z = np.where(np.isfinite(d[key]), d[key], np.nan)
        m = ax.pcolormesh(d["beta_pt"], d["lam_ratio"], z, shading="auto", cmap="viridis")
        ax.set_xscale("log")
        ax.set_xlabel("β_PT")
        ax.set_ylabel("λ/c  (λ > 0: smaller first layer)")
        ax.set_title(title)
        ax.figure.colorbar(m, ax=ax, label="log10 κ_FT")
        ax.grid(False)

    return render(draw, size=(6.0, 4.2))


def _heatmaps(ctx: Context) -> list:
    d = heatmap_data()
    ctx.data["diagonal.heatmaps"] = d
    return [
        Figure("fig-diagonal-kappa-readout-reset", _heatmap_figure(d, "log10_kappa_readout_reset",
                                                                    "readout reset to γ = 0"),
               f"(c) κ_FT after resetting the readout (first layer kept), c = {HEAT_C}, γ = 0: κ_FT = √(c² + β²) − λ. "
               "Features not learned in pretraining get c − λ, which vanishes for a small first layer (λ → c).", d),
        Figure("fig-diagonal-kappa-merged", _heatmap_figure(d, "log10_kappa_merged", "first layer merged, γ = 0"),
               f"(c) κ_FT after merging the first-layer paths, c = {HEAT_C}, γ = 0: κ_FT = 2(c − λ)(1 + √(1 + β²/c²)); "
               "the relative scale λ/c sets how strongly pretrained features are reused.", d),
    ]


# (d) verification table
def table_data() -> list[dict]:
    """Max |beta_GF - beta_theory| for pretraining and both fine-tuning resets (d = 20, n = 8)."""
    from proofs._diagonal import CS, GAMMAS, LAM_RATIOS, _data, _pipeline

    bias, Xp, yp, Xf, yf = derive.get(BIAS), *_data()
    rows = []
    for c in CS:
        for r in LAM_RATIOS:
            for g in GAMMAS:
                row = {"c": c, "lam_ratio": r, "gamma": g}
                for protocol, name in (("readout_reset", KB), ("merged", KA)):
                    run = _pipeline(c, r, g, protocol)
                    k = derive.get(name).evaluate(c=c, lam=r * c, beta_pt=run.pretrained.beta, gamma=g)
                    ft = bias.evaluate(X=Xf, y=yf, kappa=k["kappa"], beta0=k["centre"])
                    row[protocol] = float(np.abs(ft - run.finetuned.beta).max())
                pt = bias.evaluate(X=Xp, y=yp, kappa=2 * c, beta0=0.0)
                row["pretraining"] = float(np.abs(pt - run.pretrained.beta).max())
                rows.append(row)
    return rows


def _table(ctx: Context) -> list:
    rows = table_data()
    ctx.data["diagonal.table"] = rows
    worst = max(max(r["pretraining"], r["readout_reset"], r["merged"]) for r in rows)
    body = tuple((f"{r['c']:g}", f"{r['lam_ratio']:g}".replace("-", "−"), f"{r['gamma']:g}",
                  f"{r['pretraining']:.1e}", f"{r['readout_reset']:.1e}", f"{r['merged']:.1e}") for r in rows)
    return [Table(("c", "λ/c", "γ", "pretraining", "FT, readout reset", "FT, merged"), body,
                  caption=("(d) ‖β_GF − β_theory‖∞: gradient flow of the full network (Dormand–Prince 5(4), "
                           "rtol 1e-12, stopped at loss 1e-22) against the Bregman projection with the closed-form "
                           f"κ and centre; d = 20, n = 8 per stage. Largest: {worst:.1e} (claimed ≤ 1e-9)."))]


# (e) rich limit
def rich_data() -> dict:
    """Distance to the minimum-l1 interpolant (uniform kappa) and the weighted-l1 one (kappa_i = s^{w_i})."""
    from numerics.simulate._diagonal import bernoulli_gaussian_task
    from proofs._diagonal import _lp_weighted_l1

    bias = derive.get(BIAS)
    d = 20
    X, y, _ = bernoulli_gaussian_task(8, d, 0.3, seed=1)
    w = np.where(np.arange(d) % 3 == 0, 0.5, 1.0)
    l1, wl1 = _lp_weighted_l1(X, y, np.ones(d)), _lp_weighted_l1(X, y, w)
    kappas = np.geomspace(1e-300, 1e-1, 60)
    uniform = np.array([np.abs(bias.evaluate(X=X, y=y, kappa=k, beta0=0.0) - l1).max() for k in kappas])
    nested = np.array([np.abs(bias.evaluate(X=X, y=y, kappa=k**w, beta0=0.0) - wl1).max() for k in kappas])
    at = {k: float(np.abs(bias.evaluate(X=X, y=y, kappa=k, beta0=0.0) - l1).max()) for k in (1e-2, 1e-8, 1e-16)}
    return {"kappa": kappas, "uniform": uniform, "nested": nested, "at": at}


def _rich_figure(d: dict) -> bytes:
    def draw(ax):
        c1, c2 = colors(2)
        ax.loglog(d["kappa"], np.maximum(d["uniform"], 1e-16), color=c1, label="uniform κ → min-ℓ1")
        ax.loglog(d["kappa"], np.maximum(d["nested"], 1e-16), color=c2, ls="--",
                  label="κ_i = s^{w_i} (x-axis: s) → weighted ℓ1")
        ax.set_xlabel("κ (or s)")
        ax.set_ylabel("‖β̂ − β_ℓ1‖∞")
        ax.set_xlim(1e-1, 1e-300)  # decreasing: the rich limit is to the right
        ax.set_xticks([1e-1, 1e-50, 1e-100, 1e-150, 1e-200, 1e-250, 1e-300])
        ax.legend()

    return render(draw)


def _rich(ctx: Context) -> list:
    d = rich_data()
    ctx.data["diagonal.rich"] = d
    at = d["at"]
    caption = ("(e) Rich limit, d = 20, n = 8: the projection approaches the minimum-ℓ1 interpolant only "
               "logarithmically slowly in κ (" + ", ".join(f"{e:.1e} at κ = {k:.0e}" for k, e in at.items())
               + "), then abruptly once the ℓ1 support is resolved. Weights w_i = 0.5 on every third coordinate "
               "(features 'learned in pretraining') give the weighted-ℓ1 (nested) limit. The floor near 1e-12 is the "
               "tolerance of the linear program that computes the ℓ1 interpolants.")
    return [Figure("fig-diagonal-rich-limit", _rich_figure(d), caption, d)]


@section("diagonal", order=60)
def diagonal(ctx: Context) -> SectionContent:
    """Diagonal linear networks: parts (a), (c), (d), (e)."""
    intro = Paragraph(
        "A two-path diagonal network β = w₊v₊ − w₋v₋ from the (c, λ) initialisation (λ = v² − w², readout minus "
        "first layer; the research note and the authors' code use the opposite sign) converges, in every "
        "training stage, to the Bregman projection of the stage's start onto the interpolators for the "
        "potential φ_κ, with κ² = 4c² + (λ₊ − λ₋)² from the conserved quantities. Pretraining has κ = 2c "
        "whatever λ is; λ acts only through the weights handed to fine-tuning. Setting: Anguita, Locatello, "
        "Saxe et al. 2026.")
    return SectionContent("Diagonal linear networks: pretraining and fine-tuning",
                          [intro, *_curves(ctx), *_heatmaps(ctx), *_table(ctx), *_rich(ctx)])

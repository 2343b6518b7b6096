"""Report section (c) of issue 7: steps to learn against d, low-rank fine-tuning against learning from scratch.

The full grid (d = 64 ... 1024, k = 1, 2, 3, both students, 64 seeds) takes minutes on two cores, so it is
run by ``benchmarks/experiment_lowrank_finetune.py``, which writes every hitting step to the fixture
``data/lowrank_finetune.json``; this section fits and plots the fixture, and re-runs a reduced grid live
(d <= 256, fewer seeds, independent seeds) to check that the simulator still produces the fixture's numbers
(per-d medians within ``LIVE_Z`` bootstrap standard errors of the log-median).

The model, its choices (only the adapter direction u trained, spherical SGD, xi = xi*, orthonormal base rows,
u* orthogonal to them) and the activations are those of ``numerics.simulate._lowrank_finetune``; the setting
is Dayi & Chen's (``dayi2025lowrank``) as far as the abstracts fix it, and the expected laws (d for
fine-tuning; d, d log d, d^(k-1) from scratch) are the research note's heuristics, not theorems quoted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._figures import colors, render
from ._sections import Context, Figure, Items, Paragraph, SectionContent, Table, section

DATA = Path(__file__).resolve().parent / "data" / "lowrank_finetune.json"
MODES = ("finetune", "scratch")
KS = (1, 2, 3)
ACTIVATIONS = {1: "relu(z)", 2: "|z|", 3: "shrink₁(z) − p z"}
EXPECTED = {("finetune", 1): "d", ("finetune", 2): "d", ("finetune", 3): "d",
            ("scratch", 1): "d", ("scratch", 2): "d log d", ("scratch", 3): "d²"}
LIVE_DS = (64, 128, 256)
LIVE_RUNS = 32
LIVE_SEED = 1  # independent of the fixture's seed 0
LIVE_Z = 4.0  # Bonferroni over the 18 cells: family-wise 0.1% for normal z
LARGE_D = 256  # the second fit, on d >= LARGE_D, shows the finite-size drift of the exponents


def load_fixture(path: Path = DATA) -> dict:
    """The experiment's hitting steps as ``{(mode, k): (len(ds), runs)}`` arrays, ``inf`` = censored."""
    raw = json.loads(Path(path).read_text())
    hits = {}
    for key, rows in raw["hits"].items():
        mode, k = key.split("/")
        h = np.asarray(rows, dtype=float)
        hits[(mode, int(k))] = np.where(h < 0, np.inf, h)
    return {**raw, "ds": np.asarray(raw["ds"]), "hits": hits}


def scaling_data(fixture: dict | None = None, *, boot: int = 2000) -> dict:
    """Fitted exponents (95% bootstrap intervals over seeds) of the fixture's per-d medians, per (mode, k);
    for the from-scratch k = 2 also the exponent of steps / log d (1 for the d log d law)."""
    from numerics.simulate._lowrank_finetune import fit_exponent

    fx = load_fixture() if fixture is None else fixture
    ds = fx["ds"]
    fits = {key: fit_exponent(ds, h, boot=boot, seed=7) for key, h in fx["hits"].items()}
    big = ds >= LARGE_D
    fits_large = {key: fit_exponent(ds[big], h[big], boot=boot, seed=7) for key, h in fx["hits"].items()}
    quart = {key: np.percentile(h, [25, 75], axis=1) for key, h in fx["hits"].items()}
    log_fit = fit_exponent(ds, fx["hits"][("scratch", 2)], boot=boot, seed=7, log_correction=True)
    return {"ds": ds, "fits": fits, "fits_large": fits_large, "quartiles": quart, "scratch2_over_log": log_fit, "runs": fx["runs"],
            "elapsed_s": fx.get("elapsed_s")}


def _log_median_se(h: np.ndarray, boot: int, rng) -> float:
    idx = rng.integers(0, h.size, size=(boot, h.size))
    bm = np.median(h[idx], axis=1)
    bm = bm[np.isfinite(bm)]
    return float(np.std(np.log(bm), ddof=1))


def live_check(fixture: dict | None = None, *, ds=LIVE_DS, runs: int = LIVE_RUNS, seed: int = LIVE_SEED,
               boot: int = 400) -> dict:
    """Re-run the sub-grid ``ds`` with independent seeds; ``z[(mode, k)][i]`` is the difference of the
    log-medians (live against fixture at ``ds[i]``) in bootstrap standard errors."""
    from numerics.simulate._lowrank_finetune import hitting_grid

    fx = load_fixture() if fixture is None else fixture
    live = hitting_grid(ds=ds, runs=runs, seed=seed)["hits"]
    rng = np.random.default_rng(11)
    z, med = {}, {}
    for key, h in live.items():
        zs, ms = [], []
        for i, d in enumerate(ds):
            j = int(np.flatnonzero(fx["ds"] == d)[0])
            ref = fx["hits"][key][j]
            a, b = np.median(h[i]), np.median(ref)
            se = np.hypot(_log_median_se(h[i], boot, rng), _log_median_se(ref, boot, rng))
            zs.append(abs(np.log(a) - np.log(b)) / se if np.isfinite(a) and np.isfinite(b) else np.inf)
            ms.append(a)
        z[key], med[key] = np.array(zs), np.array(ms)
    return {"ds": np.asarray(ds), "z": z, "medians": med, "max_z": float(max(v.max() for v in z.values())),
            "runs": runs}


def _figure(sd: dict, live: dict | None) -> bytes:
    cols = colors(len(KS))
    ds = sd["ds"]

    def draw(ax):
        for c, k in zip(cols, KS):
            for mode, mk, ls in (("finetune", "o", "-"), ("scratch", "s", "--")):
                f = sd["fits"][(mode, k)]
                q = sd["quartiles"][(mode, k)]
                med = f["medians"]
                yerr = np.vstack([med - q[0], np.where(np.isfinite(q[1]), q[1], med) - med])
                ax.errorbar(ds, med, yerr=yerr, ls="none", marker=mk, ms=5, color=c,
                            mfc=c if mode == "finetune" else "none", capsize=2)
                fit = np.exp(np.polyval(np.polyfit(np.log(ds), np.log(med), 1), np.log(ds)))
                lab = "fine-tuning" if mode == "finetune" else "from scratch"
                ax.plot(ds, fit, ls=ls, color=c, lw=1.3,
                        label=f"k = {k}, {lab}: d^{f['exponent']:.2f}")
                if live is not None:
                    ax.plot(live["ds"], live["medians"][(mode, k)], ls="none", marker="x", ms=6, color="0.25")
        if live is not None:
            ax.plot([], [], ls="none", marker="x", color="0.25", label=f"live re-run ({live['runs']} seeds)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("online-SGD steps to |u·u*| ≥ 0.9 (median, quartiles)")
        ax.legend(fontsize=7, ncol=2)

    return render(draw, size=(7.0, 5.0))


def _ci(f: dict) -> str:
    return f"[{f['ci'][0]:.2f}, {f['ci'][1]:.2f}]"


@section("lowrank_finetune", order=52)
def lowrank_finetune(ctx: Context) -> SectionContent:
    """Steps to learn against d: low-rank fine-tuning against learning from scratch."""
    sd = scaling_data()
    live = live_check()
    ctx.data["lowrank_finetune.scaling"] = sd
    ctx.data["lowrank_finetune.live"] = live
    rows = []
    for mode in MODES:
        for k in KS:
            f, fl = sd["fits"][(mode, k)], sd["fits_large"][(mode, k)]
            rows.append(("fine-tuning (rank-1 adapter)" if mode == "finetune" else "from scratch (W = 0)", str(k),
                         ACTIVATIONS[k], "c d^(−3/2)" if (mode == "scratch" and k == 3) else "c/d",
                         f"{f['exponent']:.3f} {_ci(f)}", f"{fl['exponent']:.3f} {_ci(fl)}",
                         EXPECTED[(mode, k)], str(f["censored"])))
    lf = sd["scratch2_over_log"]
    blocks = [
        Paragraph(
            "Low-rank fine-tuning (Dayi & Chen 2025): base model f(x) = Σᵢ λᵢ σ(wᵢ·x) of width m = 2 with "
            "orthonormal rows wᵢ and λᵢ = 1/m; teacher: first layer W + ξ* u*ᵀ with ξ* = (1, 1) and a unit u* "
            "orthogonal to the rows, so ‖ξ* u*ᵀ‖_F = ‖W‖_F; inputs x ~ N(0, I_d), one fresh sample per step, "
            "loss (f − y)²/2. The fine-tuned student is the adapter W + ξ* uᵀ started at a uniform u; learning "
            "from scratch is the same model with W = 0 (the GLM case of the paper's abstract: the single-index "
            "model y = σ(u*·x)). Both train only the direction u, by spherical online SGD from the same kind of "
            "start (u₀·u* ≥ 0), so they solve the same statistical problem and differ only by the base weights."),
        Items((
            "overlap: |u·u*| (unit vectors); steps to learn: the first step with |u·u*| ≥ 0.9;",
            ("activations (information exponent k): relu (k = 1), |z| (k = 2), shrink₁(z) − p z with "
             "p = P(|z| > 1) (k = 3: odd, c₁ = 0, c₃ = 2φ(1)/√6);"),
            ("step sizes η = c/d (c = 0.5), and η = c d^(−3/2) (c = 2) from scratch for k = 3: the order the "
             "normalisation drift η d C/2 allows (as single_index.predicted_steps); c chosen once from a scan at "
             "d = 128 (0.5 is a factor 4 below where from scratch k = 2 stalls), then fixed in d, so the "
             "exponents are outputs of the experiment;"),
            "censoring cap 400 d steps (400 d² from scratch, k = 3); censored runs count as +∞ in the medians;",
            (f"exponents: least squares of log median (over {sd['runs']} seeds) against log d, d = "
             f"{', '.join(str(int(d)) for d in sd['ds'])}; 95% intervals by bootstrap over seeds (2000 resamples)."),
        ), label="Choices"),
        Figure("fig-lowrank-finetune-scaling", _figure(sd, live),
               "Median online-SGD steps to reach overlap 0.9 against d (bars: quartiles over "
               f"{sd['runs']} seeds; lines: least-squares power laws), fine-tuning (filled, solid) against from "
               "scratch (open, dashed), for information exponents k = 1, 2, 3. Crosses: a live re-run with "
               f"independent seeds at d ≤ {int(live['ds'].max())}; largest deviation from the fixture "
               f"{live['max_z']:.2f} bootstrap standard errors of the log-median.",
               {"fits": {f"{m}/{k}": v["exponent"] for (m, k), v in sd["fits"].items()}}),
        Table(("student", "k", "activation", "η", "exponent, d = 64–1024 [95% CI]",
               f"exponent, d = {LARGE_D}–1024 [95% CI]", "expected", "censored"), tuple(rows),
              "Fitted exponents of the median steps to overlap 0.9 against d (bootstrap intervals over seeds)."),
        Paragraph(
            "Reading: fine-tuning's exponent is 1 up to a finite-size excess of a few hundredths that shrinks "
            f"on d ≥ {LARGE_D} (the intervals are over seeds only and do not cover that systematic drift), for "
            "every information exponent, which enters only the constant (k = 3 costs about 4–5 times k = 1); "
            "this is the d-linear iteration count of Dayi & Chen's abstract. From scratch the exponent grows "
            "with k: about 1 for k = 1; above 1 for k = 2, where the d log d law has local exponent "
            "1 + 1/ln d ≈ 1.14–1.24 on this range and steps/log d has exponent "
            f"{lf['exponent']:.3f} {_ci(lf)} (steps ≈ d (A ln d + B) with B > 0); about 2 = k − 1 for k = 3 "
            "(the large-d fit is noisier: the escape times there are heavy-tailed). The fixture was written by "
            "benchmarks/experiment_lowrank_finetune.py"
            + (f" in {sd['elapsed_s']:.0f} s." if sd.get("elapsed_s") else ".")
            + f" Live consistency check: {'passed' if live['max_z'] <= LIVE_Z else 'FAILED'} "
            f"(max z = {live['max_z']:.2f}, threshold {LIVE_Z:g})."),
    ]
    return SectionContent("Low-rank fine-tuning against learning from scratch: steps to learn against d", blocks)

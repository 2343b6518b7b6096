r"""Regenerates the polynomial coefficients of ``numerics.simulate._rng_fast`` (run as a script).

Three functions of one variable, each smooth on a short interval, are approximated by polynomials in
that variable (``z = phi^2``, ``t = s^2``):

* ``P(z) = (sin phi - phi)/(phi z)`` on ``[0, (pi/4)^2]``, degree 5: ``sin phi = phi + phi z P(z)``;
* ``C(z) = (1 - cos phi)/z`` on ``[0, (pi/4)^2]``, degree 6: ``cos phi = 1 - z C(z)``;
* ``T(t) = (atanh(s)/s - 1)/t`` on ``[0, (3 - 2 sqrt 2)^2]``, degree 6: ``log m = 2 atanh s = 2s + 2s t T(t)``
  for ``s = (m-1)/(m+1)``, ``m`` in ``[1/sqrt 2, sqrt 2]`` (so ``|s| <= 3 - 2 sqrt 2``).

Each is interpolated at Chebyshev nodes in 50-digit arithmetic (``mpmath.chebyfit``, within a small
factor of the minimax error) and the coefficients are rounded to doubles. The degrees are the least
whose rounded polynomial keeps the function it enters within a fraction of an ulp (the weight of the
approximated part: ``sin``: ``z |P| <= 0.103``; ``cos``: ``z C / cos <= 0.44``; ``log m``: ``t T <= 0.01``):
relative errors of the rounded polynomials, measured on 2001 points, ``P`` 2.0e-16, ``C`` 1.5e-18,
``T`` 4.7e-16, i.e. at most 0.2, 0.006 and 0.05 ulp of ``sin``, ``cos``, ``log m``. One degree less
gives ``P`` 1.7e-13, ``C`` 7.0e-16, ``T`` 6.9e-14 (several ulps): not enough. The Taylor series they
replace needed degrees 7, 8 and 9.
"""

from __future__ import annotations

import mpmath as mp

DEGREES = {"sin": 5, "cos": 6, "log": 6}


def _p_sin(z):
    if z == 0:
        return mp.mpf(-1) / 6
    r = mp.sqrt(z)
    return (mp.sin(r) - r) / (r * z)


def _c_cos(z):
    if z == 0:
        return mp.mpf(1) / 2
    return (1 - mp.cos(mp.sqrt(z))) / z


def _t_log(t):
    if t == 0:
        return mp.mpf(1) / 3
    s = mp.sqrt(t)
    return (mp.atanh(s) / s - 1) / t


def functions():
    """``{name: (f, interval end)}``: the approximated functions on ``[0, end]``."""
    with mp.workdps(50):
        quarter = (mp.pi / 4) ** 2
        s_max = (3 - 2 * mp.sqrt(2)) ** 2
    return {"sin": (_p_sin, quarter), "cos": (_c_cos, quarter), "log": (_t_log, s_max)}


def fit(name: str, degree: int | None = None) -> tuple[float, ...]:
    """Coefficients (ascending powers, rounded to doubles) of the polynomial for ``name``."""
    f, end = functions()[name]
    n = DEGREES[name] if degree is None else degree
    with mp.workdps(50):
        c = mp.chebyfit(f, [0, end], n + 1)
    return tuple(float(x) for x in reversed(c))


def relative_error(name: str, coeffs, points: int = 2001) -> float:
    """Largest relative error of the double coefficients against the function, on a uniform grid."""
    f, end = functions()[name]
    with mp.workdps(50):
        worst = mp.mpf(0)
        for k in range(points):
            z = end * k / (points - 1)
            p = mp.mpf(0)
            for c in reversed(coeffs):
                p = p * z + mp.mpf(c)
            worst = max(worst, abs(p / f(z) - 1))
    return float(worst)


if __name__ == "__main__":
    for key in DEGREES:
        cs = fit(key)
        print(f"_{key.upper()}_COEFFS = (")
        for c in cs:
            print(f"    {c!r},")
        print(f")  # relative error {relative_error(key, cs):.2g}")

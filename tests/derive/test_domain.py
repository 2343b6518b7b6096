"""Domain checks: the two-reduction fast path decides exactly as the entry-by-entry conditions."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derive import Param, integer, interval, nonnegative, positive, real
from derive._domain import Domain

DOMAINS = [real(), positive(), nonnegative(), interval(-1.0, 2.0), interval(0.0, 1.0, lo_open=True, hi_open=True),
           Domain(allow_inf=True), Domain(lo=0.0, allow_inf=True), integer(min=0), integer(min=1, max=5)]
SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 5.0, math.nan, math.inf, -math.inf, 1e-300, 2.5])


def _slow_verdict(domain: Domain, x: np.ndarray) -> str:
    """The first failing condition by the entry-wise masks alone (the definition)."""
    with np.errstate(invalid="ignore"):
        for bad, reason in domain._failures(x):
            if bad.any():
                return reason
    return ""


@given(i=st.integers(0, len(DOMAINS) - 1),
       x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5),
                    elements=st.one_of(st.floats(-3.0, 6.0), SPECIAL)))
@example(i=1, x=np.array([1.0, 0.0]))  # the open end is hit by the minimum only
@example(i=3, x=np.array([2.0, -1.0]))  # both closed ends, valid
@example(i=4, x=np.array([0.5, 1.0]))  # the open upper end is hit by the maximum only
@example(i=0, x=np.array([1.0, math.nan, 2.0]))  # NaN in the middle: min/max propagate it
@example(i=5, x=np.array([-math.inf, math.inf]))  # infinities allowed
@example(i=6, x=np.array([math.inf, -0.0]))
def test_fast_path_decides_as_the_conditions(i, x):
    domain = DOMAINS[i]
    bad, reason = domain.violations(x)
    assert reason == _slow_verdict(domain, x)
    if reason:
        assert bad is not None and bad.any()


def test_param_check_names_the_entry_that_fails():
    with pytest.raises(ValueError, match=r"^v: must be > 0 \(got 0.0\)"):
        Param("v", positive(), vector=True).check([3.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"^v: must not be NaN"):
        Param("v", positive(), vector=True).check([3.0, math.nan, -1.0])
    assert Param("v", positive(), vector=True).check([3.0, 1e-300]).shape == (2,)

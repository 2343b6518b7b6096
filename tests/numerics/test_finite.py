"""The one-pass finiteness test against NumPy's entry-by-entry definition."""

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numerics._finite import all_finite


@given(hnp.arrays(np.float64, st.integers(0, 70),
                  elements=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                     st.sampled_from([0.0, -0.0, 1.7e308, -1.7e308, 5e-324]))))
@example(np.array([]))  # empty: vacuously finite
@example(np.array([1.7e308, 1.7e308, -0.0]))  # huge finite entries: x * 0 is 0, no overflow
@example(np.array([math.inf, -math.inf]))
@example(np.array([-5.0] * 33 + [math.nan]))  # past whole vectors: the remainder loop
def test_all_finite_is_numpys_isfinite_all(x):
    assert all_finite(x) == bool(np.isfinite(x).all())

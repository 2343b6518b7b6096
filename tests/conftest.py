"""Test-wide settings: Hypothesis profiles and an isolated kernel cache.

``ci`` (selected when the environment sets ``CI``; ``.ci/run`` runs the README's command as
written, so it draws like ``dev`` unless ``CI`` is set) is deterministic: derandomised,
no example database, no deadline (first calls compile or load Numba kernels).
``dev`` (default) draws fresh examples; ``thorough`` draws many more.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

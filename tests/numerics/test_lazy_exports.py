"""numerics and numerics.simulate export their solvers and simulators, imported on first use."""

import subprocess
import sys

import pytest

import numerics
import numerics.simulate


@pytest.mark.parametrize("package", [numerics, numerics.simulate], ids=lambda m: m.__name__)
def test_every_public_name_resolves_and_unknown_names_fail(package):
    assert all(callable(getattr(package, name)) or isinstance(getattr(package, name), str)
               for name in package.__all__)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        package.no_such_thing  # noqa: B018


def test_importing_numerics_loads_no_model_solver():
    probe = "import sys, numerics; print(sorted(m for m in ('numerics._qqt', 'numerics._bregman') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"

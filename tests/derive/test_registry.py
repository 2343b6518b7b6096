"""The registry loads model modules on first use, so ``import derive`` stays cheap."""

import subprocess
import sys

import pytest

import derive

PROBE = """
import sys, derive
before = sorted(m for m in sys.modules if m.startswith("derive._") and m[8:] in {modules!r})
derive.get("saxe.depth_chain_time")
after = sorted(m for m in sys.modules if m.startswith("derive._") and m[8:] in {modules!r})
print(before, after)
"""


def test_import_derive_loads_no_model_and_get_loads_only_its_own():
    models = ["saxe", "lambda_balanced", "diagonal", "lazy"]
    out = subprocess.run([sys.executable, "-c", PROBE.format(modules=models)], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[] ['derive._saxe']"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError, match="did you mean lambda_balanced.mode"):
        derive.get("lambda_balanced.mod")


def test_names_loads_every_declared_model():
    assert {"lambda_balanced.mode", "saxe.depth_chain"} <= set(derive.names())

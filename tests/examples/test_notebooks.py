"""The example notebooks run end to end.

Each notebook's code cells are run in order in a fresh interpreter (non-interactive
matplotlib backend, the notebook's directory a temporary one), which is what
``nbclient`` does minus the Jupyter kernel protocol: a cell that raises fails the test.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_there_are_example_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["phase_diagram.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert cells, "a notebook without code"
    script = "\n\n".join(f"# --- cell {k}\n{src}" for k, src in enumerate(cells))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "phase_diagram.png").read_bytes().startswith(b"\x89PNG")

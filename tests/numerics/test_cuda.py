"""CUDA kernels from the generated source: equal to the CPU kernel, and a clear error without a GPU.

On a machine without a GPU the kernels are checked in Numba's CUDA simulator
(a subprocess with ``NUMBA_ENABLE_CUDASIM=1``), which runs the very source that is
compiled for the device; on a GPU machine the real device is checked as well.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import derive
from numerics import NoGPUError, cuda_available

ROOT = Path(__file__).resolve().parents[2]

CASES_SRC = """
import numpy as np
CASES = {
    "lambda_balanced.mode": dict(lam=np.array([-1e4, -10.0, -1e-12, 0.0, 1e-12, 0.5, 10.0])[:, None], s=1.3,
                                 a0=np.array([-0.5, 0.01, 2.0])[:, None, None], t=np.array([0.0, 0.7, 20.0, 1e6])),
    "saxe.depth_chain": dict(N=np.array([2.0, 3.0, 5.0]), s=1.0, u0=0.01, t=np.array([[0.5], [3.0], [40.0]])),
    "lambda_balanced.loss": dict(lam=np.array([0.0, 2.0]), s=[1.0, 2.0], a0=[0.1, -0.2],
                                 t=np.array([[0.0], [1.0], [5.0]]), Lstar=0.25),
    "lambda_balanced.time_to_learn": dict(lam=np.array([-3.0, 0.0, 1e-12, 2.0]), s=1.0, a0=0.01,
                                          af=np.array([[0.5], [0.9]])),
}
"""
_ns: dict = {}
exec(CASES_SRC, _ns)  # the simulated subprocess runs the same source
CASES = _ns["CASES"]

SIMULATED = """
import json, warnings
import numpy as np
warnings.simplefilter("error")
import derive
""" + CASES_SRC + """
out = {}
for name, kw in CASES.items():
    r = derive.get(name)
    g, c = r.evaluate(device="cuda", **kw), r.evaluate(**kw)
    g = np.stack(list(g.values())) if isinstance(g, dict) else g
    c = np.stack(list(c.values())) if isinstance(c, dict) else c
    out[name] = float(np.max(np.abs(g - c) / np.maximum(np.abs(c), 1e-300)))
ds = derive.sweep("lambda_balanced.mode", device="cuda", progress=False, lam=np.array([-1.0, 0.0, 2.0]), s=1.0,
                  a0=np.array([0.01, 0.3]), t=np.array([0.0, 1.0, 3.0]))
ref = derive.get("lambda_balanced.mode").evaluate(lam=np.array([-1.0, 0.0, 2.0])[:, None, None], s=1.0,
                                                 a0=np.array([0.01, 0.3])[:, None], t=np.array([0.0, 1.0, 3.0]))
out["sweep"] = float(np.max(np.abs(ds["a"].values - ref) / np.abs(ref)))
print(json.dumps(out))
"""


def test_simulated_cuda_kernels_equal_the_cpu_kernels():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    proc = subprocess.run([sys.executable, "-c", SIMULATED], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    errors = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(errors) == set(CASES) | {"sweep"}
    for name, err in errors.items():
        assert err <= 1e-12, (name, err)


@pytest.mark.skipif(cuda_available(), reason="a GPU is present")
def test_without_a_gpu_cuda_is_a_clear_error():
    with pytest.raises(NoGPUError, match=r"device='cuda': no CUDA GPU is available"):
        derive.get("lambda_balanced.mode").evaluate(lam=0.0, s=1.0, a0=0.1, t=1.0, device="cuda")


def test_bad_device_names_the_parameter():
    with pytest.raises(ValueError, match=r"^device: must be 'cpu' or 'cuda'"):
        derive.get("lambda_balanced.mode").evaluate(lam=0.0, s=1.0, a0=0.1, t=1.0, device="gpu")


@pytest.mark.skipif(not cuda_available(), reason="no CUDA GPU")
@pytest.mark.parametrize("name", sorted(CASES))
def test_gpu_kernels_equal_the_cpu_kernels(name):
    r = derive.get(name)
    g, c = r.evaluate(device="cuda", **CASES[name]), r.evaluate(**CASES[name])
    g = np.stack(list(g.values())) if isinstance(g, dict) else g
    c = np.stack(list(c.values())) if isinstance(c, dict) else c
    np.testing.assert_allclose(g, c, rtol=1e-12, atol=0)

"""The Dask backend on a real LocalCluster: two worker processes, identical numbers."""

import numpy as np
import pytest

import derive

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"LAZYRICH_THREADS": "1"}) as cluster, distributed.Client(cluster) as c:
        yield c


def test_local_cluster_sweep_equals_local_backend(client, tmp_path):
    lam, a0, t = np.linspace(-3.0, 3.0, 13), np.array([-0.2, 0.05]), np.linspace(0.0, 8.0, 17)
    local = derive.sweep("lambda_balanced.mode", lam=lam, s=1.5, a0=a0, t=t, chunk_points=40, progress=False)
    remote = derive.sweep("lambda_balanced.mode", lam=lam, s=1.5, a0=a0, t=t, chunk_points=40, backend="dask",
                          client=client, out=tmp_path / "c.zarr")
    np.testing.assert_array_equal(remote["a"].values, local["a"].values)
    assert remote.attrs["invalid_points"] == 0
    # each worker compiled (or loaded) the kernel itself, from the registry name
    workers = client.run(lambda: __import__("sys").modules.get("derive._lambda_balanced") is not None)
    assert len(workers) == 2 and any(workers.values())

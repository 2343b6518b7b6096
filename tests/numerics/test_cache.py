"""The on-disk kernel cache: where it lives, write-once files, reuse by a second process.

The cross-process tests run two child interpreters against one fresh cache
directory, importing ``numerics`` from a read-only copy of the package, once per
compile route: through Numba they read its dispatcher statistics
(``stats.cache_hits`` / ``stats.cache_misses``) in each; through LLVM
(:mod:`numerics._llvm_kernel`) they check that the object file is written once and
that Numba is never imported. (Under root the read-only permissions are not enforced by the OS, so the
copy is also checked file by file for anything new.)
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import numerics
import numerics._kernel
from numerics import CACHE_ENV_VAR, KernelSpec, cache_dir, compile_kernel, generate_source, kernel_path

x, y = sp.symbols("x y", real=True)
PACKAGE_DIR = Path(numerics.__file__).resolve().parent


# ---------------------------------------------------------------- cache_dir resolution


def test_cache_dir_honours_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "mine"))
    assert CACHE_ENV_VAR == "LAZYRICH_CACHE_DIR"
    d = cache_dir()
    assert d == tmp_path / "mine" / "kernels" and d.is_dir()
    assert not (tmp_path / "xdg").exists()
    # read at call time, not import time
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "other"))
    assert cache_dir() == tmp_path / "other" / "kernels"
    spec = KernelSpec("cache_where", (x,), (x + 1,))
    assert kernel_path(spec) == tmp_path / "other" / "kernels" / f"{spec.module_stem()}.py"


def test_cache_dir_env_var_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(CACHE_ENV_VAR, "~/lr")
    assert cache_dir() == tmp_path / "lr" / "kernels"


def test_cache_dir_falls_back_to_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "lazyrich" / "kernels"
    monkeypatch.setenv(CACHE_ENV_VAR, "")  # empty means unset
    assert cache_dir() == tmp_path / "xdg" / "lazyrich" / "kernels"
    assert not (tmp_path / "home").exists()


def test_cache_dir_falls_back_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    d = cache_dir()
    assert d == tmp_path / "home" / ".cache" / "lazyrich" / "kernels" and d.is_dir()


# ---------------------------------------------------------------- write once (in process)


def file_id(path):
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def test_generated_file_written_once(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setenv("LAZYRICH_LLVM_KERNELS", "0")  # the Numba route: its own cache statistics
    tag = uuid.uuid4().hex[:8]  # a digest no other test in this process has memoised

    def build(scale):
        X, Y = sp.symbols("x y", real=True)
        return KernelSpec(f"cache_once_{tag}", (X, Y), (X * Y + scale,))

    k1 = compile_kernel(build(3))
    path = k1.path
    assert path == tmp_path / "kernels" / f"{build(3).module_stem()}.py"
    assert path.read_text() == generate_source(build(3))
    before = file_id(path)
    assert k1(2.0, 5.0)[0].tolist() == [13.0]

    # Forget the in-process memo and the imported module: the file must be reused as is.
    monkeypatch.setattr(numerics._kernel, "_LOADED", {})
    monkeypatch.delitem(sys.modules, f"lazyrich_kernels.{path.stem}")
    k2 = compile_kernel(build(3))
    assert k2 is not k1 and k2.module is not k1.module
    assert k2.path == path and file_id(path) == before
    assert sum(k2.module.kernel.stats.cache_hits.values()) >= 1  # re-import loads Numba's cache
    assert sum(k2.module.kernel.stats.cache_misses.values()) == 0
    assert k2(2.0, 5.0)[0].tolist() == [13.0]

    # A changed expression: another file, same directory; the first one untouched.
    k3 = compile_kernel(build(4))
    assert k3.path != path and k3.path.parent == path.parent
    assert file_id(path) == before
    assert k3(2.0, 5.0)[0].tolist() == [14.0]
    assert sorted(p.name for p in path.parent.glob("*.py")) == sorted([path.name, k3.path.name])
    assert not list(path.parent.glob(".tmp-*"))


# ---------------------------------------------------------------- a second process


CHILD = r"""
import json, os, sys
import numpy as np
import sympy as sp
import numerics
from numerics import KernelSpec, compile_kernel

x, y = sp.symbols("x y", real=True)
spec = KernelSpec("xproc_probe", (x, y), (x * y + sp.exp(x) - 1, x - y))
kern = compile_kernel(spec)
vals, nbad = kern(np.array([0.0, 1.0, 2.0]), 3.0)

def stats(d):
    return [sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values())]

def file_id(p):
    st = os.stat(p)
    return [st.st_ino, st.st_mtime_ns, st.st_size]

llvm = getattr(kern.module, "backend", None) == "llvm"
if llvm:
    from numerics._llvm_kernel import object_path
print(json.dumps({
    "package": os.path.dirname(os.path.abspath(numerics.__file__)),
    "path": str(kern.path),
    "file_id": file_id(kern.path),
    "backend": "llvm" if llvm else "numba",
    "object_id": file_id(object_path(kern.path)) if llvm else None,
    "numba_imported": "numba" in sys.modules,
    "kernel": None if llvm else stats(kern.module.kernel),
    "grid": None if llvm else stats(kern.module.grid),
    "vals": vals.tolist(),
    "nbad": nbad,
}))
"""


def tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="module", params=["numba", "llvm"])
def two_processes(tmp_path_factory, request):
    base = tmp_path_factory.mktemp(f"xproc-{request.param}")
    cache = base / "cache"
    pkg = base / "pkg"
    shutil.copytree(PACKAGE_DIR, pkg / "numerics", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for p in [pkg, *pkg.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    before = tree(pkg)
    workdir = base / "cwd"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update({CACHE_ENV_VAR: str(cache), "PYTHONPATH": str(pkg), "PYTHONDONTWRITEBYTECODE": "1",
                "LAZYRICH_LLVM_KERNELS": "1" if request.param == "llvm" else "0"})
    runs = []
    try:
        for _ in range(2):
            proc = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=workdir,
                                  capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr[-4000:]
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        after = tree(pkg)
    finally:
        for p in [pkg, *pkg.rglob("*")]:
            p.chmod(stat.S_IRWXU if p.is_dir() else stat.S_IRUSR | stat.S_IWUSR)
    return {"runs": runs, "cache": cache, "pkg": pkg, "before": before, "after": after, "route": request.param}


def test_first_process_compiles_second_reuses(two_processes):
    first, second = two_processes["runs"]
    assert first["path"] == second["path"]
    assert first["backend"] == second["backend"] == two_processes["route"]
    if two_processes["route"] == "numba":
        assert first["kernel"] == [0, 1] and first["grid"] == [0, 1]
        assert second["kernel"][0] >= 1 and second["kernel"][1] == 0
        assert second["grid"][0] >= 1 and second["grid"][1] == 0
    else:  # the object file is written once and loaded by the second process; Numba is never imported
        assert second["object_id"] == first["object_id"]
        assert not first["numba_imported"] and not second["numba_imported"]
    assert second["file_id"] == first["file_id"]  # not rewritten by the second process
    expected = [[0 * 3 + np.expm1(0.0), 1 * 3 + np.expm1(1.0), 2 * 3 + np.expm1(2.0)], [-3.0, -2.0, -1.0]]
    assert first["vals"] == second["vals"]
    np.testing.assert_allclose(first["vals"], expected, rtol=4 * 2.0**-52, atol=0)
    assert first["nbad"] == second["nbad"] == 0


def test_numba_cache_files_beside_generated_module(two_processes):
    kernels = two_processes["cache"] / "kernels"
    path = Path(two_processes["runs"][0]["path"])
    assert path.parent == kernels and path.is_file()
    if two_processes["route"] == "llvm":
        assert [p.suffix for p in kernels.glob(f"{path.stem}.*.o")] == [".o"]
        assert not (kernels / "__pycache__").exists()
        return
    cached = [p.name for p in (kernels / "__pycache__").iterdir()]
    stem = path.stem
    assert any(n.startswith(f"{stem}.") and n.endswith(".nbi") for n in cached), cached
    assert any(n.startswith(f"{stem}.") and n.endswith(".nbc") for n in cached), cached
    assert any(".grid-" in n and n.endswith(".nbi") for n in cached), cached
    assert any("._scalar-" in n and n.endswith(".nbi") for n in cached), cached


def test_read_only_package_everything_under_cache_dir(two_processes):
    pkg, cache = two_processes["pkg"], two_processes["cache"]
    for run in two_processes["runs"]:
        assert Path(run["package"]) == pkg / "numerics"  # the children used the read-only copy
        assert Path(run["path"]).is_relative_to(cache)
    assert two_processes["after"] == two_processes["before"]  # nothing written into the package copy
    stem = Path(two_processes["runs"][0]["path"]).stem
    assert not [p for p in PACKAGE_DIR.rglob(f"*{stem}*")]  # nor into the installed package
    generated = [p for p in cache.rglob("*") if p.is_file()]
    assert generated and all(stem in p.name for p in generated)

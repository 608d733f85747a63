"""The fused CPU engine's kernel cache as untrusted input (issue 15): planted, linked, foreign and
damaged libraries are refused or rebuilt, never run; a sound cache still loads in milliseconds.

Planted libraries are tiny C files compiled here (~50 ms each); damaged builds come from a stand-in
compiler that builds a stub of the kernel's entry points, so no test pays for a real kernel build."""

import os
import shutil
import stat
import subprocess
import sys
import time
import warnings

import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.engines import SlowerEngineWarning, cpu_build, cpu_cache, cpu_engine

pytestmark = pytest.mark.skipif(
    cpu_engine.unavailable_reason(torch.device("cpu")) is not None, reason="no C compiler for the fused CPU engine"
)

# A stand-in for cpu_kernel.c: every entry point, bb_simulate "succeeding" without writing anything
# (the garbage results of issue 15), and with MARKER a constructor that runs at dlopen.
STUB = r"""
#ifdef MARKER
#include <stdio.h>
__attribute__((constructor)) static void planted(void) { FILE *f = fopen(MARKER, "w"); if (f) fclose(f); }
#endif
#ifndef NO_KEY
const char *bb_build_key(void) { return KEY; }
#endif
int bb_simulate(void) { return 0; }
void bb_normals(void) {}
void bb_philox(void) {}
int bb_mean_field(void) { return 0; }
const char *bb_isa(void) { return "stub"; }
"""
REAL_CC = cpu_build.find_compiler()

# A C compiler for the tests: `--version` answers, a build compiles STUB with the -DBB_BUILD_KEY
# it was given (or the key in $STUB_KEY), and appends a line to $STUB_LOG.
STUB_COMPILER = """#!{python}
import os, subprocess, sys
if sys.argv[1:] == ["--version"]:
    print("stub-cc 1.0")
    sys.exit(0)
key = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("-DBB_BUILD_KEY="))
key = os.environ.get("STUB_KEY", key)
out = sys.argv[sys.argv.index("-o") + 1]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(out + "\\n")
sys.exit(subprocess.run(["{cc}", "-shared", "-fPIC", "-DKEY=" + key, "-o", out, "{stub}"]).returncode)
"""


@pytest.fixture(scope="module")
def real_kernel():
    """The seed rule's real build in the suite's cache (built once by the suite)."""
    cpu_build.load_kernel()
    return cpu_build.kernel_path()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty private cache folder, and a fresh engine state (nothing loaded, nothing failed)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BATCHED_BANDIT_CACHE", str(folder))
    for name in ("_kernels", "_failures", "_paths", "COMPILE_SECONDS"):
        monkeypatch.setattr(cpu_build, name, {})
    return folder


def first_key(compiler=None):
    """The key of the first build load_kernel() tries (with the system compiler)."""
    return cpu_build.builds(cpu_build.SEED_RULE, compiler or REAL_CC)[0][1]


def named(cache, key, content=b"any bytes"):
    """The cache's name for a build of ``key`` with these bytes."""
    return cache / cpu_cache.cache_name(key, content)


def plant(cache, key, *, marker=None, no_key=False, reported=None):
    """Compile STUB into the cache under the name of a build of ``key`` (its hash matching its bytes):
    reporting ``reported`` (default ``key``), with a constructor writing ``marker``. Returns its path."""
    source, built = cache.parent / "planted.c", cache.parent / "planted.so"
    source.write_text(STUB)
    defines = [f'-DKEY="{reported or key}"', *([f'-DMARKER="{marker}"'] if marker else []), *(["-DNO_KEY"] * no_key)]
    subprocess.run([REAL_CC, "-shared", "-fPIC", *defines, "-o", str(built), str(source)], check=True)
    library = named(cache, key, built.read_bytes())
    shutil.move(built, library)
    library.chmod(0o755)
    return library


@pytest.fixture
def stub_compiler(tmp_path, monkeypatch, cache):
    """$CC is the stand-in compiler; returns its log (one line per build)."""
    (tmp_path / "stub.c").write_text(STUB)
    script = tmp_path / "stub-cc"
    script.write_text(STUB_COMPILER.format(python=sys.executable, cc=REAL_CC, stub=tmp_path / "stub.c"))
    script.chmod(0o755)
    log = tmp_path / "builds.log"
    log.write_text("")
    monkeypatch.setenv("CC", str(script))
    monkeypatch.setenv("STUB_LOG", str(log))
    return log


def refusal(match):
    """load_kernel() raises one line matching ``match``; returns it."""
    with pytest.raises(RuntimeError, match=match) as err:
        cpu_build.load_kernel()
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757], ids=["world-writable", "group-writable", "other-writable"])
@pytest.mark.parametrize("kind", ["constructor", "garbage"])
def test_a_library_planted_in_a_folder_others_can_write_is_never_loaded(cache, tmp_path, mode, kind, monkeypatch):
    cache.mkdir()
    marker = tmp_path / "constructor-ran"
    plant(cache, first_key(), marker=marker if kind == "constructor" else None)  # the right key and hash: refused
    cache.chmod(mode)
    message = refusal(f"the kernel cache {cache} is writable by .*chmod go-w {cache}")
    assert not marker.exists()  # refused before dlopen: its constructor never ran
    assert cpu_build._paths == {}
    # explicit backend: one line, no run; auto: the portable engine, with the reason
    with pytest.raises(ValueError, match="writable by") as err:
        run_batch(3, backend="cpu", n_episodes=1, steps_per_episode=5)
    assert "\n" not in str(err.value) and message in str(err.value)
    monkeypatch.setattr("batched_bandit.engines._warned", set())
    with pytest.warns(SlowerEngineWarning, match="writable by"):
        result = run_batch(3, n_episodes=1, steps_per_episode=5)
    assert result.backend == "torch"
    assert not marker.exists()


def test_a_sticky_folder_of_ones_own_is_accepted(cache, real_kernel):
    cache.mkdir()
    shutil.copy(real_kernel, cache / real_kernel.name)
    cache.chmod(0o1777)
    cpu_build.load_kernel()
    assert cpu_build.kernel_path() == cache / real_kernel.name and cpu_build.COMPILE_SECONDS == {}


def test_a_new_cache_folder_is_private_whatever_the_umask(cache, stub_compiler):
    old = os.umask(0o002)  # group-writable by default, as on many distributions
    try:
        cpu_build.load_kernel()
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(cpu_build.kernel_path().stat().st_mode) & 0o022 == 0


def test_a_symlink_at_a_kernels_name_is_refused_even_to_a_sound_kernel(cache, real_kernel):
    cache.mkdir(mode=0o700)
    link = cache / real_kernel.name
    link.symlink_to(real_kernel)
    refusal(f"{link} is a symbolic link.*remove it")
    assert cpu_build._paths == {}


@pytest.mark.parametrize("damage", ["writable by others", "another user", "not a regular file"])
def test_a_library_others_could_have_written_is_refused(cache, tmp_path, damage):
    cache.mkdir(mode=0o700)
    marker = tmp_path / "constructor-ran"
    if damage == "not a regular file":
        library = named(cache, first_key())
        os.mkfifo(library)  # opening it must not block either
    else:
        library = plant(cache, first_key(), marker=marker)
        if damage == "writable by others":
            library.chmod(0o666)
        elif os.geteuid() == 0:
            os.chown(library, 65534, 65534)
        else:
            pytest.skip("giving a file to another user needs root")
    refusal(f"{library} .*{damage}.*remove it")
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "a flipped byte", "empty", "another build's key", "no build key"])
def test_a_damaged_kernel_is_removed_and_rebuilt_once_not_loaded(cache, stub_compiler, tmp_path, damage):
    key = first_key(os.environ["CC"])
    cache.mkdir(mode=0o700)
    marker = tmp_path / "constructor-ran"
    if damage in ("truncated", "a flipped byte", "empty"):
        library = plant(cache, key, marker=marker)  # sound, then damaged in place (its name kept)
        content = bytearray(library.read_bytes())
        if damage == "a flipped byte":
            content[len(content) // 2] ^= 0x10
        library.write_bytes(content[: {"truncated": 3000, "empty": 0}.get(damage, len(content))])
    else:
        library = plant(cache, key, reported="0" * 64 if damage == "another build's key" else None,
                        no_key=damage == "no build key")  # fmt: skip
    kernel = cpu_build.load_kernel()
    assert stub_compiler.read_text().count("\n") == 1  # one build
    assert kernel.bb_build_key() == key.encode()
    if damage in ("truncated", "a flipped byte", "empty"):
        assert not marker.exists()  # never loaded
    assert not library.exists() or library == cpu_build.kernel_path()
    assert [p.name for p in cache.iterdir()] == [cpu_build.kernel_path().name]


def test_a_build_that_is_still_wrong_is_refused_and_not_retried(cache, stub_compiler, monkeypatch):
    monkeypatch.setenv("STUB_KEY", '"not-the-key"')
    message = refusal("reports the build key 'not-the-key'.*: the kernel just built is not used")
    assert str(cache) in message
    refusal("not-the-key")  # the same answer, without building again
    assert stub_compiler.read_text().count("\n") == 1


def test_a_sound_cache_loads_in_milliseconds_without_building(cache, real_kernel):
    cache.mkdir(mode=0o700)
    library = cache / real_kernel.name
    shutil.copy(real_kernel, library)  # a new file: dlopen really loads it
    start = time.perf_counter()
    kernel = cpu_build.load_kernel()
    elapsed = time.perf_counter() - start
    assert cpu_build.COMPILE_SECONDS == {} and cpu_build.kernel_path() == library
    assert elapsed < 0.25, f"loading a cached kernel took {elapsed:.3f} s"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_batch(20, backend="cpu", n_episodes=2, steps_per_episode=50).backend == "cpu"
    assert kernel.bb_build_key().decode() == first_key()

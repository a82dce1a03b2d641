"""Builds janus_swift._janus against libjanus.

Where libjanus comes from, first match wins:
  1. JANUS_LIB_DIR (a folder holding libjanus.so) and JANUS_INCLUDE_DIR (holding janus.h);
  2. pkg-config janus (what `make install` puts in place): linked there, with an rpath to it;
  3. this repository (the folder above this one): .build/release/libjanus.so, built with
     `make lib` first if missing.  That library is copied into the package and found next
     to the extension ($ORIGIN), so the install keeps working after `make clean`.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SONAME = "libjanus.so.0"


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "janus"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.split()


def locate():
    """(include_dir, lib_dir, bundle): bundle = copy the library into the package."""
    if os.environ.get("JANUS_LIB_DIR"):
        inc = os.environ.get("JANUS_INCLUDE_DIR", str(REPO / "include"))
        return inc, os.environ["JANUS_LIB_DIR"], os.environ.get("JANUS_BUNDLE", "1") == "1"
    if os.environ.get("JANUS_USE_REPO") != "1" and pkg_config("--exists") is not None:
        cflags = pkg_config("--cflags-only-I") or []
        libs = pkg_config("--libs-only-L") or []
        inc = cflags[0][2:] if cflags else "/usr/local/include"
        lib = libs[0][2:] if libs else "/usr/local/lib"
        if (Path(inc) / "janus.h").exists():
            return inc, lib, False
    if not (REPO / "Makefile").exists() or not (REPO / "include" / "janus.h").exists():
        raise SystemExit("janus_swift: no libjanus found: set JANUS_LIB_DIR, install it with "
                         "`make install` (pkg-config janus), or build from the repository")
    release = REPO / ".build" / "release"
    if not (release / "libjanus.so").exists():
        print("janus_swift: building libjanus with `make lib` in", REPO, flush=True)
        subprocess.run(["make", "-C", str(REPO), "lib"], check=True)
    return str(REPO / "include"), str(release), True


INCLUDE, LIBDIR, BUNDLE = locate()


class BuildExt(build_ext):
    def run(self):
        super().run()
        if BUNDLE:
            # The extension needs libjanus.so.0 (the SONAME); put it beside the extension.
            dest = Path(self.build_lib) / "janus_swift"
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(os.path.join(LIBDIR, "libjanus.so")), dest / SONAME)
            if self.inplace:
                shutil.copy2(dest / SONAME, HERE / "src" / "janus_swift" / SONAME)


ext = Extension(
    "janus_swift._janus",
    sources=["src/janus_swift/_janus.c"],
    include_dirs=[INCLUDE],
    library_dirs=[LIBDIR],
    libraries=["janus"],
    runtime_library_dirs=["$ORIGIN"] if BUNDLE else [LIBDIR],
    extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
)

setup(ext_modules=[ext], cmdclass={"build_ext": BuildExt})

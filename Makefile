# janus for Swift and C.
#   make run    builds libjanus.so and runs the main demo (C pthreads -> Swift async consumers)
#   make test   every test: Swift suite (plain and ThreadSanitizer), C tests (plain and
#               AddressSanitizer+UBSan+LeakSanitizer), header/symbol check, examples
#   make bench  the benchmark (release builds)

SWIFT     ?= swift
CC        ?= cc
CXX       ?= c++
TOOLCHAIN := $(abspath $(dir $(shell readlink -f $$(command -v $(SWIFT))))/..)
CLANG     := $(TOOLCHAIN)/bin/clang
RELEASE   := $(CURDIR)/.build/release
TSAN_SUPP := $(CURDIR)/Tests/tsan.supp

# The shipped libjanus.so: only the janus_* symbols exported, never unloaded (dlclose under
# running tasks is unsafe), the core specialized into the C entry points, and the Swift runtime
# linked in statically so that C programs need nothing but libc, libm, libstdc++ and libgcc_s.
SONAME    := libjanus.so.0
LINK_FLAGS := -Xlinker --version-script=$(CURDIR)/include/janus.map \
              -Xlinker -z -Xlinker nodelete \
              -Xlinker -soname -Xlinker $(SONAME) \
              -Xswiftc -cross-module-optimization
# The C parts' debug info as DWARF 4: valgrind 3.19 (Debian 12) cannot read the DWARF 5 that
# clang writes by default and gives up on the whole library.
LIB_FLAGS := $(LINK_FLAGS) -Xswiftc -static-stdlib -Xcc -gdwarf-4

# The same library built with ThreadSanitizer (dynamic Swift runtime: the TSan runtime must be
# the one in the C program), and what a C program needs to link against it (PLATFORM-NOTES).
TSAN_LIB    := $(CURDIR)/.build-tsan-lib/release
TSAN_CFLAGS := -fsanitize=thread -g -O1 -L$(TOOLCHAIN)/lib/swift/linux \
               -Wl,-rpath,$(TOOLCHAIN)/lib/swift/linux -ldispatch -lBlocksRuntime

.PHONY: all lib run examples tools test test-model test-swift test-swift-tsan test-c test-c-asan test-c-tsan lib-tsan test-examples \
        test-stress test-stress-asan test-stress-tsan test-fork test-fork-asan soak-fork test-fuzz \
        test-valgrind soak soak-tsan fuzz \
        test-install test-cpp test-python test-python-pkg test-swiftpm install bench chart docs lint clean

all: lib

lib:
	$(SWIFT) build -c release --product janus $(LIB_FLAGS)
	ln -sf libjanus.so $(RELEASE)/$(SONAME)  # what programs linked with -ljanus look for

examples: lib
	$(MAKE) -C examples/c LIBDIR=$(RELEASE)

run: examples
	$(MAKE) -C examples/c LIBDIR=$(RELEASE) run

test: tools lint docs test-model test-swift test-swift-tsan test-c test-c-asan test-c-tsan test-examples \
      test-stress test-stress-asan test-stress-tsan test-fork test-fork-asan test-fuzz test-valgrind \
      test-install test-cpp test-python test-python-pkg test-swiftpm
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) test

# What make test needs beyond the toolchain (valgrind, pkg-config, spin, libuv), installed with
# apt-get when missing and run as root.
tools:
	@Tests/ensure-tools.sh

# The handshake between the lock-free path and the waiters, checked exhaustively with spin
# (Tests/model/handshake.pml, leave.pml), broken variants included. spin's verifier is compiled with the
# toolchain's clang: gcc takes several times longer on it.
test-model:
	@command -v spin >/dev/null || { echo "spin not found: apt-get install spin" >&2; exit 1; }
	CC=$(CLANG) Tests/model/check.sh

test-swift-tsan:
	TSAN_OPTIONS="suppressions=$(TSAN_SUPP) halt_on_error=1" \
	  $(SWIFT) test --sanitize=thread --scratch-path .build-tsan

lib-tsan:
	$(SWIFT) build -c release --product janus --sanitize=thread --scratch-path .build-tsan-lib $(LINK_FLAGS)
	ln -sf libjanus.so $(TSAN_LIB)/$(SONAME)

test-c-tsan: lib-tsan
	TSAN_OPTIONS="suppressions=$(TSAN_SUPP) halt_on_error=1" \
	  $(MAKE) -C Tests/c LIBDIR=$(TSAN_LIB) OUT=bin-tsan CC=$(CLANG) EXTRA_CFLAGS="$(TSAN_CFLAGS)" test
	TSAN_OPTIONS="suppressions=$(TSAN_SUPP) halt_on_error=1" \
	  $(MAKE) -C examples/c LIBDIR=$(TSAN_LIB) OUT=bin-tsan CC=$(CLANG) EXTRA_CFLAGS="$(TSAN_CFLAGS)" run-all

test-c: lib
	$(MAKE) -C Tests/c LIBDIR=$(RELEASE) OUT=bin test

# The C side instrumented with ASan+UBSan (leak detection on) against the shipped library.
test-c-asan: lib
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MAKE) -C Tests/c LIBDIR=$(RELEASE) OUT=bin-asan \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" test
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MAKE) -C examples/c LIBDIR=$(RELEASE) OUT=bin-asan \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" run-all

test-examples: lib
	$(MAKE) -C examples/c LIBDIR=$(RELEASE) run-all

# Reliability (Tests/stress, Tests/fuzz): a short stress run plus the hostile callers, the same
# under ASan+UBSan, 30 s of the stress test against the ThreadSanitizer library, 30 s of
# libFuzzer on the committed corpus, valgrind over the examples and the stress tests.
# `make soak SECONDS=3600` runs the stress test for as long as asked (then the select stress
# test for a quarter of that), `make soak-tsan` the same
# against the ThreadSanitizer build; a failing round prints its seed, and `make soak SEED=...`
# starts a run with that round.
STRESS_SECONDS ?= 5
STRESS_TSAN_SECONDS ?= 30
SECONDS ?= 600
SEED ?=
# Under ThreadSanitizer everything is several times slower: a round may take longer before
# the stress test's watchdog calls it hung.
TSAN_STRESS_ENV := TSAN_OPTIONS="suppressions=$(TSAN_SUPP) halt_on_error=1" STRESS_GRACE_S=180
test-stress: lib
	$(MAKE) -C Tests/stress LIBDIR=$(RELEASE) test SECONDS=$(STRESS_SECONDS)

test-stress-asan: lib
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MAKE) -C Tests/stress LIBDIR=$(RELEASE) OUT=bin-asan SECONDS=$(STRESS_SECONDS) \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" test

# Children forked from a process that has the library loaded, for each thing the parent may
# have done first (Tests/fork): 200 in a row per state, plain and under ASan+UBSan;
# `make soak-fork SECONDS=N` for longer.
test-fork: lib
	$(MAKE) -C Tests/fork LIBDIR=$(RELEASE) test

# With the toolchain's clang: its AddressSanitizer locks its allocator around fork(); gcc 12's
# does not, and a child forked while a parent thread allocates hangs in ASan's allocator (seen:
# 1 in 200 children of a parent with running consumers).
test-fork-asan: lib
	$(MAKE) -C Tests/fork LIBDIR=$(RELEASE) OUT=bin-asan CC=$(CLANG) \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" test

soak-fork: lib
	$(MAKE) -C Tests/fork LIBDIR=$(RELEASE) soak SECONDS=$(SECONDS)

test-fuzz: lib
	$(MAKE) -C Tests/fuzz LIBDIR=$(RELEASE) CLANG=$(CLANG) run SECONDS=30

test-valgrind: lib
	$(MAKE) -C examples/c LIBDIR=$(RELEASE) valgrind
	$(MAKE) -C Tests/stress LIBDIR=$(RELEASE) valgrind

test-stress-tsan: lib-tsan
	$(TSAN_STRESS_ENV) $(MAKE) -C Tests/stress LIBDIR=$(TSAN_LIB) OUT=bin-tsan CC=$(CLANG) \
	  EXTRA_CFLAGS="$(TSAN_CFLAGS)" soak SECONDS=$(STRESS_TSAN_SECONDS) SEED=$(SEED)

soak: lib
	$(MAKE) -C Tests/stress LIBDIR=$(RELEASE) soak SECONDS=$(SECONDS) SEED=$(SEED)
	$(MAKE) -C Tests/c LIBDIR=$(RELEASE) soak-select SECONDS=$$(( $(SECONDS) / 4 + 1 ))

soak-tsan: lib-tsan
	$(TSAN_STRESS_ENV) $(MAKE) -C Tests/stress LIBDIR=$(TSAN_LIB) OUT=bin-tsan CC=$(CLANG) \
	  EXTRA_CFLAGS="$(TSAN_CFLAGS)" soak SECONDS=$(SECONDS) SEED=$(SEED)

fuzz: lib
	$(MAKE) -C Tests/fuzz LIBDIR=$(RELEASE) CLANG=$(CLANG) run SECONDS=$(SECONDS)

# Installs into a temporary prefix and builds a C program there with pkg-config alone.
test-install: lib
	Tests/install/test_install.sh $(RELEASE)/libjanus.so include

# A separate package depending on this one by path, as a SwiftPM user's would.
test-swiftpm:
	cd Tests/swiftpm-consumer && $(SWIFT) run --scratch-path $(CURDIR)/.build-swiftpm Consumer

test-cpp: lib
	$(MAKE) -C examples/cpp LIBDIR=$(RELEASE) run

test-python: lib
	python3 examples/python/sum_consumers.py $(RELEASE)/libjanus.so
	python3 examples/python/asyncio_quickstart.py $(RELEASE)/libjanus.so
	python3 examples/python/fork_workers.py $(RELEASE)/libjanus.so

# The Python package (python/, import janus_swift): a fresh venv under .build-python/, the
# package pip-installed from this tree (its setup.py finds the libjanus just built), pytest.
PY_VENV := $(CURDIR)/.build-python/venv
test-python-pkg: lib
	@test -x $(PY_VENV)/bin/python || python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q --upgrade pip pytest
	JANUS_USE_REPO=1 $(PY_VENV)/bin/python -m pip install -q --force-reinstall --no-deps ./python
	cd python && $(PY_VENV)/bin/python -m pytest -p no:cacheprovider tests

# DocC for the Swift API into .build/docs (warnings are errors), and the swift-format lint.
SYMBOLS := $(CURDIR)/.build/symbol-graphs
docs:
	$(SWIFT) build --target JanusCore -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc $(SYMBOLS)
	$(TOOLCHAIN)/bin/docc convert Sources/JanusCore/JanusCore.docc --additional-symbol-graph-dir $(SYMBOLS) \
	  --output-path .build/docs --fallback-display-name JanusCore \
	  --fallback-bundle-identifier org.janus.JanusCore --warnings-as-errors

lint:
	$(TOOLCHAIN)/bin/swift-format lint --strict -r Sources examples/swift Tests/JanusCoreTests Package.swift

# make install PREFIX=/usr/local [DESTDIR=/staging]
PREFIX  ?= /usr/local
DESTDIR ?=
install: lib
	packaging/install.sh $(RELEASE)/libjanus.so include "$(PREFIX)" "$(DESTDIR)"

# Release builds; figures go to bench/results.txt. janus (C ABI and Swift API) and its peers
# (Rust async-channel, flume, tokio, crossbeam-channel; Go; Swift AsyncStream, AsyncChannel,
# NIOAsyncSequenceProducer; Python janus) alternate round by round: BENCH_ITEMS per run,
# BENCH_ROUNDS rounds, each figure the median. Not part of `make test`.
BENCH_ITEMS  ?= 1000000
BENCH_ROUNDS ?= 7
bench: lib
	$(SWIFT) build -c release --product JanusBench -Xswiftc -cross-module-optimization
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude bench/bench.c -L$(RELEASE) \
	  -Wl,-rpath,$(RELEASE) -ljanus -pthread -o $(RELEASE)/janus-c-bench
	bench/run.sh $(RELEASE)/janus-c-bench $(RELEASE)/JanusBench $(BENCH_ITEMS) $(BENCH_ROUNDS)

chart:
	python3 bench/chart.py bench/results.txt bench/chart.png

clean:
	rm -rf .build .build-tsan .build-tsan-lib .build-python python/build examples/c/bin* Tests/c/bin*

# janus for Swift and C. `make run` builds the library and runs the main demo; `make test` runs
# every test (Swift suite, the same under ThreadSanitizer, C tests, also under AddressSanitizer).

SWIFT     ?= swift
CC        ?= cc
TOOLCHAIN := $(abspath $(dir $(shell readlink -f $$(command -v $(SWIFT))))/..)
CLANG     := $(TOOLCHAIN)/bin/clang
RELEASE   := $(CURDIR)/.build/release

# The shipped libjanus.so: only the janus_* symbols exported, never unloaded (dlclose under
# running tasks is unsafe), and the core specialized into the C entry points.
LIB_FLAGS := -Xlinker --version-script=$(CURDIR)/include/janus.map \
             -Xlinker -z -Xlinker nodelete \
             -Xswiftc -cross-module-optimization

.PHONY: all lib run test test-swift test-swift-tsan test-c test-c-asan examples clean

all: lib

lib:
	$(SWIFT) build -c release --product janus $(LIB_FLAGS)

examples: lib
	$(MAKE) -C examples/c LIBDIR=$(RELEASE)

run: examples
	$(MAKE) -C examples/c LIBDIR=$(RELEASE) run

clean:
	rm -rf .build examples/c/bin Tests/c/bin

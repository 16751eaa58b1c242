# chkpt: one static binary (musl), C++17 freestanding style.
#   make                       build build/chkpt (+ rstrt link) for the host (x86_64)
#   make ARCH=aarch64 CROSS_COMPILE=aarch64-linux-gnu-     cross build (see docs/BUILD.md)
#   make check                 unit tests + end-to-end suite
#   make bench                 size / RSS / throughput budgets
ARCH ?= $(shell uname -m)
CROSS_COMPILE ?=
ifeq ($(ARCH),ppc64le)
  ARCHDIR := ppc64
  MUSL_TRIPLE := powerpc64le-linux-musl
else
  ARCHDIR := $(ARCH)
  MUSL_TRIPLE := $(ARCH)-linux-musl
endif
# Segment alignment: aarch64 and ppc64le kernels may run with 64 KiB pages.
ifeq ($(ARCH),x86_64)
  SEG_ALIGN := 4096
else
  SEG_ALIGN := 65536
endif

B := build
CXX := $(CROSS_COMPILE)g++
CC := $(CROSS_COMPILE)gcc
MUSL_INC := /usr/include/$(MUSL_TRIPLE)
MUSL_LIB := /usr/lib/$(MUSL_TRIPLE)
# libstdc++ header-only pieces (type_traits, utility) without its runtime library
CXX_INC := $(shell $(CXX) -x c++ -E -v /dev/null 2>&1 | sed -n 's/^ \(.*\/c++\/[0-9][^ ]*\)$$/\1/p' | grep -v backward | sed 's/^/-isystem /')
GCC_INC := $(shell $(CXX) -print-file-name=include)

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CXXFLAGS := -std=c++17 -Os -static -fno-pie -no-pie \
  -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-asynchronous-unwind-tables \
  -fno-unwind-tables -ffunction-sections -fdata-sections -fno-stack-protector \
  -nostdinc $(CXX_INC) -isystem $(MUSL_INC) -isystem $(GCC_INC) -D'__GLIBC_PREREQ(a,b)=0' \
  -Isrc -Iarch/$(ARCHDIR) $(WARN)
LDFLAGS := -nostdlib -Wl,--gc-sections -Wl,-z,max-page-size=$(SEG_ALIGN)
CRT_BEGIN := $(MUSL_LIB)/crt1.o $(MUSL_LIB)/crti.o $(shell $(CXX) -print-file-name=crtbeginT.o)
CRT_END := $(shell $(CXX) -print-file-name=crtend.o) $(MUSL_LIB)/crtn.o
LIBS := -L$(MUSL_LIB) -Wl,--start-group -lc $(shell $(CXX) -print-libgcc-file-name) -Wl,--end-group

SRCS := $(wildcard src/*.cpp) $(wildcard arch/$(ARCHDIR)/*.cpp)
OBJS := $(patsubst %.cpp,$(B)/obj/%.o,$(SRCS))

all: $(B)/chkpt $(B)/rstrt

$(B)/obj/%.o: %.cpp $(wildcard src/*.h) $(wildcard arch/$(ARCHDIR)/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(B)/chkpt: $(OBJS)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@.unstripped $(CRT_BEGIN) $(OBJS) $(LIBS) $(CRT_END)
	$(CROSS_COMPILE)strip -o $@ $@.unstripped

$(B)/rstrt: $(B)/chkpt
	ln -sf chkpt $@

# --- tests -------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/*.cpp)
UNIT_LIB := src/crc32c.cpp src/codec.cpp src/image.cpp src/procfs.cpp src/base.cpp src/records.cpp
$(B)/unit: $(UNIT_SRCS) $(UNIT_LIB) $(wildcard src/*.h)
	@mkdir -p $(B)
	g++ -std=c++17 -O1 -g -Isrc -Iarch/$(ARCHDIR) -Itests/unit -o $@ $(UNIT_SRCS) $(UNIT_LIB)

# e2e target programs: static musl (they also run in QEMU guests) and,
# for the common case of an unmodified distro binary, dynamic glibc.
E2E_SRCS := $(wildcard tests/e2e/targets/*.c)
E2E_BINS := $(patsubst tests/e2e/targets/%.c,$(B)/e2e/%,$(E2E_SRCS))
MUSL_CC := $(CC) -specs $(MUSL_LIB)/musl-gcc.specs -static
$(B)/e2e/%: tests/e2e/targets/%.c tests/e2e/targets/common.h
	@mkdir -p $(B)/e2e
	$(MUSL_CC) -O2 -Wall -o $@ $<
	$(CC) -O2 -Wall -o $@.glibc $< -lpthread

e2e-targets: $(E2E_BINS)

check: all $(B)/unit e2e-targets
	sh tests/check.sh

bench: all e2e-targets
	sh tests/bench.sh

demo: all e2e-targets
	sh scripts/demo.sh

clean:
	rm -rf $(B)

.PHONY: all check bench demo clean e2e-targets

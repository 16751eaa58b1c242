# chkpt: one static binary (musl), C++17 freestanding style.
#   make                       build build/chkpt (+ rstrt link) for the host (x86_64)
#   make ARCH=aarch64 CROSS_COMPILE=aarch64-linux-gnu-     cross build into build-aarch64/ (docs/CROSS.md)
#   make check-qemu ARCH=aarch64    e2e suite + unit tests in a QEMU guest (docs/CROSS.md)
#   make check                 unit tests + end-to-end suite
#   make bench                 size / RSS / throughput budgets
#   make CXXFLAGS=-g           your flags instead of the default -Os + warnings (the
#                              ones the product needs are kept: BASE_CXXFLAGS)
#   make EXTRA_CXXFLAGS=...    added to the default ones
#   make V=1                   show the commands (default: "  CXX  src/x.cpp")
ARCH ?= $(shell uname -m)
# Debian's cross compilers by default (g++-aarch64-linux-gnu, ...)
CROSS_aarch64 := aarch64-linux-gnu-
CROSS_ppc64le := powerpc64le-linux-gnu-
CROSS_ppc64 := powerpc64-linux-gnu-
CROSS_COMPILE ?= $(if $(filter $(ARCH),$(shell uname -m)),,$(CROSS_$(ARCH)))
ifeq ($(ARCH),ppc64le)
  ARCHDIR := ppc64
  MUSL_TRIPLE := powerpc64le-linux-musl
else ifeq ($(ARCH),ppc64)
  # big-endian: musl only supports ELFv2 there, Debian's compiler defaults to
  # ELFv1, whose crtbeginT.o/crtend.o cannot be linked in (docs/CROSS.md)
  ARCHDIR := ppc64
  MUSL_TRIPLE := powerpc64-linux-musl
  ARCH_FLAGS := -mabi=elfv2 -mlong-double-64
  NO_GCC_CRT := 1
  MUSL_PREFIX ?= build-ppc64/musl
else
  ARCHDIR := $(ARCH)
  MUSL_TRIPLE := $(ARCH)-linux-musl
endif
ifeq ($(ARCH),aarch64)
  # e2e targets sign return addresses (PAC) and mark branch targets (BTI), as
  # many distributions build everything: the keys must survive a restore.
  TARGET_CFLAGS := -mbranch-protection=standard
endif
# Segment alignment: aarch64 and ppc64le kernels may run with 64 KiB pages.
ifeq ($(ARCH),x86_64)
  SEG_ALIGN := 4096
else
  SEG_ALIGN := 65536
  # RELRO would pad the file to a 64 KiB boundary (~50 KiB); a static musl
  # binary has no dynamic linker to apply it anyway.
  SEG_LDFLAGS := -Wl,-z,norelro
endif

# The architecture's files (src/arch_api.h, docs/CROSS.md): arch/ARCHDIR/ first,
# then arch/generic/ for what the architecture does not override, musl-style:
# a header by the include order, a source file when ARCHDIR has none of its name.
ARCH_INC := -Iarch/$(ARCHDIR) -Iarch/generic
ARCH_SRCS := $(wildcard arch/$(ARCHDIR)/*.cpp)
ARCH_SRCS += $(filter-out $(addprefix arch/generic/,$(notdir $(ARCH_SRCS))),$(wildcard arch/generic/*.cpp))
ARCH_HDRS := $(wildcard arch/$(ARCHDIR)/*.h arch/generic/*.h)

# A cross build goes to build-ARCH/, so it never clobbers the native build/.
B := $(if $(filter $(ARCH),$(shell uname -m)),build,build-$(ARCH))
CXX := $(CROSS_COMPILE)g++
CC := $(CROSS_COMPILE)gcc
# Debian's multiarch musl-dev, or MUSL_PREFIX=DIR for one built from source (ppc64)
MUSL_INC := $(if $(MUSL_PREFIX),$(MUSL_PREFIX)/include,/usr/include/$(MUSL_TRIPLE))
MUSL_LIB := $(if $(MUSL_PREFIX),$(MUSL_PREFIX)/lib,/usr/lib/$(MUSL_TRIPLE))
# libstdc++ header-only pieces (type_traits, utility) without its runtime library
CXX_INC := $(shell $(CXX) -x c++ -E -v /dev/null 2>&1 | sed -n 's/^ \(.*\/c++\/[0-9][^ ]*\)$$/\1/p' | grep -v backward | sed 's/^/-isystem /')
GCC_INC := $(shell $(CXX) -print-file-name=include)

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
# What the product cannot be built without (freestanding C++17 on static musl,
# no exceptions or RTTI, sections the linker can drop), whatever CXXFLAGS says.
BASE_CXXFLAGS := -std=c++17 -static -fno-pie -no-pie $(ARCH_FLAGS) \
  -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-asynchronous-unwind-tables \
  -fno-unwind-tables -ffunction-sections -fdata-sections -fno-stack-protector \
  -nostdinc $(CXX_INC) -isystem $(MUSL_INC) -isystem $(GCC_INC) -D'__GLIBC_PREREQ(a,b)=0' \
  -Isrc $(ARCH_INC)
# The user's: optimisation and warnings (make CXXFLAGS=-g), and additions.
# -fno-inline-functions-called-once: -Os still inlines every static function
# called once; here that made the x86_64 code 3 KiB larger, not smaller.
CXXFLAGS ?= -Os -fno-inline-functions-called-once $(WARN)
EXTRA_CXXFLAGS ?=
ALL_CXXFLAGS = $(BASE_CXXFLAGS) $(CXXFLAGS) $(EXTRA_CXXFLAGS)
# -z noseparate-code: the ELF headers, code and read-only data share one
# read+execute segment instead of three, each padded to a page (8 KiB of the
# x86_64 file; up to a 64 KiB page each elsewhere). Nothing is writable and
# executable (W^X holds); the constants become executable, as they were before
# binutils 2.31 made separate code the default on x86.
# -z norelro: no PT_GNU_RELRO, whose end the linker pads to a page boundary
# (1.8 KiB of the x86_64 file). Only a dynamic loader makes that range
# read-only after relocating; a static musl binary has none, so it protected
# nothing here.
BASE_LDFLAGS := -nostdlib -Wl,--gc-sections -Wl,-z,max-page-size=$(SEG_ALIGN) -Wl,-z,noseparate-code -Wl,-z,norelro $(SEG_LDFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

# make V=1 shows every command; by default one short line per step.
ifeq ($(V),1)
  Q :=
  say = @:
else
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2)
endif
CRT_BEGIN := $(MUSL_LIB)/crt1.o $(MUSL_LIB)/crti.o $(if $(NO_GCC_CRT),,$(shell $(CXX) -print-file-name=crtbeginT.o))
CRT_END := $(if $(NO_GCC_CRT),,$(shell $(CXX) -print-file-name=crtend.o)) $(MUSL_LIB)/crtn.o
LIBS := -L$(MUSL_LIB) -Wl,--start-group -lc $(shell $(CXX) -print-libgcc-file-name) -Wl,--end-group

SRCS := $(wildcard src/*.cpp) $(wildcard src/fd/*.cpp) $(ARCH_SRCS)
OBJS := $(patsubst %.cpp,$(B)/obj/%.o,$(SRCS))

# libchkpt is built with musl-gcc's specs; the big-endian ppc64 musl built
# from source (tests/qemu/musl-ppc64be.sh) has none: no libchkpt there yet.
all: $(B)/chkpt $(B)/rstrt $(B)/migrate $(B)/restartd $(if $(filter ppc64,$(ARCH)),,lib)

$(B)/obj/%.o: %.cpp $(wildcard src/*.h) $(ARCH_HDRS)
	@mkdir -p $(dir $@)
	$(call say,CXX,$<)
	$(Q)$(CXX) $(ALL_CXXFLAGS) -c -o $@ $<

$(B)/chkpt: $(OBJS)
	$(call say,LD,$@)
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(ALL_LDFLAGS) -o $@.unstripped $(CRT_BEGIN) $(OBJS) $(LIBS) $(CRT_END)
	$(call say,STRIP,$@)
	$(Q)$(CROSS_COMPILE)strip -o $@ $@.unstripped

$(B)/rstrt $(B)/migrate $(B)/restartd: $(B)/chkpt
	$(call say,LN,$@)
	$(Q)ln -sf chkpt $@

# --- libchkpt: the C API (src/include/, src/lib/, docs/API.md) ---------------------------
# libchkpt.a for musl (static programs, like the product) and build/glibc/
# libchkpt.a for the system compiler; C, no libstdc++. It runs the installed
# chkpt: $$CHKPT_BIN, else PREFIX/bin/chkpt, else chkpt on PATH.
LIB_SRCS := $(wildcard src/lib/*.c)
LIB_CFLAGS := -O2 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -ffunction-sections -fdata-sections -Isrc/include -Isrc/lib \
  -DCHKPT_PREFIX='"$(PREFIX)"'
$(B)/lib/musl/%.o: src/lib/%.c $(wildcard src/include/*.h src/lib/*.h)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) $(LIB_CFLAGS) -c -o $@ $<
$(B)/lib/glibc/%.o: src/lib/%.c $(wildcard src/include/*.h src/lib/*.h)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(LIB_CFLAGS) -c -o $@ $<
$(B)/libchkpt.a: $(patsubst src/lib/%.c,$(B)/lib/musl/%.o,$(LIB_SRCS))
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(CROSS_COMPILE)ar rcs $@ $^
$(B)/glibc/libchkpt.a: $(patsubst src/lib/%.c,$(B)/lib/glibc/%.o,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(CROSS_COMPILE)ar rcs $@ $^
lib: $(B)/libchkpt.a $(B)/glibc/libchkpt.a
.PHONY: lib

# --- tests -------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/*.cpp)
# against glibc; cross-built static, to run under qemu-user (tests/qemu/)
UNIT_CXX := $(CROSS_COMPILE)g++$(if $(CROSS_COMPILE), -static)
UNIT_LIB := src/crc32c.cpp src/codec.cpp src/image.cpp src/lz4.cpp src/procfs.cpp src/base.cpp src/records.cpp src/attr_records.cpp \
  src/files.cpp src/locks.cpp src/vma_slots.cpp $(wildcard src/fd/*.cpp) src/sha256.cpp src/net.cpp src/resolve.cpp src/options.cpp src/pathmap.cpp \
  $(filter %/sha256.cpp %/crc32c.cpp,$(ARCH_SRCS))
# src/fmt.cpp and src/alloc.cpp (the product's snprintf and malloc) are tested
# under other names, beside glibc's
UNIT_RENAMED := -Dsnprintf=chkpt_snprintf -Dvsnprintf=chkpt_vsnprintf -Dmalloc=chkpt_malloc -Dfree=chkpt_free \
  -Dcalloc=chkpt_calloc -Drealloc=chkpt_realloc -Dstrtoull=chkpt_strtoull -Dstrtoul=chkpt_strtoul \
  -Dstrtoll=chkpt_strtoll -Dstrtol=chkpt_strtol -Datoi=chkpt_atoi
$(B)/unit-%.o: src/%.cpp
	@mkdir -p $(B)
	$(call say,CXX,$@)
	$(Q)$(UNIT_CXX) -std=c++17 -O1 -g $(UNIT_RENAMED) -c -o $@ $<
# The reference liblz4 (lz4 liblz4-dev), natively only: tests/unit/test_lz4.cpp
# checks src/lz4.cpp against it. Never linked into the product.
UNIT_LZ4 := $(if $(CROSS_COMPILE),,$(if $(wildcard /usr/include/lz4frame.h),1))
$(B)/unit: $(UNIT_SRCS) $(UNIT_LIB) $(wildcard src/*.h) $(B)/unit-fmt.o $(B)/unit-alloc.o
	@mkdir -p $(B)
	$(call say,CXX,$@)
	$(Q)$(UNIT_CXX) -std=c++17 -O1 -g -Isrc $(ARCH_INC) -Itests/unit $(if $(UNIT_LZ4),-DCHKPT_HAVE_LIBLZ4) -o $@ \
	  $(UNIT_SRCS) $(UNIT_LIB) $(B)/unit-fmt.o $(B)/unit-alloc.o $(if $(UNIT_LZ4),-llz4)

# e2e target programs: static musl (they also run in QEMU guests) and,
# for the common case of an unmodified distro binary, dynamic glibc.
E2E_SRCS := $(wildcard tests/e2e/targets/*.c)
E2E_BINS := $(patsubst tests/e2e/targets/%.c,$(B)/e2e/%,$(E2E_SRCS))
MUSL_CC := $(CC) $(TARGET_CFLAGS) -specs $(MUSL_LIB)/musl-gcc.specs -static
$(B)/e2e/%: tests/e2e/targets/%.c tests/e2e/targets/common.h
	@mkdir -p $(B)/e2e
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -O2 -Wall -o $@ $<
	$(Q)$(CC) -O2 -Wall -o $@.glibc $< -lpthread

# The peers' test program (../shared/peers, not copied into the project).
PEERS ?= ../shared/peers
ifneq ($(wildcard $(PEERS)/chpoxtest.c),)
E2E_BINS += $(B)/e2e/chpoxtest
endif
$(B)/e2e/chpoxtest: $(PEERS)/chpoxtest.c
	@mkdir -p $(B)/e2e
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -include string.h -O2 -o $@ $<
	$(Q)$(CC) -include string.h -O2 -o $@.glibc $<

# The API's test programs (tests/api/run.sh): linked with libchkpt, static
# musl and dynamic glibc.
API_SRCS := $(wildcard tests/api/*.c)
API_BINS := $(patsubst tests/api/%.c,$(B)/api/%,$(API_SRCS))
$(B)/api/%: tests/api/%.c $(B)/libchkpt.a $(B)/glibc/libchkpt.a $(wildcard src/include/*.h)
	@mkdir -p $(B)/api
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -O2 -Wall -Isrc/include -o $@ $< $(B)/libchkpt.a
	$(Q)$(CC) -O2 -Wall -Isrc/include -o $@.glibc $< $(B)/glibc/libchkpt.a -lpthread

e2e-targets: $(E2E_BINS) $(API_BINS)

check: all $(B)/unit e2e-targets
	sh tests/check.sh

# libchkpt's size in make bench: a minimal program with and without it.
$(B)/bench/api_minimal: tests/bench/api_minimal.c $(B)/libchkpt.a
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -Os -s -Isrc/include -ffunction-sections -Wl,--gc-sections -o $@ $< $(B)/libchkpt.a
	$(Q)$(MUSL_CC) -Os -s -DNO_LIB -o $@.nolib $<
bench: all e2e-targets $(B)/bench/api_minimal
	sh tests/bench.sh

demo: all e2e-targets
	sh scripts/demo.sh

clean:
	rm -rf $(B)

.PHONY: all check bench demo clean e2e-targets

# --- robustness: bad images, faults, rights (tests/faults/, tests/fuzz/,
# docs/ROBUSTNESS.md) -----------------------------------------------------------
#   make fuzz [FUZZ_SECONDS=N]   libFuzzer on the image reader (clang, ASan+UBSan)
#   make check-asan              the product built with ASan+UBSan against glibc in
#                                build-asan/: bad-image matrix, 500-checkpoint endurance
# tools: imgtool is built like the product (static, any ARCH, for QEMU guests
# too); evolve is a target program, built like the e2e ones.
$(B)/faults/imgtool: tests/faults/imgtool.cpp $(addprefix $(B)/obj/src/,crc32c.o codec.o image.o lz4.o base.o) $(B)/obj/arch/$(ARCHDIR)/crc32c.o
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(ALL_LDFLAGS) -o $@ $(CRT_BEGIN) $< $(filter %.o,$^) $(LIBS) $(CRT_END)
$(B)/faults/%: tests/faults/%.c tests/e2e/targets/common.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -O2 -Wall -Itests/e2e/targets -o $@ $<
FAULT_BINS := $(B)/faults/imgtool $(patsubst tests/faults/%.c,$(B)/faults/%,$(wildcard tests/faults/*.c))
fault-tools: $(FAULT_BINS)

# The fuzz target links every product source but main.cpp, natively (glibc).
GLIBC_COMPAT := -include tests/fuzz/glibc_compat.h
FUZZ_CXX ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# rt.cpp (operator new/delete for the libstdc++-free product) would fight the
# sanitizers' own; the glibc builds use libstdc++'s (and glibc's snprintf and malloc,
# not fmt.cpp and alloc.cpp).
GLIBC_SRCS := $(filter-out src/rt.cpp src/fmt.cpp src/alloc.cpp,$(SRCS))
FUZZ_OBJS := $(patsubst %.cpp,$(B)/fuzz/obj/%.o,$(filter-out src/main.cpp,$(GLIBC_SRCS)) tests/fuzz/fuzz_image.cpp)
$(B)/fuzz/obj/%.o: %.cpp $(wildcard src/*.h) $(ARCH_HDRS) tests/fuzz/glibc_compat.h
	@mkdir -p $(dir $@)
	$(call say,FUZZCXX,$<)
	$(Q)$(FUZZ_CXX) -std=c++17 -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(GLIBC_COMPAT) -Isrc $(ARCH_INC) -c -o $@ $<
$(B)/fuzz/fuzz_image: $(FUZZ_OBJS)
	$(call say,LD,$@)
	$(Q)$(FUZZ_CXX) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^
fuzz: all e2e-targets $(B)/fuzz/fuzz_image
	sh tests/fuzz/run.sh $(B) $(FUZZ_SECONDS)

# The product with ASan+UBSan (glibc: the sanitizers do not support static musl).
ASAN_B := build-asan
ASAN_FLAGS := -std=c++17 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-exceptions -fno-rtti \
  $(GLIBC_COMPAT) -Isrc $(ARCH_INC) $(WARN)
ASAN_OBJS := $(patsubst %.cpp,$(ASAN_B)/obj/%.o,$(GLIBC_SRCS))
$(ASAN_B)/obj/%.o: %.cpp $(wildcard src/*.h) $(ARCH_HDRS) tests/fuzz/glibc_compat.h
	@mkdir -p $(dir $@)
	$(call say,ASANCXX,$<)
	$(Q)g++ $(ASAN_FLAGS) -c -o $@ $<
$(ASAN_B)/chkpt: $(ASAN_OBJS)
	$(call say,LD,$@)
	$(Q)g++ -fsanitize=address,undefined -o $@ $^
$(ASAN_B)/rstrt: $(ASAN_B)/chkpt
	ln -sf chkpt $@
check-asan: $(ASAN_B)/chkpt $(ASAN_B)/rstrt e2e-targets fault-tools
	sh tests/faults/asan.sh $(ASAN_B) $(B)

# make check runs a fuzz smoke only where clang is installed (tests/fuzz/run.sh
# says SKIP otherwise); make fuzz needs it.
HAVE_FUZZ_CXX := $(shell command -v $(FUZZ_CXX) 2>/dev/null)
check: fault-tools $(if $(HAVE_FUZZ_CXX),$(B)/fuzz/fuzz_image)
.PHONY: fault-tools fuzz check-asan

# --- other architectures: QEMU guests (tests/qemu/, docs/CROSS.md) -------------
# make check-qemu ARCH=x86_64|aarch64|ppc64le: the e2e suite inside a guest of
# that architecture booted under qemu-system (TCG), the unit tests under
# qemu-user. Cross builds land in build-ARCH/.
$(B)/qemu/%: tests/qemu/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -O2 -Wall -o $@ $<
$(B)/qemu/crdtest: kmod/crd_ioctl.h
$(B)/qemu/powerjob: tests/qemu/powerjob.c tests/e2e/targets/common.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(MUSL_CC) -O2 -Wall -Itests/e2e/targets -o $@ $<
$(B)/qemu/mkimage: tests/qemu/mkimage.cpp $(UNIT_LIB) $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(call say,CXX,$@)
	$(Q)$(UNIT_CXX) -std=c++17 -O1 -Isrc $(ARCH_INC) -o $@ $< $(UNIT_LIB)
ifneq ($(ARCH),ppc64)
check-qemu: all $(B)/unit e2e-targets $(B)/qemu/script $(B)/qemu/crdtest $(B)/qemu/powerjob $(B)/faults/imgtool
	sh tests/qemu/check.sh $(ARCH) $(B)
else
# Big-endian ppc64: no guest (Debian main has no kernel for it), so the unit
# tests and images crossing byte orders, under qemu-user. musl is built from
# Debian's source first.
check-qemu: all $(B)/unit $(B)/qemu/mkimage
	$(MAKE) ARCH=$(shell uname -m) CROSS_COMPILE= all build/qemu/mkimage
	sh tests/qemu/check.sh $(ARCH) $(B) build
$(OBJS): | $(MUSL_LIB)/libc.a
$(MUSL_LIB)/libc.a:
	sh tests/qemu/musl-ppc64be.sh $(MUSL_PREFIX)
endif
.PHONY: check-qemu
# make bench also reports the binary size for every architecture.
bench: bench-sizes
bench-sizes:
	@for a in aarch64 ppc64le ppc64; do $(MAKE) -s ARCH=$$a all >/dev/null 2>&1 || true; done
	@sh tests/qemu/sizes.sh
.PHONY: bench-sizes

# --- the crd kernel module (kmod/, docs/KMOD.md) ------------------------------
#   make kmod KDIR=/lib/modules/VERSION/build [ARCH=aarch64 ...]   -> $(B)/kmod/crd.ko
# Out of tree, against any kernel's build directory (Debian's linux-headers,
# buildroot's or yocto's kernel build dir); the sources are copied to $(B)/kmod
# so that kmod/ stays clean and each ARCH builds apart.
KARCH_x86_64 := x86_64
KARCH_aarch64 := arm64
KARCH_ppc64le := powerpc
KARCH_ppc64 := powerpc
kmod:
	@test -n "$(KDIR)" || { echo "make kmod: give KDIR=<the kernel's build directory>" >&2; exit 1; }
	@mkdir -p $(B)/kmod
	cp kmod/Kbuild kmod/crd.c kmod/crd_ioctl.h $(B)/kmod/
	$(MAKE) -C $(KDIR) M=$(abspath $(B)/kmod) ARCH=$(KARCH_$(ARCH)) CROSS_COMPILE=$(CROSS_COMPILE) modules
.PHONY: kmod

# --- install (docs/man/) -------------------------------------------------------
#   make install [PREFIX=/usr/local] [DESTDIR=] [BINDIR=] [MANDIR=] [INCDIR=] [LIBDIR=]
#   make uninstall (same variables)
# The binary, its applet links (relative symlinks, as `chkpt --install DIR`
# makes absolute ones on a device without make), the man pages, libchkpt
# (its headers, LIBDIR/libchkpt.a for the system compiler (glibc) and
# LIBDIR/MUSL_TRIPLE/libchkpt.a for musl-gcc, docs/API.md), chkpt-jobs and
# the init examples (SHAREDIR/init/{busybox,sysvinit,openrc,systemd}).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
INCDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
APPLETS := rstrt migrate restartd
MAN_PAGES := $(wildcard docs/man/*.[1358])
API_HDRS := src/include/chkpt.h src/include/ckpt.h src/include/crs.h
# chkpt-jobs (on PATH) and the init examples that call it (share/chkpt/, docs/KMOD.md)
SHAREDIR ?= $(PREFIX)/share/chkpt
SHARE_FILES := share/chkpt/jobs.conf share/chkpt/chkpt-jobs $(wildcard share/chkpt/init/*/*)
install: $(B)/chkpt $(B)/libchkpt.a $(B)/glibc/libchkpt.a
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR)/$(MUSL_TRIPLE)
	install -m 755 $(B)/chkpt $(DESTDIR)$(BINDIR)/chkpt
	for a in $(APPLETS); do ln -sf chkpt $(DESTDIR)$(BINDIR)/$$a || exit 1; done
	for m in $(MAN_PAGES); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; done
	install -m 644 $(API_HDRS) $(DESTDIR)$(INCDIR)/
	install -m 644 $(B)/glibc/libchkpt.a $(DESTDIR)$(LIBDIR)/libchkpt.a
	install -m 644 $(B)/libchkpt.a $(DESTDIR)$(LIBDIR)/$(MUSL_TRIPLE)/libchkpt.a
	install -m 755 share/chkpt/chkpt-jobs $(DESTDIR)$(BINDIR)/chkpt-jobs
	for f in $(SHARE_FILES); do install -D -m $$(test -x $$f && echo 755 || echo 644) $$f $(DESTDIR)$(SHAREDIR)/$${f#share/chkpt/} || exit 1; done
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chkpt $(addprefix $(DESTDIR)$(BINDIR)/,$(APPLETS)) $(DESTDIR)$(BINDIR)/chkpt-jobs
	rm -rf $(DESTDIR)$(SHAREDIR)
	for m in $(notdir $(MAN_PAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	rm -f $(addprefix $(DESTDIR)$(INCDIR)/,$(notdir $(API_HDRS)))
	rm -f $(DESTDIR)$(LIBDIR)/libchkpt.a $(DESTDIR)$(LIBDIR)/$(MUSL_TRIPLE)/libchkpt.a
.PHONY: install uninstall

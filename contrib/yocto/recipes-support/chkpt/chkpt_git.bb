SUMMARY = "Transparent checkpoint/restart of unmodified Linux processes"
DESCRIPTION = "chkpt saves a running process (or its tree) to an image, rstrt \
brings it back, migrate/restartd move it between machines: one static musl \
binary, and libchkpt for programs that take part in their own checkpoints."
LICENSE = "CLOSED" # no license file in the tree yet: set it when there is one

# Built from the chkpt source tree this layer sits in (contrib/yocto); for a
# release, drop externalsrc and give SRC_URI its tarball or git URL.
inherit externalsrc
EXTERNALSRC = "${@os.path.abspath(d.getVar('THISDIR') + '/../../../..')}"
EXTERNALSRC_BUILD = "${EXTERNALSRC}"

COMPATIBLE_HOST = "(x86_64|aarch64|powerpc64le|powerpc64).*-linux-musl.*"

# Yocto's architecture names, as the chkpt Makefile spells them.
CHKPT_ARCH = "${@d.getVar('TARGET_ARCH').replace('powerpc64', 'ppc64')}"

EXTRA_OEMAKE = "ARCH=${CHKPT_ARCH} CROSS_COMPILE=${TARGET_PREFIX} \
    MUSL_PREFIX=${STAGING_DIR_TARGET}${prefix} NO_GCC_CRT= B=build-yocto \
    PREFIX=${prefix} CXX='${CXX}' CC='${CC}'"

# The Makefile links statically against musl and strips the binary itself.
INSANE_SKIP:${PN} += "already-stripped"

do_compile() {
    oe_runmake all
}

do_install() {
    oe_runmake DESTDIR=${D} install
}

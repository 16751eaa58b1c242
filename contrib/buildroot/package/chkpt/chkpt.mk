################################################################################
#
# chkpt: built from this source tree (BR2_EXTERNAL=.../chkpt/contrib/buildroot).
# For a release tarball instead, set CHKPT_SITE to its URL and drop the
# SITE_METHOD line.
#
################################################################################

CHKPT_VERSION = local
CHKPT_SITE = $(BR2_EXTERNAL_CHKPT_PATH)/../..
CHKPT_SITE_METHOD = local
CHKPT_LICENSE = unknown (no license file in the tree yet)
CHKPT_INSTALL_STAGING = YES

# Buildroot's architecture names, as the chkpt Makefile spells them.
CHKPT_ARCH = $(patsubst powerpc64%,ppc64%,$(BR2_ARCH))

# The toolchain's own musl is in the staging tree (MUSL_PREFIX); its gcc has
# the ELFv2 start files on big-endian ppc64 too (NO_GCC_CRT empty); the build
# directory is one name whatever the host.
CHKPT_MAKE_OPTS = \
	ARCH=$(CHKPT_ARCH) \
	CROSS_COMPILE="$(TARGET_CROSS)" \
	MUSL_PREFIX=$(STAGING_DIR)/usr \
	NO_GCC_CRT= \
	B=build-buildroot \
	PREFIX=/usr

define CHKPT_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(CHKPT_MAKE_OPTS) all
endef

define CHKPT_INSTALL_STAGING_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(CHKPT_MAKE_OPTS) DESTDIR=$(STAGING_DIR) install
endef

define CHKPT_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(CHKPT_MAKE_OPTS) DESTDIR=$(TARGET_DIR) install
endef

$(eval $(generic-package))

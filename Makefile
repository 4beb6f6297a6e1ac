# Makefile for snapshot_ops (PGXS)
#
#   make && make install       build and install the extension (as root)
#   make installcheck          pg_regress suites in test/sql against a
#                              throwaway instance (run as a non-root user)
#   make -C tools              the backup tool (also built by "make")
#
# The full test run (pg_regress, pgTAP, Perl TAP) is test/run-all.sh.

EXTENSION = snapshot_ops
MODULE_big = snapshot_ops
# One C file per concern under src/; every one is part of the module.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from the parts under sql/1.0, in name order.
DATA_built = snapshot_ops--1.0.sql
DATA = $(wildcard sql/updates/snapshot_ops--*--*.sql)

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Werror=implicit-function-declaration

# pg_regress: every test/sql/*.sql, in name order, against a temporary
# instance with the library preloaded (the worker tests need it).
REGRESS = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_PORT ?= 57432
REGRESS_OPTS = --inputdir=test --outputdir=test/results_dir \
	--temp-config=$(srcdir)/test/snapshot_ops.conf \
	--temp-instance=./tmp_check_regress --port=$(REGRESS_PORT)
TAP_TESTS = 1

EXTRA_CLEAN = tmp_check_regress test/results_dir

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

snapshot_ops--1.0.sql: $(sort $(wildcard sql/1.0/*.sql))
	cat $^ > $@

# The backup tool is built and installed with the extension.
all: tools
install: install-tools
clean: clean-tools

tools:
	$(MAKE) -C tools PG_CONFIG=$(PG_CONFIG)
install-tools: tools
	$(MAKE) -C tools PG_CONFIG=$(PG_CONFIG) install
clean-tools:
	$(MAKE) -C tools PG_CONFIG=$(PG_CONFIG) clean

.PHONY: tools install-tools clean-tools

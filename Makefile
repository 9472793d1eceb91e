# SPDX-License-Identifier: MIT
# Makefile -- zonekeeper. One non-recursive GNU Makefile.
#
#   make              build build/zonekeeper (and everything it needs)
#   make check        unit tests (plain and ASan+UBSan), layering and documentation checks,
#                     fuzz seeds, system tests (plain and ASan+UBSan); builds on every
#                     core (JOBS=)
#   make demo         sign the bundled example and show the result and the validators' verdicts
#   make bench        signing benchmark against ldns-signzone, dnssec-signzone and kzonesign
#   make bench-zones  many small zones against Knot (BENCH_ZONES=10000)
#   make bench-hol    a small zone's writes during a large zone's full re-sign
#   make bench-restart  restart to ready and to the zone loaded (1M names) vs kzonecheck
#   make interop      the serving matrix in full (NSD, Knot, BIND, PowerDNS, Unbound, DNSViz)
#   make install      PREFIX=/usr/local DESTDIR=   the programs, units, sysusers.d and
#                     tmpfiles.d snippets, manual pages, documentation, and
#                     /etc/zonekeeper/zonekeeper.conf when there is none
#   make uninstall    the same files removed; the configuration and the state are kept
#
# Every target first runs scripts/deps.sh, which installs missing Debian packages when run
# as root (or says which are missing and how to get them): only the build packages when
# every goal is a build or an install (DEPS=build), the test tools too otherwise (DEPS=all).

PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/zonekeeper
SYSCONFDIR ?= /etc
DESTDIR    ?=
B          ?= build
PYTEST     ?= /usr/bin/pytest-3

PKGS   := ldns libconfig libcrypto jansson
DAEMON_PKGS := libsystemd libmicrohttpd
CLI_PKGS := libcurl
CFLAGS ?= -O2 -g
WERROR ?= -Werror
WARN   := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wformat=2 -Wimplicit-fallthrough -Wundef -Wwrite-strings -Wpointer-arith \
          -Wvla -Wno-unused-parameter -Wno-format-nonliteral
ZK_CFLAGS = -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -fno-common -fstack-protector-strong \
            -MMD -MP -pthread $(PKGCFLAGS) $(FORTIFY)
FORTIFY   = $(if $(findstring -O0,$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
PKGCFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(DAEMON_PKGS) $(CLI_PKGS) 2>/dev/null)
ZK_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -pthread

LIB_SRC    := $(wildcard policy/*.c keystore/*.c signer/*.c)
CLI_SRC    := $(wildcard signer/cli/*.c)
DAEMON_SRC := $(wildcard signer/daemon/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
obj = $(patsubst %.c,$(B)/%.o,$(1))

UNIT := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

all: $(B)/zonekeeper $(B)/zonekeeperd

# the goals that need the build packages only; any other goal (check, demo, bench, ...)
# needs the test tools as well
BUILD_GOALS := all install uninstall clean $(B)/zonekeeper $(B)/zonekeeperd
DEPS ?= $(if $(filter-out $(BUILD_GOALS),$(or $(MAKECMDGOALS),all)),all,build)

deps:
	@sh scripts/deps.sh $(DEPS)

$(B)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(ZK_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libzk.a: $(call obj,$(LIB_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/zonekeeper: $(call obj,$(CLI_SRC)) $(B)/libzk.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ZK_LIBS) $(shell $(PKG_CONFIG) --libs $(CLI_PKGS) 2>/dev/null)

$(B)/zonekeeperd: $(call obj,$(DAEMON_SRC)) $(B)/libzk.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ZK_LIBS) \
	      $(shell $(PKG_CONFIG) --libs $(DAEMON_PKGS) 2>/dev/null)

# the daemon's modules without main(), for their unit tests
$(B)/libzkd.a: $(call obj,$(filter-out signer/daemon/main.c,$(DAEMON_SRC)))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(B)/libzkd.a $(B)/libzk.a | deps
	@mkdir -p $(@D)
	$(CC) $(ZK_CFLAGS) $(shell $(PKG_CONFIG) --cflags cmocka) $(CPPFLAGS) $(CFLAGS) \
	      $(LDFLAGS) -o $@ $< $(B)/libzkd.a $(B)/libzk.a $(ZK_LIBS) \
	      $(shell $(PKG_CONFIG) --libs cmocka $(DAEMON_PKGS))

# ---------------------------------------------------------------------------- tests
check-unit: $(UNIT)
	@set -e; for t in $(UNIT); do echo "  UNIT    $$t"; \
	  ZK_TEST_DATA=$(CURDIR)/tests/data $$t; done

check-layering:
	@! grep -rn '#include "signer/' policy keystore || { echo "layering: policy/keystore include signer/"; exit 1; }
	@! grep -rn '#include "keystore/' policy || { echo "layering: policy includes keystore/"; exit 1; }
	@! grep -n '#include "signer/\(daemon\|cli\)/' signer/*.c signer/*.h || \
	  { echo "layering: the signer core includes signer/daemon/ or signer/cli/"; exit 1; }
	@! grep -rn '#include "signer/cli/' signer/daemon || { echo "layering: daemon includes cli/"; exit 1; }
	@! grep -rn '#include "signer/daemon/' signer/cli || { echo "layering: cli includes daemon/"; exit 1; }
	@! grep -rln '#include "[a-z]*/internal.h"' policy keystore signer | \
	  while read f; do d=$${f%%/*}; grep -n '#include "[a-z]*/internal.h"' $$f | \
	  grep -v "\"$$d/internal.h\"" ; done | grep . || { echo "layering: foreign internal.h"; exit 1; }
	@echo "  LAYERING ok"

ASAN_MAKE := B=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=all" LDFLAGS="-fsanitize=address,undefined"

units: $(UNIT)

check-asan: deps
	$(MAKE) $(ASAN_MAKE) all check-unit

# the three builds check needs, each on every core (the tests then run one after another)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check-build: deps
	$(MAKE) -j$(JOBS) all units $(FUZZ_BIN)
	$(MAKE) -j$(JOBS) $(ASAN_MAKE) all units

check-system: all
	ZK_BUILD=$(CURDIR)/$(B) $(PYTEST) -q -p no:cacheprovider tests/system $(PYTEST_ARGS)

check-system-asan: check-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ZK_BUILD=$(CURDIR)/build-asan $(PYTEST) -q -p no:cacheprovider tests/system -m "not slow" $(PYTEST_ARGS)

# every rule a comment cites is in doc/invariants.md, every test it names exists, and no
# file cites a document outside the repository
check-docs:
	@/usr/bin/python3 scripts/check-docs.py && echo "  DOCS    ok"

check: deps check-build all check-layering check-docs check-unit check-fuzz check-system \
       check-system-asan

# ---------------------------------------------------------------------------- fuzz
# libFuzzer targets, each fuzz/fuzz_<name>.c over its seeds in fuzz/corpus/<name>:
#   record   request parsing and record validation (the API's untrusted bytes)
#   load     the input-file loader through the file path ($INCLUDE, FIFOs, links)
#   journal  the journal reader (a journal a crash or a full disk left behind)
# The library sources (not the CLI or the daemon) are built again with clang, coverage and
# ASan+UBSan into $(FUZZ_B)/, apart from the gcc objects.
#   make fuzz         fuzz FUZZ_TARGET (default record; "load" or "fuzz_load" both work)
#                     for FUZZ_TIME seconds (default 600); new inputs go to
#                     $(FUZZ_B)/corpus-<name>, crashes to $(FUZZ_B)/crash-*
#   make check-fuzz   every target: its seeds, then FUZZ_CHECK_RUNS_<name> mutations from a
#                     fixed seed: the same inputs on every machine, so CI cannot fail on
#                     luck; any crash, leak or UBSan report fails it. A find goes into the
#                     seeds. FUZZ_CHECK_ARGS=-max_total_time=N bounds each by time instead.
FUZZ_CC         ?= clang
FUZZ_B          ?= build-fuzz
FUZZ_TIME       ?= 600
FUZZ_TARGETS    := record load journal
FUZZ_TARGET     ?= record
FUZZ_CHECK_RUNS ?= 200000
# the file targets pay a write and an open per input: fewer runs keep check-fuzz short
FUZZ_CHECK_RUNS_record  ?= $(FUZZ_CHECK_RUNS)
FUZZ_CHECK_RUNS_load    ?= 100000
FUZZ_CHECK_RUNS_journal ?= 10000
FUZZ_CHECK_ARGS ?= -seed=1 -runs=$(FUZZ_CHECK_RUNS_$*)
FUZZ_SAN        := -fsanitize=address,undefined -fno-sanitize-recover=all
# the project's flags minus _FORTIFY_SOURCE, which hides calls from ASan's interceptors
FUZZ_CFLAGS      = $(filter-out -D_FORTIFY_SOURCE=%,$(ZK_CFLAGS)) -O1 -g \
                   -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_OPTS       := -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
                   -artifact_prefix=$(FUZZ_B)/
FUZZ_ENV        := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
FUZZ_BIN        := $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_LIB_OBJ    := $(patsubst %.c,$(FUZZ_B)/%.o,$(LIB_SRC))
FUZZ_ONE        := $(patsubst fuzz_%,%,$(FUZZ_TARGET))
FUZZ_CHECKS     := $(patsubst %,check-fuzz-%,$(FUZZ_TARGETS))

$(FUZZ_B)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BIN): $(FUZZ_B)/fuzz_%: $(FUZZ_B)/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ZK_LIBS)

fuzz: $(FUZZ_B)/fuzz_$(FUZZ_ONE)
	@mkdir -p $(FUZZ_B)/corpus-$(FUZZ_ONE)
	$(FUZZ_ENV) $< $(FUZZ_OPTS) -max_total_time=$(FUZZ_TIME) \
	  $(FUZZ_B)/corpus-$(FUZZ_ONE) fuzz/corpus/$(FUZZ_ONE)

$(FUZZ_CHECKS): check-fuzz-%: $(FUZZ_B)/fuzz_%
	@rm -rf $(FUZZ_B)/check-corpus-$* && mkdir -p $(FUZZ_B)/check-corpus-$*
	$(FUZZ_ENV) $< $(FUZZ_OPTS) $(FUZZ_CHECK_ARGS) $(FUZZ_B)/check-corpus-$* fuzz/corpus/$*

check-fuzz: $(FUZZ_CHECKS)
	@echo "  FUZZ    ok"

clean-fuzz:
	$(RM) -r $(FUZZ_B)
clean: clean-fuzz

.PHONY: $(FUZZ_CHECKS)
-include $(shell find $(FUZZ_B) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------- interop
# The serving matrix in full: every algorithm x KSK+ZSK/CSK x NSEC/NSEC3/NSEC3 opt-out,
# served by NSD, Knot, BIND and PowerDNS through a validating Unbound, and DNSViz on each;
# the edge-case zone with its children the same way (make check runs a reduced set).
interop: all
	ZK_INTEROP=full ZK_BUILD=$(CURDIR)/$(B) $(PYTEST) -q -p no:cacheprovider -rA \
	  tests/system/test_serving.py tests/system/test_resolver.py $(PYTEST_ARGS)

# ---------------------------------------------------------------------------- demo, bench
demo: all
	@sh examples/demo.sh $(B)

bench: all
	@bash bench/bench.sh $(B)
	@bash bench/restart.sh $(B) $${TMPDIR:-/tmp}/zonekeeper-restart $(RESTART_NAMES)

# many small zones against Knot's automatic signing: make bench-zones BENCH_ZONES=10000
bench-zones: all
	@bash bench/zones.sh $(B) $(BENCH_ZONES)

# a restart with unchanged input against kzonecheck reading the same signed file:
# make bench-restart RESTART_NAMES=1000000
bench-restart: all
	@bash bench/restart.sh $(B) $${TMPDIR:-/tmp}/zonekeeper-restart $(RESTART_NAMES)

# a small zone's writes while a large one is fully re-signed: make bench-hol HOL_NAMES=1000000
bench-hol: all
	@bash bench/hol.sh $(B) $${TMPDIR:-/tmp}/zonekeeper-hol $(HOL_NAMES)

# ---------------------------------------------------------------------------- install
# systemd looks for units under /usr/local/lib/systemd too, so PREFIX=/usr/local works
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
CONFFILE    = $(SYSCONFDIR)/zonekeeper/zonekeeper.conf
DOC_FILES  := README.md $(wildcard doc/*.md)
EXAMPLES   := examples/zonekeeper.conf examples/zonekeeper.conf.production
# $(call on_host,COMMAND ARGS): run it when the command exists, else say what to do
on_host = if command -v $(firstword $(1)) >/dev/null; then echo "$(1)"; $(1) || exit 1; \
	  else echo "$(firstword $(1)) not found: do by hand what $(lastword $(1)) says" >&2; fi

# The production configuration goes in only where there is none: an operator's file is
# never replaced (the current default is in $(DOCDIR)/examples/ to compare). Without
# DESTDIR, as root, the user and the directories are created here; otherwise it prints
# the two systemd-* commands to run (on the target: README.md, "Install").
install: all
	install -D -m 0755 $(B)/zonekeeper $(DESTDIR)$(BINDIR)/zonekeeper
	install -D -m 0755 $(B)/zonekeeperd $(DESTDIR)$(SBINDIR)/zonekeeperd
	@mkdir -p $(DESTDIR)$(SYSTEMDDIR)
	sed -e 's|/usr/sbin/zonekeeperd|$(SBINDIR)/zonekeeperd|g' \
	    -e 's|/usr/bin/zonekeeper |$(BINDIR)/zonekeeper |g' \
	    -e 's|/etc/zonekeeper/|$(SYSCONFDIR)/zonekeeper/|g' units/zonekeeperd.service \
	    > $(DESTDIR)$(SYSTEMDDIR)/zonekeeperd.service
	install -m 0644 units/zonekeeperd.socket $(DESTDIR)$(SYSTEMDDIR)/zonekeeperd.socket
	install -D -m 0644 units/zonekeeper.sysusers $(DESTDIR)$(SYSUSERSDIR)/zonekeeper.conf
	install -D -m 0644 units/zonekeeper.tmpfiles $(DESTDIR)$(TMPFILESDIR)/zonekeeper.conf
	install -D -m 0644 man/zonekeeper.1 $(DESTDIR)$(MANDIR)/man1/zonekeeper.1
	install -D -m 0644 man/zonekeeper.conf.5 $(DESTDIR)$(MANDIR)/man5/zonekeeper.conf.5
	install -D -m 0644 man/zonekeeperd.8 $(DESTDIR)$(MANDIR)/man8/zonekeeperd.8
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	@if [ -e $(DESTDIR)$(CONFFILE) ]; then \
	  echo "kept $(DESTDIR)$(CONFFILE) (the default: $(DOCDIR)/examples/zonekeeper.conf.production)"; \
	else \
	  echo "install -D -m 0644 examples/zonekeeper.conf.production $(DESTDIR)$(CONFFILE)"; \
	  install -D -m 0644 examples/zonekeeper.conf.production $(DESTDIR)$(CONFFILE); \
	fi
	@if [ -n "$(DESTDIR)" ] || [ "$$(id -u)" != 0 ]; then \
	  where=$$([ -n "$(DESTDIR)" ] && echo "on the target" || echo "as root"); \
	  echo "$$where: systemd-sysusers $(SYSUSERSDIR)/zonekeeper.conf"; \
	  echo "$$where: systemd-tmpfiles --create $(TMPFILESDIR)/zonekeeper.conf"; \
	else \
	  $(call on_host,systemd-sysusers $(SYSUSERSDIR)/zonekeeper.conf); \
	  $(call on_host,systemd-tmpfiles --create $(TMPFILESDIR)/zonekeeper.conf); \
	  if [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; \
	    systemctl daemon-reload || exit 1; fi; \
	fi

# the configuration ($(SYSCONFDIR)/zonekeeper), the state (/var/lib/zonekeeper) and the
# user stay
uninstall:
	$(RM) $(DESTDIR)$(BINDIR)/zonekeeper $(DESTDIR)$(SBINDIR)/zonekeeperd \
	      $(DESTDIR)$(SYSTEMDDIR)/zonekeeperd.service $(DESTDIR)$(SYSTEMDDIR)/zonekeeperd.socket \
	      $(DESTDIR)$(SYSUSERSDIR)/zonekeeper.conf $(DESTDIR)$(TMPFILESDIR)/zonekeeper.conf \
	      $(DESTDIR)$(MANDIR)/man1/zonekeeper.1 $(DESTDIR)$(MANDIR)/man5/zonekeeper.conf.5 \
	      $(DESTDIR)$(MANDIR)/man8/zonekeeperd.8 \
	      $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES))) \
	      $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	@rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/zonekeeper, $(DESTDIR)/var/lib/zonekeeper and the user zonekeeper"

clean:
	$(RM) -r build build-asan

.PHONY: all deps check check-unit check-layering check-docs check-asan check-system check-system-asan \
        check-build units \
        demo bench bench-zones bench-hol bench-restart interop install uninstall clean fuzz check-fuzz clean-fuzz
-include $(shell find $(B) -name '*.d' 2>/dev/null)

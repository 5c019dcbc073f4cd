# meshperf: one non-recursive Makefile (STYLE.md B1-B3).
# Build products go to $(BUILD) (default build/); `make V=1` shows commands,
# `make asan=1` builds with AddressSanitizer and UBSan, `WERROR=1` (set by
# .ci/run) turns warnings into errors.

VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/lib/meshperf
DATADIR ?= $(PREFIX)/share/meshperf
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CFLAGS ?= -O2 -g
BUILD ?= build
PKG_CONFIG ?= pkg-config
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30

PKGS := libnl-3.0 libnl-route-3.0 libnl-genl-3.0 libpcap jansson libsodium libmicrohttpd libcurl

WFLAGS := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wold-style-definition -Wshadow -Wpointer-arith -Wcast-qual -Wformat=2
ifeq ($(WERROR),1)
WFLAGS += -Werror
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl's headers only: lib/fetch.c opens it when a URL is fetched
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
# libcsv ships no pkg-config file
LDLIBS += $(PKG_LIBS) -lcsv -lm

override CFLAGS += -std=c11 -D_GNU_SOURCE -MMD -MP $(WFLAGS) -Ilib $(PKG_CFLAGS) \
	-DMP_VERSION='"$(VERSION)"'
ifeq ($(asan),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libmeshperf.a

TOOLS := $(sort $(patsubst tools/%/main.c,%,$(wildcard tools/*/main.c)))
TOOL_BIN := $(TOOLS:%=$(BUILD)/bin/%)
TOOL_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/*/*.c))

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

LAB_SRC := $(sort $(wildcard tests/lab/*.c))
LAB_BIN := $(LAB_SRC:tests/lab/%.c=$(BUILD)/lab/%)

# tests/golden/: each tool's text for fixed results, against the files there
GOLDEN_SRC := $(sort $(wildcard tests/golden/golden_*.c))
GOLDEN_BIN := $(GOLDEN_SRC:tests/golden/%.c=$(BUILD)/golden/%)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

MAN_PAGES := $(sort $(wildcard man/man1/*.1 man/man8/*.8))

# contrib/: systemd units made from contrib/systemd/*.in with the install
# paths filled in, the textfile wrapper, the Prometheus rules (and their test).
SYSTEMD_IN := $(sort $(wildcard contrib/systemd/*.in))
SYSTEMD_UNITS := $(SYSTEMD_IN:contrib/%.in=$(BUILD)/contrib/%)
PROM_FILES := $(sort $(wildcard contrib/prometheus/*.yml))
CONTRIB_PATHS := $(BINDIR):$(SBINDIR):$(LIBEXECDIR)

DEPS := $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(UNIT_BIN:=.d) $(LAB_BIN:=.d) $(FUZZ_BIN:=.d) \
	$(GOLDEN_BIN:=.d)

.PHONY: all lib tools lab unit golden contrib fuzz fuzz-build check check-unit check-formats \
	check-golden check-netns check-man \
	demo bench install uninstall clean help analyze deps FORCE
.DEFAULT_GOAL := all
.SECONDEXPANSION:

all: $(TOOL_BIN) $(LAB_BIN) $(UNIT_BIN) $(GOLDEN_BIN) $(SYSTEMD_UNITS)

lib: $(LIB)
tools: $(TOOL_BIN)
lab: $(LAB_BIN)
unit: $(UNIT_BIN)
golden: $(GOLDEN_BIN)
contrib: $(SYSTEMD_UNITS)

$(BUILD)/%.o: %.c
	$(quiet) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(quiet) AR $@
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# $$* is the tool's name: a literal % here would be replaced by make too
$(BUILD)/bin/%: $$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard tools/$$*/*.c))) $(LIB)
	$(quiet) LINK $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test may wrap syscalls for cmocka: tests/unit/test_X.ldflags holds
# its extra linker flags (e.g. -Wl,--wrap=sendto).
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB) $$(wildcard tests/unit/%.ldflags)
	$(quiet) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -Wno-missing-declarations \
		$(LDFLAGS) -o $@ $< $(LIB) $(shell cat tests/unit/$*.ldflags 2>/dev/null) \
		$(shell $(PKG_CONFIG) --libs cmocka) $(LDLIBS)

# A golden program calls a tool's print code with fixed results: it links the
# tool's objects but main.o, from an archive so that only the files it needs
# come in. tests/golden/golden_X.ldflags holds extra linker flags (wraps of
# the clock and of netlink reads, as for the unit tests).
$(BUILD)/golden/lib%.a: $$(filter-out %/main.o,$$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard tools/$$*/*.c))))
	$(quiet) AR $@
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/golden/golden_%: tests/golden/golden_%.c $(BUILD)/golden/lib%.a $(LIB) \
		$$(wildcard tests/golden/golden_%.ldflags)
	$(quiet) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itools/$* $(LDFLAGS) -o $@ $< $(BUILD)/golden/lib$*.a \
		$(LIB) $(shell cat tests/golden/golden_$*.ldflags 2>/dev/null) $(LDLIBS)

$(BUILD)/lab/%: tests/lab/%.c $(LIB)
	$(quiet) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# libFuzzer harnesses #include the .c under test (STYLE.md T2).
# -MMD: a harness #includes tool and lib sources, which it must follow.
# What the code under test calls but does not fuzz comes from $(LIB): the
# linker takes a member of it only for a symbol the harness leaves undefined.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h) $(LIB)
	$(quiet) FUZZ $@
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -MMD -MP -Ilib $(PKG_CFLAGS) \
		-DMP_VERSION='"$(VERSION)"' -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(LIB) $(LDLIBS)

# The units hold the install paths: they are made again when a path changes
# (make install PREFIX=/usr after a plain make), through this stamp.
$(BUILD)/contrib/paths: FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(CONTRIB_PATHS)' | cmp -s - $@ || echo '$(CONTRIB_PATHS)' >$@

FORCE:

$(BUILD)/contrib/systemd/%: contrib/systemd/%.in $(BUILD)/contrib/paths
	$(quiet) GEN $@
	@mkdir -p $(@D)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
		-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' $< >$@.tmp && mv $@.tmp $@

fuzz-build: $(FUZZ_BIN)

# Fuzz every harness for FUZZ_SECONDS each, growing its corpus.
fuzz: $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do n=$${f##*/}; mkdir -p tests/fuzz/corpus/$$n; \
		echo "  FUZZ   $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			tests/fuzz/corpus/$$n >/dev/null 2>$(BUILD)/fuzz/$$n.log || \
			{ tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; done

deps:
	$(Q)scripts/deps.sh

# make check: packages, build, unit tests, fuzz-corpus regression and a
# 10 s smoke run of every harness (FUZZ_SMOKE_SECONDS=0: none), the text
# of every tool against tests/golden/, the keys
# of every tool's output against docs/FORMATS.md, netns suite (each script
# skips with a reason when not root), man lint. The runner
# prints every test's result and the totals last.
check: deps
	$(Q)$(MAKE) --no-print-directory all fuzz-build
	$(Q)BUILD=$(BUILD) tests/run.sh all

check-unit: all
	$(Q)BUILD=$(BUILD) tests/run.sh unit

check-formats: all
	$(Q)BUILD=$(BUILD) tests/run.sh formats

check-golden: $(GOLDEN_BIN)
	$(Q)BUILD=$(BUILD) tests/run.sh golden

check-netns: all
	$(Q)BUILD=$(BUILD) tests/run.sh netns

check-man:
	$(Q)BUILD=$(BUILD) tests/run.sh man

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/lab/demo.sh

bench: all
	$(Q)for b in bench/*.sh; do [ -e "$$b" ] || continue; BUILD=$(BUILD) $$b || exit 1; done

analyze:
	$(Q)for f in $(LIB_SRC) $(wildcard tools/*/*.c); do \
		clang --analyze -Xclang -analyzer-output=text -std=c11 -D_GNU_SOURCE -Ilib \
			$(PKG_CFLAGS) -DMP_VERSION='"$(VERSION)"' $$f -o /dev/null || exit 1; done

install: $(TOOL_BIN) $(SYSTEMD_UNITS)
	$(Q)for t in $(TOOLS); do \
		case $$t in meshctl) d=$(SBINDIR);; *) d=$(BINDIR);; esac; \
		install -D -m 755 $(BUILD)/bin/$$t $(DESTDIR)$$d/$$t; done
	$(Q)for m in $(MAN_PAGES); do \
		install -D -m 644 $$m $(DESTDIR)$(MANDIR)/$${m#man/}; done
	$(Q)for u in $(SYSTEMD_UNITS); do \
		install -D -m 644 $$u $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; done
	$(Q)install -D -m 755 contrib/meshperf-textfile $(DESTDIR)$(LIBEXECDIR)/meshperf-textfile
	$(Q)for r in $(PROM_FILES); do \
		install -D -m 644 $$r $(DESTDIR)$(DATADIR)/prometheus/$${r##*/}; done

uninstall:
	$(Q)for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(SBINDIR)/$$t; done
	$(Q)for m in $(MAN_PAGES); do rm -f $(DESTDIR)$(MANDIR)/$${m#man/}; done
	$(Q)for u in $(SYSTEMD_UNITS); do rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; done
	$(Q)rm -f $(DESTDIR)$(LIBEXECDIR)/meshperf-textfile
	$(Q)for r in $(PROM_FILES); do rm -f $(DESTDIR)$(DATADIR)/prometheus/$${r##*/}; done
	$(Q)rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR) \
		2>/dev/null || true

clean:
	rm -rf $(BUILD)

help:
	@echo 'meshperf $(VERSION) targets:'
	@echo '  all        build the tools, the lab programs, the unit tests and the golden programs'
	@echo '             (default)'
	@echo '  check      install missing packages, build, run unit, golden, format and netns tests,'
	@echo '             lint man'
	@echo '  check-unit / check-golden / check-formats / check-netns / check-man   one part of check'
	@echo '  demo       bring up the lab mesh and run every tool on it (root; KEEP=1 keeps it)'
	@echo '  bench      side-by-side benchmarks against the peer tools (bench/)'
	@echo '  fuzz       run every libFuzzer harness for FUZZ_SECONDS (default 30)'
	@echo '  contrib    the systemd units of contrib/systemd with the install paths'
	@echo '  install    install tools, man pages, systemd units and timers, the textfile'
	@echo '             wrapper and the Prometheus rules (PREFIX, DESTDIR, BINDIR, SBINDIR,'
	@echo '             MANDIR, LIBEXECDIR, DATADIR, SYSTEMDUNITDIR); uninstall removes them'
	@echo '  analyze    clang static analyzer over lib/ and tools/'
	@echo '  clean      remove $(BUILD)/'
	@echo 'variables: V=1 (show commands), asan=1 (ASan+UBSan), WERROR=1, BUILD=DIR'

.SECONDARY:
-include $(DEPS)

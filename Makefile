# wgkit: libwg-netlink and its tools. One plain Makefile; `make help` lists targets.
VERSION    := 0.1.0
SOVERSION  := 0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# systemd units go where systemd looks, whatever PREFIX is.
SYSTEMDUNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
DESTDIR    ?=

CC         ?= cc
AR         ?= ar
PKG_CONFIG ?= pkg-config
BUILD      ?= build
SANITIZE   ?=

# The library's dependencies (libmnl: all netlink; libsodium: keys; liburing:
# the STUN/probe engine; libcurl: HTTP probes). Tools add SQLite.
LIB_PKGS   := libmnl libsodium liburing libcurl
TOOL_PKGS  := $(LIB_PKGS) sqlite3

CFLAGS     ?= -O2 -g
WARNFLAGS  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter -Wvla -Wformat=2
BASEFLAGS  := -std=gnu11 -D_GNU_SOURCE -Iinclude -MMD -MP $(WARNFLAGS)
ifneq ($(SANITIZE),)
BASEFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN      := -fsanitize=address,undefined
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(TOOL_PKGS) 2>/dev/null)
LIB_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null)
TOOL_LIBS  := $(shell $(PKG_CONFIG) --libs $(TOOL_PKGS) 2>/dev/null)
ALL_CFLAGS := $(BASEFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)

ifeq ($(V),1)
Q :=
echo_cmd =
else
Q := @
echo_cmd = @printf '  %-7s %s\n' $(1) $(2);
endif

# The library's folders by concern (docs/architecture.md). Sources are
# listed per platform: LIB_SRC_COMMON builds everywhere (plain C + libsodium),
# LIB_SRC_LINUX adds the netlink backend (libmnl), the UAPI socket and the
# io_uring engine (liburing, libcurl); LIB_SRC_WINDOWS is the wireguard-nt port.
LIB_SRC_COMMON  := $(sort $(wildcard lib/core/*.c lib/proto/*.c lib/sync/*.c lib/quick/*.c lib/health/*.c))
LIB_SRC_LINUX   := $(sort $(wildcard lib/linux/*.c lib/uapi/*.c lib/uring/*.c))
LIB_SRC_WINDOWS := $(sort $(wildcard lib/windows/*.c))
LIB_SRC    := $(LIB_SRC_COMMON) $(LIB_SRC_LINUX)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.pic.o)
LIB_A      := $(BUILD)/libwg-netlink.a
LIB_SO     := $(BUILD)/libwg-netlink.so.$(VERSION)
LIB_SONAME := libwg-netlink.so.$(SOVERSION)
PC_FILE    := $(BUILD)/libwg-netlink.pc

TOOLS      := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard cmd/*/*.c)))))
# Objects shared by the tools (option parsing, JSON output, ...).
COMMON_SRC := $(sort $(wildcard cmd/common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
TOOLS      := $(filter-out common,$(TOOLS))
TOOL_BINS  := $(TOOLS:%=$(BUILD)/%)
# wg-gatewayd: every gateway/*.c, the tools' common objects and the static
# library. libpq (the registry) and libmicrohttpd (/metrics, /readyz) give
# only their headers: gateway/dl.c dlopen()s them when the config needs them
# (their dependency trees cost every start tens of ms of loading).
GATEWAY_PKGS := libpq libmicrohttpd
GATEWAY_SRC  := $(sort $(wildcard gateway/*.c))
GATEWAY_OBJ  := $(GATEWAY_SRC:%.c=$(BUILD)/%.o)
GATEWAY_BIN  := $(BUILD)/wg-gatewayd
GATEWAY_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(GATEWAY_PKGS) 2>/dev/null)

UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers the unit tests share (recorded netlink bytes, fixtures).
UNIT_HELP  := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_HOBJ  := $(UNIT_HELP:%.c=$(BUILD)/%.o)
TEST_TOOLS_SRC := $(sort $(wildcard tests/tools/*.c))
SYSTEMD_UNITS := $(notdir $(wildcard systemd/*.service systemd/*.timer))
TEST_TOOLS := $(TEST_TOOLS_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

.PHONY: all lib tools tests install uninstall clean distclean deps demo check check-unit format check-style \
        check-asan check-valgrind check-uapi check-kernel check-extra bench help
.DEFAULT_GOAL := all

all: lib tools

lib: $(LIB_A) $(LIB_SO) $(PC_FILE)
tools: $(TOOL_BINS) $(GATEWAY_BIN)
tests: $(UNIT_BINS) $(TEST_TOOLS)

$(BUILD)/%.pic.o: %.c
	@mkdir -p $(dir $@)
	$(call echo_cmd,CC,$<)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DWGNL_BUILDING -iquote lib -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call echo_cmd,CC,$<)$(CC) $(ALL_CFLAGS) -iquote lib -Icmd/common -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	$(call echo_cmd,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJ) lib/libwg-netlink.map
	$(call echo_cmd,LD,$@)$(CC) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=lib/libwg-netlink.map -Wl,--no-undefined \
		-o $@ $(LIB_OBJ) $(LDSAN) $(LDFLAGS) $(LIB_LIBS)
	$(Q)ln -sf $(notdir $@) $(BUILD)/$(LIB_SONAME) && ln -sf $(notdir $@) $(BUILD)/libwg-netlink.so

$(PC_FILE): lib/libwg-netlink.pc.in Makefile
	@mkdir -p $(dir $@)
	$(call echo_cmd,GEN,$@)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(LIB_PKGS)|' $< > $@

# Each tool is every .c in cmd/<tool>/ plus cmd/common, linked statically
# against the library so the build tree runs without installing.
.SECONDEXPANSION:
$(TOOL_BINS): $(BUILD)/%: $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(basename $$(wildcard cmd/$$*/*.c)))) $(COMMON_OBJ) $(LIB_A)
	$(call echo_cmd,LD,$@)$(CC) -o $@ $(filter %.o,$^) $(LIB_A) $(LDSAN) $(LDFLAGS) $(TOOL_LIBS) -lm -pthread

$(GATEWAY_OBJ): ALL_CFLAGS += $(GATEWAY_CFLAGS)
$(GATEWAY_BIN): $(GATEWAY_OBJ) $(COMMON_OBJ) $(LIB_A)
	$(call echo_cmd,LD,$@)$(CC) -o $@ $(filter %.o,$^) $(LIB_A) $(LDSAN) $(LDFLAGS) $(TOOL_LIBS) -lm -pthread

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(UNIT_HOBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(CC) -o $@ $(filter %.o,$^) $(LIB_A) $(LDSAN) $(LDFLAGS) $(TOOL_LIBS) -lcmocka -lm

# The gateway's pure edge decisions (readiness, metrics text) without a daemon.
$(BUILD)/tests/test_gateway_edge: $(addprefix $(BUILD)/gateway/,ready.o metrics.o stun.o util.o)
$(BUILD)/tests/test_gateway_edge: TOOL_LIBS += -pthread

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(CC) -o $@ $(filter %.o,$^) $(LIB_A) $(LDSAN) $(LDFLAGS) $(TOOL_LIBS) -lm
# wg-gatewayd's registry row parser (pure: no libpq).
$(BUILD)/tests/test_gateway_row: $(BUILD)/gateway/pgrow.o
# wg-gatewayd's run-time loader (libpq, libmicrohttpd), tried on libc.
$(BUILD)/tests/test_gateway_dl: $(BUILD)/gateway/dl.o
$(BUILD)/tests/test_gateway_dl: TOOL_LIBS += -pthread
# The PostgreSQL source alone (tests/gateway/pg.sh).
$(BUILD)/tests/tools/gw_pgsrc: $(addprefix $(BUILD)/gateway/,pgsource.o pgrow.o util.o dl.o)
$(BUILD)/tests/tools/gw_pgsrc: TOOL_LIBS += -pthread

# ------------------------------------------------------------------ set-up
deps: ## install the Debian packages the build and the tests need (as root)
	$(Q)sh tests/deps.sh

# ------------------------------------------------------------------ tests
check: deps ## everything: unit, style (clang-format), ABI, install, ASan+UBSan, valgrind, rtnl, wgctl, UAPI, health, gateway (+ PostgreSQL, bird2 lab, ASan+UBSan daemon), STUN, fuzz, Windows (wine), kernel (qemu)
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)sh tests/run-all.sh "$(BUILD)"

check-unit: all tests ## cmocka unit tests
	$(Q)sh tests/unit/run.sh $(BUILD)

check-asan: ## the unit tests built with ASan+UBSan (in build-asan/)
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 all tests
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh tests/unit/run.sh build-asan

check-valgrind: all tests ## the unit tests under valgrind (memcheck, leaks are errors)
	$(Q)UNIT_NAME=valgrind UNIT_WRAP="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9" \
		sh tests/unit/run.sh $(BUILD)

check-uapi: all tests ## wireguard-go in network namespaces, configured by wgctl
	$(Q)sh tests/uapi/run.sh $(BUILD)

check-kernel: all tests ## real in-kernel WireGuard in a qemu guest
	$(Q)sh tests/kernel/run.sh $(BUILD)

.PHONY: check-systemd
check-systemd: all tests ## wg-gatewayd and wghealth units under a real systemd (Debian 12 in a qemu guest)
	$(Q)sh tests/systemd/run.sh $(BUILD)

.PHONY: check-gateway-asan check-gateway-lab
check-gateway-asan: check-asan ## wg-gatewayd built with ASan+UBSan through the gateway, edge and PostgreSQL suites
	$(Q)sh tests/gateway/sanitized.sh build-asan


check-gateway-lab: all tests ## the anycast lab: bird2 router, two wg-gatewayd nodes, PostgreSQL, a client
	$(Q)sh tests/gateway/lab.sh $(BUILD)

bench: all tests ## benchmarks side by side with wg, wg syncconf, fping, coturn (see bench/README.md)
	$(Q)sh bench/run.sh $(BUILD)

demo: deps ## build, then a gateway with two peers in namespaces, ping; two anycast wg-gatewayd nodes, one killed
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/demo.sh $(BUILD)

# ------------------------------------------------------------------ install
install: all ## install library, headers, tools, man pages, systemd units (PREFIX, DESTDIR, SYSTEMDUNITDIR)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/wgkit $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/libwg-netlink.so
	install -m 0644 include/wgkit/*.h $(DESTDIR)$(INCLUDEDIR)/wgkit/
	install -m 0644 $(PC_FILE) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0755 $(TOOL_BINS) $(GATEWAY_BIN) $(DESTDIR)$(SBINDIR)/
	for m in docs/*.8; do [ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man8/; done; true
	@# The units name the binaries by their path: rewrite it to SBINDIR.
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(SYSTEMD_UNITS); do \
		sed 's|/usr/local/sbin/|$(SBINDIR)/|g' systemd/$$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done

uninstall: ## remove what install put in place
	rm -f $(DESTDIR)$(LIBDIR)/libwg-netlink.a $(DESTDIR)$(LIBDIR)/libwg-netlink.so*
	rm -rf $(DESTDIR)$(INCLUDEDIR)/wgkit
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libwg-netlink.pc
	rm -f $(TOOLS:%=$(DESTDIR)$(SBINDIR)/%) $(DESTDIR)$(SBINDIR)/wg-gatewayd
	for m in docs/*.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$$(basename $$m); done
	rm -f $(SYSTEMD_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%)

clean: ## remove build trees
	rm -rf $(BUILD) build-asan $(WIN_BUILD)

distclean: clean
	rm -rf tests/kernel/cache

format: ## rewrite every C file as .clang-format says (kernel layout, 100 columns)
	$(Q)clang-format -i $(filter-out tests/unit/genl_fixtures.c tests/unit/rtnl_recorded.h,$(shell git ls-files '*.c' '*.h'))

check-style: ## fail on any C file clang-format would change (part of make check)
	$(Q)sh tests/style/run.sh

help: ## this list
	@echo "wgkit $(VERSION): targets"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' | awk -F'\t' '{printf "  %-13s %s\n", $$1, $$2}'
	@echo "knobs: PREFIX=$(PREFIX) DESTDIR= SYSTEMDUNITDIR=$(SYSTEMDUNITDIR) BUILD=$(BUILD) CC=$(CC) PKG_CONFIG=$(PKG_CONFIG) V=1 SANITIZE=1 FUZZ_TIME=$(FUZZ_TIME) FUZZ_CHECK_TIME=$(FUZZ_CHECK_TIME)"

-include $(shell find $(BUILD) $(or $(WIN_BUILD),build-win) -name '*.d' 2>/dev/null)

# ---- stun/probe ----
# STUN interop (coturn) and probe tests in network namespaces, and the
# STUN/probe benchmarks.
.PHONY: check-stun fuzz check-fuzz bench-stun
check-stun: all tests ## STUN/probe integration tests (coturn, nftables NATs; namespaces)
	$(Q)sh tests/stun/run.sh $(BUILD)

# ---- fuzz ----
# Every fuzz/NAME.c is a libFuzzer harness, built with clang and ASan+UBSan
# against the library (its objects instrumented for coverage) plus the
# sources in FUZZ_SRC_NAME, and seeded from fuzz/corpus/NAME/. `make fuzz`
# runs each for FUZZ_TIME seconds; make check runs each for FUZZ_CHECK_TIME.
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_CHECK_TIME ?= 12
FUZZ_NAMES := $(notdir $(basename $(sort $(wildcard fuzz/*.c))))
FUZZ_BINS  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -iquote lib -Icmd/common -Itests/unit \
              -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
              -Wno-gnu-variable-sized-type-not-at-end
FUZZ_LIB_A := $(BUILD)/fuzz/libwg-netlink-fuzz.a
# gateway_conf: wg-gatewayd's config parser and the tools' helpers it uses.
FUZZ_SRC_gateway_conf := gateway/conf.c cmd/common/err.c cmd/common/argparse.c
# The wireguard-nt blob codec is plain C: fuzzed on Linux too.
FUZZ_SRC_nt_blob := lib/windows/nt_blob.c
FUZZ_SRC_gateway_row := gateway/pgrow.c

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call echo_cmd,FUZZCC,$<)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP \
		$(PKG_CFLAGS) -DWGNL_BUILDING -c -o $@ $<

$(FUZZ_LIB_A): $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
	$(call echo_cmd,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_BINS): $(BUILD)/fuzz/%: fuzz/%.c $$(FUZZ_SRC_$$*) $(wildcard fuzz/*.h) $(FUZZ_LIB_A)
	$(call echo_cmd,FUZZ,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ \
		fuzz/$*.c $(FUZZ_SRC_$*) $(FUZZ_LIB_A) $(TOOL_LIBS) -lm -pthread

fuzz: $(FUZZ_BINS) ## every libFuzzer harness in fuzz/ (FUZZ_TIME seconds each)
	$(Q)sh fuzz/run.sh $(BUILD) $(FUZZ_TIME)

check-fuzz: $(FUZZ_BINS) ## every harness briefly (FUZZ_CHECK_TIME seconds each), as make check does
	$(Q)sh fuzz/run.sh $(BUILD) $(FUZZ_CHECK_TIME)
# ---- end fuzz ----

# lib/uring/probe_http.c dlopen()s libcurl on first use: with --as-needed the tools
# that never call it directly lose its DT_NEEDED entry and the 10-15 ms of
# start-up that loading it and its dependencies costs (bench/README.md).
$(BUILD)/wghealth $(BUILD)/wgpunch: LDFLAGS += -Wl,--as-needed

bench-stun: all tests ## STUN server vs coturn, probes vs fping, codec cost (bench/README.md)
	$(Q)sh bench/stun.sh $(BUILD)
	$(Q)sh bench/probe.sh $(BUILD)
# ---- end stun/probe ----

# ---- windows ----
# The Windows port (issue 13, docs/windows.md): a mingw-w64 cross build into
# WIN_BUILD of libwg-netlink.dll + its import library and the tools, linked
# statically against libsodium and SQLite built once from Debian's source
# packages (tests/windows/sodium.sh caches them under /var/cache/wgkit).
WIN_BUILD  ?= build-win
WIN_HOST   ?= x86_64-w64-mingw32
WIN_CC     ?= $(WIN_HOST)-gcc
WIN_AR     ?= $(WIN_HOST)-ar
# Exported from the Linux map but absent on Windows (the UAPI socket, the
# io_uring STUN/probe engine, what only rtnetlink has): one per line.
WIN_NO_EXPORT := lib/windows/not-exported.txt
WIN_SODIUM ?=
WIN_SQLITE ?=
WIN_CFLAGS := -std=gnu11 -D_GNU_SOURCE -D__USE_MINGW_ANSI_STDIO=1 -D_WIN32_WINNT=0x0601 \
              -DSODIUM_STATIC -Iinclude -MMD -MP $(WARNFLAGS) -O2 -g -include lib/core/compat.h \
              $(if $(WIN_SODIUM),-I$(WIN_SODIUM)/include) $(if $(WIN_SQLITE),-I$(WIN_SQLITE)/include)
# winpthread (clock_gettime, nanosleep) linked in, so no mingw DLL is needed.
WIN_SYSLIBS := -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic -lws2_32 -liphlpapi -ladvapi32 -lbcrypt
# Whatever links the library's objects: open() is lib/windows/compat.c's.
WIN_LDFLAGS := -Wl,--wrap=open
WIN_LIB_SRC := $(LIB_SRC_COMMON) $(LIB_SRC_WINDOWS)
WIN_LIB_OBJ := $(WIN_LIB_SRC:%.c=$(WIN_BUILD)/%.o)
WIN_LIB_A  := $(WIN_BUILD)/libwg-netlink.a
WIN_DLL    := $(WIN_BUILD)/libwg-netlink.dll
WIN_DEF    := $(WIN_BUILD)/libwg-netlink.def
WIN_TOOLS  := wgctl wghealth
WIN_EXES   := $(WIN_TOOLS:%=$(WIN_BUILD)/%.exe)
# Linux-only tool sources (wghealth probe: the io_uring prober); their
# subcommands answer "not supported on Windows" (wgk_cmd_unsupported).
WIN_TOOL_SKIP := cmd/wghealth/probe.c
WIN_COMMON_OBJ := $(COMMON_SRC:%.c=$(WIN_BUILD)/%.o)

.PHONY: windows windows-lib windows-all
windows: ## Windows port: libwg-netlink.dll, wgctl.exe, wghealth.exe with mingw-w64 into build-win/
	$(Q)eval "$$(sh tests/windows/sodium.sh)" && $(MAKE) --no-print-directory windows-all \
		WIN_SODIUM="$$sodium" WIN_SQLITE="$$sqlite"

windows-lib: $(WIN_LIB_A) $(WIN_DLL)
windows-all: windows-lib $(WIN_EXES) $(WIN_BUILD)/tests/compat_test.exe

$(WIN_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call echo_cmd,WINCC,$<)$(WIN_CC) $(WIN_CFLAGS) -DWGNL_BUILDING -iquote lib -Icmd/common -c -o $@ $<

$(WIN_LIB_A): $(WIN_LIB_OBJ)
	$(call echo_cmd,AR,$@)rm -f $@ && $(WIN_AR) rcs $@ $^

# The DLL exports what the Linux map exports, minus WIN_NO_EXPORT.
$(WIN_DEF): lib/libwg-netlink.map $(WIN_NO_EXPORT)
	@mkdir -p $(dir $@)
	$(call echo_cmd,GEN,$@){ echo "LIBRARY libwg-netlink.dll"; echo EXPORTS; \
		sed -n 's/^[[:space:]]*\(wgnl_[a-z0-9_]*\);.*/\1/p' lib/libwg-netlink.map | \
		grep -vxF -f $(WIN_NO_EXPORT) | sed 's/^/\t/'; } > $@

$(WIN_DLL): $(WIN_LIB_OBJ) $(WIN_DEF)
	$(call echo_cmd,LD,$@)$(WIN_CC) -shared -o $@ $(WIN_LIB_OBJ) $(WIN_DEF) $(WIN_LDFLAGS) \
		-Wl,--out-implib,$(WIN_BUILD)/libwg-netlink.dll.a -static-libgcc \
		$(if $(WIN_SODIUM),-L$(WIN_SODIUM)/lib) -lsodium $(WIN_SYSLIBS)

.SECONDEXPANSION:
$(WIN_EXES): $(WIN_BUILD)/%.exe: $$(addprefix $(WIN_BUILD)/,$$(addsuffix .o,$$(basename $$(filter-out $(WIN_TOOL_SKIP),$$(wildcard cmd/$$*/*.c))))) $(WIN_COMMON_OBJ) $(WIN_LIB_A)
	$(call echo_cmd,LD,$@)$(WIN_CC) -static -o $@ $(filter %.o,$^) $(WIN_LIB_A) $(WIN_LDFLAGS) \
		$(if $(WIN_SODIUM),-L$(WIN_SODIUM)/lib) $(if $(WIN_SQLITE),-L$(WIN_SQLITE)/lib) \
		-lsodium -lsqlite3 $(WIN_SYSLIBS) -lm

# tests/windows/run.sh runs it under wine: the POSIX layer (compat.h).
$(WIN_BUILD)/tests/compat_test.exe: $(WIN_BUILD)/tests/windows/compat_test.o $(WIN_LIB_A)
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(WIN_CC) -static -o $@ $< $(WIN_LIB_A) $(WIN_LDFLAGS) \
		$(if $(WIN_SODIUM),-L$(WIN_SODIUM)/lib) -lsodium $(WIN_SYSLIBS)
# ---- end windows ----

# ---- windows nt ----
# The wireguard-nt tests (tests/windows/nt.sh): the strict stand-in
# wireguard.dll, blobtest.exe that corrupts blobs on purpose, and nt_tool.exe
# that drives lib/windows/nt.c through the library.
# The stand-in lands in $(WIN_BUILD)/tests/standin (WIN_DLLDIR of
# tests/windows/lib.sh); the backend loads wireguard.dll only from the
# program's folder or System32, so a test copies it beside the .exe.
WIN_TEST   := $(WIN_BUILD)/tests/windows
WIN_STANDIN := $(WIN_BUILD)/tests/standin/wireguard.dll
WIN_STANDIN_IPHLP := $(WIN_BUILD)/tests/standin/iphlpapi.dll
WIN_NT_TESTS := $(WIN_STANDIN) $(WIN_STANDIN_IPHLP) $(WIN_TEST)/blobtest.exe $(WIN_TEST)/nt_tool.exe
windows-all: $(WIN_NT_TESTS)

$(WIN_STANDIN): tests/windows/standin/wireguard.c tests/windows/standin/x25519.c tests/windows/standin/x25519.h
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(WIN_CC) -std=gnu11 $(WARNFLAGS) -O2 -shared -static-libgcc -o $@ \
		$(filter %.c,$^) -lws2_32

# The IP Helper stand-in: wine 8's own aborts on the calls that change
# addresses, routes and MTU; tests load this one with WINEDLLOVERRIDES=iphlpapi=n.
$(WIN_STANDIN_IPHLP): tests/windows/standin/iphlpapi.c tests/windows/standin/iphlpapi.def
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(WIN_CC) -std=gnu11 $(WARNFLAGS) -O2 -shared -static-libgcc -o $@ $^ -lws2_32

$(WIN_TEST)/blobtest.exe: tests/windows/standin/blobtest.c lib/windows/nt_api.h
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(WIN_CC) -std=gnu11 -D__USE_MINGW_ANSI_STDIO=1 $(WARNFLAGS) -O2 \
		-iquote lib -static -o $@ $< -lws2_32

$(WIN_TEST)/nt_tool.exe: tests/windows/nt_tool.c $(WIN_LIB_A)
	@mkdir -p $(dir $@)
	$(call echo_cmd,LD,$@)$(WIN_CC) $(WIN_CFLAGS) -iquote lib -static -o $@ $< $(WIN_LIB_A) \
		$(if $(WIN_SODIUM),-L$(WIN_SODIUM)/lib) -lsodium $(WIN_SYSLIBS)
# ---- end windows nt ----

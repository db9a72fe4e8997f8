# approve-exec — gate privileged commands behind policy, approval and evidence.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# The executable finds its module as ../lib/approve-exec/ext.so: LIBDIR
# sits beside BINDIR.
LIBDIR = $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/approve-exec
DESTDIR ?=

VERSION = 0.1.0
PKGS = yaml-0.1 libcurl jansson libgit2 libsodium libcrypto cjose
PKGS += libmicrohttpd sqlite3 libpq
PKGS += nettle zlib libdeflate
PKGS += libwebsockets

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# Linked into the executable statically: each shared library costs its
# start. Only libraries the module does not use, so that no two copies
# meet in one process (jansson is the module's too). STATIC_LIBS= for
# none.
STATIC_LIBS ?= yaml-0.1 libsodium libdeflate
STATIC_PKG_LIBS := $(if $(STATIC_LIBS),$(shell pkg-config --libs $(STATIC_LIBS)))
LD_STATIC = -Wl,-Bstatic
LD_DYNAMIC = -Wl,-Bdynamic
BIN_LIBS := $(if $(STATIC_LIBS),$(LD_STATIC) $(STATIC_PKG_LIBS) $(LD_DYNAMIC)) \
	$(filter-out $(STATIC_PKG_LIBS),$(PKG_LIBS))
CPPFLAGS += -D_GNU_SOURCE -DAE_VERSION='"$(VERSION)"' -Isrc

ifeq ($(SANITIZE),1)
O = build/asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
else
O = build/default
SANFLAGS =
endif

ALL_CFLAGS = $(CFLAGS) $(WARN) $(SANFLAGS) $(PKG_CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

SRC = $(sort $(wildcard src/*.c))
# The module loaded on first need (src/ext.h): every file that needs
# libcurl, cjose, libgit2's network and history walking, or the broker's
# libmicrohttpd, SQLite and libpq. One line each.
EXT_SRC += src/audit_git.c
EXT_SRC += src/audit_remote.c
EXT_SRC += src/audit_verify.c
EXT_SRC += src/audreport_git.c
EXT_SRC += src/broker.c
EXT_SRC += src/broker_conf.c
EXT_SRC += src/brokerhttp.c
EXT_SRC += src/chan_slack.c
EXT_SRC += src/ciid_oidc.c
EXT_SRC += src/ext_ops.c
EXT_SRC += src/http.c
EXT_SRC += src/jwt.c
EXT_SRC += src/oidc.c
EXT_SRC += src/page.c
EXT_SRC += src/page_html.c
EXT_SRC += src/slack.c
EXT_SRC += src/slack_socket.c
EXT_SRC += src/slack_socket_msg.c
EXT_SRC += src/slack_act.c
EXT_SRC += src/slack_msg.c
EXT_SRC += src/slack_msg_blocks.c
EXT_SRC += src/slackchan.c
EXT_SRC += src/slackpoll.c
EXT_SRC += src/store.c
EXT_SRC += src/store_pg.c
EXT_SRC += src/store_sqlite.c
EXT_SRC += src/teams.c
EXT_SRC += src/teams_auth.c
EXT_SRC += src/teams_bot.c
# sudo's approval and audit plugin (approve-exec-sudo(8)): a shared
# object of its own, libc only, never sanitized (sudo is setuid).
PLUGIN_SRC = src/sudo_plugin.c
SUDO_SO = $(O)/lib/approve-exec/approve_exec_sudo.so
MAIN_SRC = $(filter-out $(EXT_SRC) $(PLUGIN_SRC),$(SRC))
CMD = $(sort $(wildcard cmd/*.c))
UNIT = $(sort $(wildcard tests/unit/test_*.c))
BENCH = $(sort $(wildcard tests/bench/*.c))
HELPERS = $(sort $(wildcard tests/helpers/*.c))
FUZZ = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(FUZZ:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY = $(FUZZ_NAMES:%=$(O)/tests/unit/test_fuzz_%)
FUZZ_SECONDS ?= 60
SRC_OBJ = $(MAIN_SRC:%.c=$(O)/%.o) $(O)/gen/default_policy.o
EXT_OBJ = $(EXT_SRC:%.c=$(O)/pic/%.o)
EXT_SO = $(O)/lib/approve-exec/ext.so
CMD_OBJ = $(CMD:%.c=$(O)/%.o)
UNIT_BIN = $(UNIT:%.c=$(O)/%)
BENCH_BIN = $(BENCH:%.c=$(O)/%)
HELPER_BIN = $(HELPERS:%.c=$(O)/%)
BIN = $(O)/bin/approve-exec
MAN = $(sort $(wildcard man/*.[1-8]))

all: $(BIN) $(EXT_SO) $(SUDO_SO)
	@ln -sf bin/approve-exec $(O)/approve-exec
	@ln -sf $(O:build/%=%)/approve-exec build/approve-exec

$(O)/libae.a: $(SRC_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/libext.a: $(EXT_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The executable holds every object outside the module, exports its
# symbols for the module's calls back, and links only the libraries its
# objects use (--as-needed): what the module needs stays in the module.
$(BIN): $(CMD_OBJ) $(SRC_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $(CMD_OBJ) $(SRC_OBJ) \
		-Wl,--as-needed $(BIN_LIBS) -ldl

$(EXT_SO): $(EXT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $(EXT_OBJ) -Wl,--as-needed \
		$(PKG_LIBS)

# The plugin runs $(BINDIR)/approve-exec: rebuilt when BINDIR changes.
$(O)/gen/sudo_exec.h: FORCE
	@mkdir -p $(@D)
	@printf '#define AE_SUDO_EXEC "%s"\n' '$(BINDIR)/approve-exec' >$@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

$(SUDO_SO): $(PLUGIN_SRC) $(O)/gen/sudo_exec.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -DAE_VERSION='"$(VERSION)"' \
		-include $(O)/gen/sudo_exec.h -fPIC -fvisibility=hidden \
		-shared -o $@ $(PLUGIN_SRC)

FORCE:

# Programs that carry the module's objects themselves (src/ext.c uses
# their table) or, for the fuzz targets, only the ones they need.
AE_LIBS = -Wl,--start-group $(O)/libae.a $(O)/libext.a -Wl,--end-group
AE_LIBS_EXT = -Wl,-u,ext_table $(AE_LIBS)

$(O)/%.o: %.c $(wildcard src/*.h cmd/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/pic/%.o: %.c $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

# The shipped default policy, compiled into the binary.
$(O)/gen/default_policy.c: policies/default.yaml tests/gen-embed.sh
	@mkdir -p $(@D)
	sh tests/gen-embed.sh default_policy_yaml $< > $@

$(O)/gen/default_policy.o: $(O)/gen/default_policy.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/tests/unit/%: tests/unit/%.c $(O)/libae.a $(O)/libext.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(AE_LIBS_EXT) $(PKG_LIBS) \
		$(shell pkg-config --libs cmocka) $(ALL_LDFLAGS)

$(O)/tests/helpers/%: tests/helpers/%.c $(O)/libae.a $(O)/libext.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(AE_LIBS_EXT) $(PKG_LIBS) \
		$(ALL_LDFLAGS)

$(O)/tests/bench/%: tests/bench/%.c $(O)/libae.a $(O)/libext.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(AE_LIBS_EXT) $(PKG_LIBS) \
		$(ALL_LDFLAGS)

check: all $(UNIT_BIN) $(HELPER_BIN)
	AE_BUILD=$(O) sh tests/run.sh

# Fuzzing: the tests/fuzz targets with libFuzzer, ASan and UBSan, built
# with clang in build/fuzz; `make fuzz FUZZ_SECONDS=N` runs each for N
# seconds. `make check` replays their seeds and regressions (replay.c).
check: $(FUZZ_REPLAY)

$(O)/tests/unit/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c \
    tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $(O)/libae.a $(O)/libext.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -DFUZZ_NAME='"$*"' -o $@ \
		$(filter %.c,$^) $(AE_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS)

$(O)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c \
    $(wildcard tests/fuzz/*.h) $(O)/libae.a $(O)/libext.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $(filter %.c,$^) \
		$(AE_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS) -fsanitize=fuzzer

fuzz-build:
	$(MAKE) O=build/fuzz CC=clang CFLAGS='-O1 -g' \
		SANFLAGS='-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
		$(FUZZ_NAMES:%=build/fuzz/tests/fuzz/fuzz_%)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# LD_PRELOAD libraries for the tests: plain, whatever the build, since
# they stand between the program and libc.
PRELOAD = $(sort $(wildcard tests/helpers/preload/*.c))
PRELOAD_SO = $(PRELOAD:%.c=$(O)/%.so)
check: $(PRELOAD_SO)

$(O)/tests/helpers/preload/%.so: tests/helpers/preload/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -o $@ $< -ldl

# Every fault of every kind in the run sequence (a few minutes); make
# check runs the quick kinds only.
.PHONY: check-faults
check-faults: all $(HELPER_BIN) $(PRELOAD_SO)
	AE_BUILD=$(O) FAULTS_FULL=1 sh tests/system/t-faults.sh

bench: all $(BENCH_BIN)
	AE_BUILD=$(O) sh tests/bench/run.sh

lint-man:
	mandoc -Tlint -Wwarning $(MAN)

install: $(BIN) $(EXT_SO) $(SUDO_SO)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/approve-exec \
		$(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/policies
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/approve-exec
	install -m 0644 $(EXT_SO) $(DESTDIR)$(LIBDIR)/approve-exec/ext.so
	install -m 0644 $(SUDO_SO) \
		$(DESTDIR)$(LIBDIR)/approve-exec/approve_exec_sudo.so
	for m in $(MAN); do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	install -m 0644 policies/*.yaml $(DESTDIR)$(DATADIR)/policies/
	install -m 0644 man/approve-exec-api.yaml \
		man/approve-exec-serve.service $(DESTDIR)$(DATADIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/approve-exec
	rm -rf $(DESTDIR)$(LIBDIR)/approve-exec
	for m in $(MAN); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

.PHONY: all check bench lint-man install uninstall clean fuzz fuzz-build FORCE
.SUFFIXES:

# approve-exec — gate privileged commands behind policy, approval and evidence.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/approve-exec
DESTDIR ?=

VERSION = 0.1.0
PKGS = yaml-0.1 libcurl jansson libgit2 libsodium libcrypto cjose
PKGS += nettle zlib

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
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
CMD = $(sort $(wildcard cmd/*.c))
UNIT = $(sort $(wildcard tests/unit/test_*.c))
BENCH = $(sort $(wildcard tests/bench/*.c))
HELPERS = $(sort $(wildcard tests/helpers/*.c))
FUZZ = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(FUZZ:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY = $(FUZZ_NAMES:%=$(O)/tests/unit/test_fuzz_%)
FUZZ_SECONDS ?= 60
SRC_OBJ = $(SRC:%.c=$(O)/%.o) $(O)/gen/default_policy.o
CMD_OBJ = $(CMD:%.c=$(O)/%.o)
UNIT_BIN = $(UNIT:%.c=$(O)/%)
BENCH_BIN = $(BENCH:%.c=$(O)/%)
HELPER_BIN = $(HELPERS:%.c=$(O)/%)
BIN = $(O)/approve-exec
MAN = $(sort $(wildcard man/*.[1-8]))

all: $(BIN)
	@ln -sf $(BIN:build/%=%) build/approve-exec

$(O)/libae.a: $(SRC_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(CMD_OBJ) $(O)/libae.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(O)/libae.a $(PKG_LIBS)

$(O)/%.o: %.c $(wildcard src/*.h cmd/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The shipped default policy, compiled into the binary.
$(O)/gen/default_policy.c: policies/default.yaml tests/gen-embed.sh
	@mkdir -p $(@D)
	sh tests/gen-embed.sh default_policy_yaml $< > $@

$(O)/gen/default_policy.o: $(O)/gen/default_policy.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/tests/unit/%: tests/unit/%.c $(O)/libae.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libae.a $(PKG_LIBS) \
		$(shell pkg-config --libs cmocka) $(ALL_LDFLAGS)

$(O)/tests/helpers/%: tests/helpers/%.c $(O)/libae.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libae.a $(PKG_LIBS) $(ALL_LDFLAGS)

$(O)/tests/bench/%: tests/bench/%.c $(O)/libae.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libae.a $(PKG_LIBS) $(ALL_LDFLAGS)

check: $(BIN) $(UNIT_BIN) $(HELPER_BIN)
	AE_BUILD=$(O) sh tests/run.sh

# Fuzzing: the tests/fuzz targets with libFuzzer, ASan and UBSan, built
# with clang in build/fuzz; `make fuzz FUZZ_SECONDS=N` runs each for N
# seconds. `make check` replays their seeds and regressions (replay.c).
check: $(FUZZ_REPLAY)

$(O)/tests/unit/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c \
    tests/fuzz/replay.c tests/fuzz/fuzz.h $(O)/libae.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -DFUZZ_NAME='"$*"' -o $@ \
		$(filter %.c,$^) $(O)/libae.a $(PKG_LIBS) $(ALL_LDFLAGS)

$(O)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c \
    tests/fuzz/fuzz.h $(O)/libae.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $(filter %.c,$^) \
		$(O)/libae.a $(PKG_LIBS) $(ALL_LDFLAGS) -fsanitize=fuzzer

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
check-faults: $(BIN) $(HELPER_BIN) $(PRELOAD_SO)
	AE_BUILD=$(O) FAULTS_FULL=1 sh tests/system/t-faults.sh

bench: $(BIN) $(BENCH_BIN)
	AE_BUILD=$(O) sh tests/bench/run.sh

lint-man:
	mandoc -Tlint -Wwarning $(MAN)

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DATADIR)/policies
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/approve-exec
	for m in $(MAN); do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	install -m 0644 policies/*.yaml $(DESTDIR)$(DATADIR)/policies/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/approve-exec
	for m in $(MAN); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

.PHONY: all check bench lint-man install uninstall clean fuzz fuzz-build
.SUFFIXES:

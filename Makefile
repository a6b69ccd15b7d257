# cocoon: plain make. `make` builds ./cocoon; `make test` runs every test;
# `make bench` runs the benchmarks; `make SAN=1` builds with ASan+UBSan
# into build-san/ (binary build-san/cocoon).
CC ?= cc
SAN ?= 0
ifeq ($(SAN),1)
BUILD := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD := build
SANFLAGS :=
endif

WARN := -Wall -Wextra -Wno-unused-parameter
CFLAGS := -std=gnu17 -O2 -g $(WARN) -I. -D_GNU_SOURCE -pthread
# The stub runs inside guest host-processes: no libc, no sanitizers, no
# stack protector, nothing that references memory outside its section.
STUB_CFLAGS := -std=gnu17 -O2 $(WARN) -I. -D_GNU_SOURCE -fPIC -ffreestanding \
	-fno-builtin -fno-stack-protector -fno-jump-tables -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-exceptions -mgeneral-regs-only \
	-fno-sanitize=all -fvisibility=hidden \
	$(shell $(CC) -fno-reorder-blocks-and-partition -E -x c /dev/null >/dev/null 2>&1 && echo -fno-reorder-blocks-and-partition)

KERNEL_DIRS := cli kernel mm fs net ipc platform arch/x86_64
KERNEL_C := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c))
KERNEL_S := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.S))
STUB_C := $(wildcard stub/*.c)
STUB_S := $(wildcard stub/*.S)

KOBJ := $(patsubst %.c,$(BUILD)/%.o,$(KERNEL_C)) $(patsubst %.S,$(BUILD)/%.o,$(KERNEL_S))
SOBJ := $(patsubst %.c,$(BUILD)/%.o,$(STUB_C)) $(patsubst %.S,$(BUILD)/%.o,$(STUB_S))
# Objects without main(), for unit tests.
LIBOBJ := $(filter-out $(BUILD)/cli/main.o,$(KOBJ)) $(SOBJ)

ifeq ($(SAN),1)
all: $(BUILD)/cocoon
else
all: cocoon
cocoon: $(BUILD)/cocoon
	cp $< $@
endif

$(BUILD)/cocoon: $(KOBJ) $(SOBJ) $(BUILD)/stub.check
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(KOBJ) $(SOBJ)

$(BUILD)/stub/%.o: stub/%.c $(wildcard stub/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STUB_CFLAGS) -c -o $@ $<
$(BUILD)/stub/%.o: stub/%.S $(wildcard stub/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STUB_CFLAGS) -c -o $@ $<

# The stub must be self-contained: every relocation in its objects must
# stay inside the stub section.
$(BUILD)/stub.check: $(SOBJ) tools/check-stub.sh
	sh tools/check-stub.sh $(SOBJ)
	@touch $@

# ---- the vDSO -----------------------------------------------------------
# vdso/ is linked into a shared object of its own (vdso/vdso.lds and the
# version script vdso/vdso.map), checked by vdso/check.sh, stripped, and
# embedded in cocoon by kernel/vdso.c (.incbin). vdso/gen-syms.sh tells
# the kernel where each implementation is in it. No sanitizers, no stack
# protector: it runs in guests, without libc.
VDSO_SRC := $(wildcard vdso/*.c vdso/*.S)
VDSO_OBJ := $(addprefix $(BUILD)/,$(addsuffix .o,$(basename $(VDSO_SRC))))
VDSO_CFLAGS := -std=gnu17 -O2 $(WARN) -I. -fPIC -ffreestanding -fno-builtin \
	-fno-stack-protector -fcf-protection=none -fno-sanitize=all -fvisibility=hidden \
	-fasynchronous-unwind-tables -fno-common
VDSO_LDFLAGS := -shared -nostdlib -Wl,-T,vdso/vdso.lds -Wl,--version-script=vdso/vdso.map \
	-Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both -Wl,--eh-frame-hdr -Wl,-Bsymbolic \
	-Wl,--no-undefined -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--build-id=sha1

$(BUILD)/vdso/%.o: vdso/%.c $(wildcard vdso/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(VDSO_CFLAGS) -c -o $@ $<
$(BUILD)/vdso/%.o: vdso/%.S
	@mkdir -p $(dir $@)
	$(CC) $(VDSO_CFLAGS) -c -o $@ $<
$(BUILD)/vdso/vdso.dbg.so: $(VDSO_OBJ) vdso/vdso.lds vdso/vdso.map
	$(CC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) -o $@ $(VDSO_OBJ)
$(BUILD)/vdso/vdso.so: $(BUILD)/vdso/vdso.dbg.so vdso/check.sh
	objcopy --strip-all --remove-section=.comment $< $@
	sh vdso/check.sh $@ || { rm -f $@; false; }
$(BUILD)/vdso/vdso-syms.h: $(BUILD)/vdso/vdso.dbg.so vdso/gen-syms.sh
	sh vdso/gen-syms.sh $< > $@.tmp && mv $@.tmp $@
$(BUILD)/kernel/vdso.o: $(BUILD)/vdso/vdso.so $(BUILD)/vdso/vdso-syms.h
$(BUILD)/kernel/vdso.o: CFLAGS += -I$(BUILD)/vdso -DVDSO_IMAGE_PATH='"$(BUILD)/vdso/vdso.so"'

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(KOBJ:.o=.d)

# ---- tests -----------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $< $(LIBOBJ)
$(UNIT_BIN): CFLAGS += -I$(BUILD)/vdso

GUEST_SRC := $(wildcard tests/guest/*.c)
GUEST_BIN := $(patsubst tests/guest/%.c,$(BUILD)/tests/guest/%.glibc-static,$(GUEST_SRC)) \
	$(patsubst tests/guest/%.c,$(BUILD)/tests/guest/%.musl-static,$(GUEST_SRC)) \
	$(patsubst tests/guest/%.c,$(BUILD)/tests/guest/%.glibc-dynamic,$(GUEST_SRC))
GUEST_CFLAGS := -O1 -g -Wall -Wno-unused-result -D_GNU_SOURCE
$(BUILD)/tests/guest/%.glibc-static: tests/guest/%.c tests/guest/util.h stub/stub_abi.h
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -static -o $@ $<
$(BUILD)/tests/guest/%.glibc-dynamic: tests/guest/%.c tests/guest/util.h stub/stub_abi.h
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -o $@ $<
$(BUILD)/tests/guest/%.musl-static: tests/guest/%.c tests/guest/util.h stub/stub_abi.h
	@mkdir -p $(dir $@)
	musl-gcc $(GUEST_CFLAGS) -static -o $@ $<

test-programs: $(UNIT_BIN) $(GUEST_BIN)

test: all test-programs
	bash tests/run.sh $(BUILD)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/%: bench/%.c bench/bench.h
	@mkdir -p $(dir $@)
	gcc -O2 -static -o $@ $<
bench: all $(BENCH_BIN)
	bash bench/run.sh $(BUILD)

# The compatibility table is generated from the syscall table by cocoon
# itself; tests/run.sh checks the committed copy is current.
docs/SYSCALLS.md: cocoon
	./cocoon syscalls > $@

clean:
	rm -rf build build-san cocoon

.PHONY: all test test-programs bench clean

/* The sandbox's clock: one clock for the vDSO and the kernel.
 *
 * Guests read REALTIME, MONOTONIC, BOOTTIME, TAI, the COARSE clocks and
 * MONOTONIC_RAW in their vDSO from the TSC, scaled with data the kernel
 * publishes in the [vvar] page (vdso/vvar.h). The kernel reads the same
 * clocks from its own copy of that data with the same formula, so a value
 * a system call returns is never behind one the vDSO returned earlier.
 *
 * The sandbox boots at ktime_init: MONOTONIC and BOOTTIME start at zero
 * there. REALTIME is the host's plus an offset (--time-offset, --time).
 *
 * Keeping in step with the host: a thread samples the host's clocks every
 * REFRESH_NS and re-publishes each clock's value at the current TSC (so
 * nothing jumps) with a rate that removes the error to the host over about
 * SLEW_NS: the TSC rate measured since start-up, corrected by at most
 * MAX_SLEW_PPM. A clock behind by more than STEP_NS (the host slept with
 * the TSC stopped) is stepped forward; none ever steps back. Host steps of
 * REALTIME (and of BOOTTIME on suspend) pass through as such.
 *
 * Start-up does not wait for the TSC's calibration (CALIBRATE_NS) until
 * the first guest is about to run (ktime_wait_calibrated): meanwhile the
 * clock thread measures the rate and every clock is the host's, read by
 * the kernel; then the TSC lines take over a little ahead of it
 * (SWITCH_STEP_NS), so that none steps back.
 *
 * Without a usable TSC (or with --vdso=syscall) every clock is the host's
 * clock plus its sandbox offset, read by the kernel, and the page tells
 * the vDSO to make the system call. */
#include <cpuid.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include "kernel/ktime.h"
#include "vdso/vvar.h"

#define REFRESH_NS (250 * 1000000LL)
#define FIRST_REFRESH_NS (10 * 1000000LL) /* then doubling up to REFRESH_NS */
#define CALIBRATE_NS (2 * 1000000LL)
#define ROUGH_NS (100 * 1000LL)  /* enough for a rate that sizes spin budgets */
/* The TSC lines take over from the host's clocks this far ahead of them:
 * more than the error of a sample, so that no clock steps back then. */
#define SWITCH_STEP_NS (10 * 1000LL)
#define SLEW_NS NSEC_PER_SEC
#define MAX_SLEW_PPM 1000
#define STEP_NS (50 * 1000000LL)
#define JITTER_NS 100000 /* host offset changes below this are sampling noise */

/* One TSC-driven time line and the host clock it follows. */
struct line {
	clockid_t host;
	unsigned id;        /* its base in the page */
	int64_t origin;     /* host ns that is sandbox zero */
	uint64_t ref_tsc;   /* first sample: the rate is measured from it */
	int64_t ref_ns;
	uint64_t rate;      /* 2^-32 ns per cycle, as measured */
};

static struct {
	pthread_once_t once;
	bool calibrated;            /* the TSC lines have their rates */
	int init_err;
	pthread_mutex_t lock;       /* publishers */
	pthread_cond_t calibrated_cv; /* calibrated became true (lock) */
	struct vvar_clock kd;       /* the kernel's copy of the page's clock */
	struct vvar_page *page;     /* the guests' page, or NULL */
	bool host_only;             /* asked for: no TSC */
	bool tsc;                   /* clocks come from the TSC */
	bool rdtscp;
	bool real_set;              /* --time: real_epoch; else --time-offset */
	int64_t real_epoch, real_offset;
	int64_t boot_gap0;          /* host BOOTTIME - MONOTONIC at start */
	int64_t off_real, off_boot, off_tai; /* clock - sandbox MONOTONIC */
	struct line mono, raw;
} tk = {
	.once = PTHREAD_ONCE_INIT,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.calibrated_cv = PTHREAD_COND_INITIALIZER,
	.mono = { .host = CLOCK_MONOTONIC, .id = VCLOCK_MONOTONIC },
	.raw = { .host = CLOCK_MONOTONIC_RAW, .id = VCLOCK_MONOTONIC_RAW },
};

/* ---- the host ------------------------------------------------------------ */

static int64_t host_ns(clockid_t clk)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return (int64_t)t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi, aux;
	if (tk.rdtscp)
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	else
		__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* A host clock and the TSC at the same instant: the middle of the
 * tightest of a few TSC brackets around the read. */
static int64_t host_sample(clockid_t clk, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX;
	int64_t ns = 0;
	for (int i = 0; i < 5; i++) {
		uint64_t a = tsc_now();
		int64_t v = host_ns(clk);
		uint64_t b = tsc_now();
		if (b - a < best) {
			best = b - a;
			ns = v;
			*tsc = a + (b - a) / 2;
		}
	}
	return ns;
}

/* Host clock `clk` minus host clock `ref`, read as close together as
 * possible (ref read on both sides). */
static int64_t host_gap(clockid_t clk, clockid_t ref)
{
	int64_t best = INT64_MAX, gap = 0;
	for (int i = 0; i < 5; i++) {
		int64_t a = host_ns(ref), v = host_ns(clk), b = host_ns(ref);
		if (b - a < best) {
			best = b - a;
			gap = v - (a + (b - a) / 2);
		}
	}
	return gap;
}

static bool file_has_word(const char *path, const char *key, const char *word)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	size_t wl = strlen(word);
	while (!found && fgets(line, sizeof line, f)) {
		if (key && strncmp(line, key, strlen(key)))
			continue;
		for (char *p = strstr(line, word); p && !found; p = strstr(p + 1, word))
			found = (p == line || p[-1] == ' ' || p[-1] == '\t') &&
				(p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0');
		if (key)
			break; /* the first CPU's line says it for all */
	}
	fclose(f);
	return found;
}

/* The TSC can be the sandbox's clock when the host itself trusts it as
 * its clocksource and it ticks at a constant rate through every C-state. */
static bool tsc_usable(void)
{
	int mode = PR_TSC_ENABLE;
	if (prctl(PR_GET_TSC, &mode) == 0 && mode != PR_TSC_ENABLE)
		return false;
	return file_has_word("/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL,
			     "tsc") &&
	       file_has_word("/proc/cpuinfo", "flags", "constant_tsc") &&
	       file_has_word("/proc/cpuinfo", "flags", "nonstop_tsc");
}

bool ktime_cpu_has_rdtscp(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27));
}

/* ---- reading --------------------------------------------------------------- */

/* A clock of VCLOCK_PAGE_MASK from the kernel's copy, TSC mode. */
static uint64_t tsc_clock_ns(unsigned clk)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&tk.kd.seq, __ATOMIC_ACQUIRE);
		if (seq & 1) {
			__builtin_ia32_pause();
			continue;
		}
		uint64_t ns = vvar_clock_ns(&tk.kd, clk, tsc_now());
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&tk.kd.seq, __ATOMIC_RELAXED) == seq)
			return ns;
	}
}

/* The same clocks straight from the host's. */
static int64_t host_clock_ns(unsigned clk)
{
	switch (clk) {
	case VCLOCK_REALTIME: return host_ns(CLOCK_REALTIME) + tk.real_offset;
	case VCLOCK_REALTIME_COARSE: return host_ns(CLOCK_REALTIME_COARSE) + tk.real_offset;
	case VCLOCK_TAI: return host_ns(CLOCK_TAI) + tk.real_offset;
	case VCLOCK_MONOTONIC: return host_ns(CLOCK_MONOTONIC) - tk.mono.origin;
	case VCLOCK_MONOTONIC_COARSE: return host_ns(CLOCK_MONOTONIC_COARSE) - tk.mono.origin;
	case VCLOCK_MONOTONIC_RAW: return host_ns(CLOCK_MONOTONIC_RAW) - tk.raw.origin;
	case VCLOCK_BOOTTIME: return host_ns(CLOCK_BOOTTIME) - tk.mono.origin - tk.boot_gap0;
	}
	return 0;
}

int64_t ktime_sandbox_ns(clockid_t clk)
{
	ktime_init();
	/* Until the TSC is calibrated (the first ms of start-up), the
	 * host's clocks, which the TSC lines then continue. */
	bool tsc = tk.tsc && __atomic_load_n(&tk.calibrated, __ATOMIC_ACQUIRE);
	return tsc ? (int64_t)tsc_clock_ns((unsigned)clk) : host_clock_ns((unsigned)clk);
}

int64_t ktime_host_offset_ns(clockid_t clk, clockid_t host)
{
	/* The sample between the closest host readings: a VM's CPU can stall
	 * for 100 us or more between two of them, which would move the
	 * midpoint by half that. */
	int64_t best = 0, best_gap = INT64_MAX;
	for (int i = 0; i < 3; i++) {
		int64_t a = host_ns(host), s = ktime_sandbox_ns(clk), b = host_ns(host);
		if (b - a < best_gap) {
			best_gap = b - a;
			best = s - (a + (b - a) / 2);
		}
	}
	return best;
}

uint32_t ktime_res_ns(clockid_t clk)
{
	ktime_init();
	return ((1u << clk) & VCLOCK_COARSE_MASK) ? tk.kd.coarse_res_ns : tk.kd.hres_res_ns;
}

bool ktime_uses_tsc(void)
{
	ktime_init();
	return tk.tsc;
}

uint64_t ktime_tsc_per_us(void)
{
	ktime_init();
	if (!tk.tsc)
		return 0;
	if (__atomic_load_n(&tk.calibrated, __ATOMIC_ACQUIRE))
		return tk.mono.rate ? (uint64_t)((1000ULL << VCLOCK_SHIFT) / tk.mono.rate) : 0;
	/* Before the calibration: the rate since start, over ROUGH_NS at least. */
	uint64_t c;
	int64_t h;
	while ((h = host_sample(CLOCK_MONOTONIC, &c)) - tk.mono.ref_ns < ROUGH_NS)
		__builtin_ia32_pause();
	return (uint64_t)((c - tk.mono.ref_tsc) * 1000 / (uint64_t)(h - tk.mono.ref_ns));
}

/* ---- publishing ------------------------------------------------------------- */

/* A base as one number: 2^-32 ns since the clock's zero. */
typedef unsigned __int128 fixed_t;
#define FIXED_PER_SEC ((fixed_t)VCLOCK_NSEC_PER_SEC << VCLOCK_SHIFT)

static fixed_t base_fixed(const struct vvar_base *b)
{
	return b->sec * FIXED_PER_SEC + b->snsec;
}

static struct vvar_base fixed_base(fixed_t f)
{
	return (struct vvar_base){ (uint64_t)(f / FIXED_PER_SEC), (uint64_t)(f % FIXED_PER_SEC) };
}

static void add_ns(struct vvar_base *b, const struct vvar_base *from, int64_t ns)
{
	*b = fixed_base(base_fixed(from) + (fixed_t)((__int128)ns << VCLOCK_SHIFT));
}

/* The clocks that are a fixed distance from MONOTONIC. */
static void derive_bases(struct vvar_clock *vc)
{
	const struct vvar_base *m = &vc->base[VCLOCK_MONOTONIC];
	add_ns(&vc->base[VCLOCK_REALTIME], m, tk.off_real);
	add_ns(&vc->base[VCLOCK_BOOTTIME], m, tk.off_boot);
	add_ns(&vc->base[VCLOCK_TAI], m, tk.off_tai);
}

/* Copy the kernel's copy to the page, under the page's own counter. */
static void publish_page(void)
{
	if (!tk.page)
		return;
	struct vvar_clock *p = &tk.page->clock;
	uint32_t odd = p->seq | 1;
	__atomic_store_n(&p->seq, odd, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	struct vvar_clock c = tk.kd;
	c.seq = odd;
	memcpy(p, &c, sizeof c);
	__atomic_store_n(&p->seq, odd + 1, __ATOMIC_RELEASE);
}

/* Both counters odd before the TSC is read for the new data (the full
 * fence drains the store buffer first): a reader that still got the old
 * data read the TSC before that, so no clock can step back at the switch. */
static void write_begin(void)
{
	__atomic_store_n(&tk.kd.seq, tk.kd.seq + 1, __ATOMIC_RELAXED);
	if (tk.page)
		__atomic_store_n(&tk.page->clock.seq, tk.page->clock.seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void write_end(void)
{
	__atomic_store_n(&tk.kd.seq, tk.kd.seq + 1, __ATOMIC_RELEASE);
	publish_page();
}

/* The exact value of line clock `id` at TSC c, with the data as it is,
 * plus `step` ns. */
static struct vvar_base value_at(unsigned id, uint64_t c, int64_t step)
{
	uint64_t mult = id == VCLOCK_MONOTONIC_RAW ? tk.kd.raw_mult : tk.kd.mult;
	fixed_t v = base_fixed(&tk.kd.base[id]) + (fixed_t)vvar_cycles(&tk.kd, c) * mult;
	return fixed_base(v + ((fixed_t)step << VCLOCK_SHIFT));
}

/* The rate for the next interval: the measured one, corrected so that
 * the error `err` (host minus sandbox, ns) shrinks over about SLEW_NS. */
static uint64_t slewed_rate(const struct line *l, int64_t err)
{
	const int64_t max = SLEW_NS / 1000000 * MAX_SLEW_PPM;
	if (err > max)
		err = max;
	if (err < -max)
		err = -max;
	__int128 adj = (__int128)l->rate * err / SLEW_NS;
	return (uint64_t)((__int128)l->rate + adj);
}

/* Measure a line against the host and work out its next rate; returns
 * the error to step forward by (0 normally). */
static int64_t track(struct line *l, uint64_t *rate)
{
	uint64_t c;
	int64_t h = host_sample(l->host, &c);
	if (c <= l->ref_tsc) { /* the TSC went back (host suspend): restart */
		l->ref_tsc = c;
		l->ref_ns = h;
	} else if (h > l->ref_ns) {
		l->rate = (uint64_t)(((unsigned __int128)(h - l->ref_ns) << VCLOCK_SHIFT) / (c - l->ref_tsc));
	}
	int64_t err = (h - l->origin) - (int64_t)vvar_clock_ns(&tk.kd, l->id, c);
	*rate = slewed_rate(l, err);
	return err > STEP_NS ? err : 0;
}

/* TAI - REALTIME on the host: whole seconds (leap seconds). */
static int64_t host_tai_gap(void)
{
	int64_t tai = host_gap(CLOCK_TAI, CLOCK_REALTIME);
	return (tai + (tai < 0 ? -NSEC_PER_SEC : NSEC_PER_SEC) / 2) / NSEC_PER_SEC * NSEC_PER_SEC;
}

/* Follow host steps of REALTIME and BOOTTIME (and the TAI offset). */
static void track_offsets(void)
{
	int64_t real = host_gap(CLOCK_REALTIME, CLOCK_MONOTONIC) + tk.mono.origin + tk.real_offset;
	if (real - tk.off_real > JITTER_NS || tk.off_real - real > JITTER_NS)
		tk.off_real = real;
	int64_t boot = host_gap(CLOCK_BOOTTIME, CLOCK_MONOTONIC) - tk.boot_gap0;
	if (boot - tk.off_boot > JITTER_NS)
		tk.off_boot = boot; /* only grows: time spent suspended */
	tk.off_tai = tk.off_real + host_tai_gap();
}

static void refresh(void)
{
	pthread_mutex_lock(&tk.lock);
	uint64_t mult = tk.kd.mult, raw_mult = tk.kd.raw_mult;
	int64_t step = 0, raw_step = 0;
	if (tk.tsc) {
		step = track(&tk.mono, &mult);
		raw_step = track(&tk.raw, &raw_mult);
	}
	track_offsets();
	write_begin();
	if (tk.tsc) {
		/* Each line continues from its value now: no jump. */
		uint64_t c = tsc_now();
		struct vvar_base m = value_at(VCLOCK_MONOTONIC, c, step);
		struct vvar_base r = value_at(VCLOCK_MONOTONIC_RAW, c, raw_step);
		tk.kd.base[VCLOCK_MONOTONIC] = m;
		tk.kd.base[VCLOCK_MONOTONIC_RAW] = r;
		tk.kd.cycle_last = c;
		tk.kd.mult = mult;
		tk.kd.raw_mult = raw_mult;
	}
	derive_bases(&tk.kd);
	write_end();
	pthread_mutex_unlock(&tk.lock);
}

static void calibrate(void);

static void *refresher(void *arg)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (tk.tsc)
		calibrate();
	int64_t every = FIRST_REFRESH_NS;
	for (;;) {
		struct timespec d = { 0, every };
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) == EINTR)
			;
		refresh();
		every = MIN(every * 2, REFRESH_NS);
	}
	return arg;
}

void ktime_attach_vvar(struct vvar_page *page)
{
	ktime_init();
	pthread_mutex_lock(&tk.lock);
	page->clock.seq = 0;
	tk.page = page;
	publish_page();
	pthread_mutex_unlock(&tk.lock);
}

/* ---- start-up ----------------------------------------------------------------- */

void ktime_use_host_clocks(void)
{
	tk.host_only = true;
}

void ktime_set_realtime_offset(int64_t ns)
{
	tk.real_set = false;
	tk.real_offset = ns;
}

void ktime_set_realtime(int64_t epoch_ns)
{
	tk.real_set = true;
	tk.real_epoch = epoch_ns;
}

/* Start a line at zero at TSC c: the rate is measured over a short wait
 * now and then over ever longer spans by the refresher. */
static void line_start(struct line *l, uint64_t c0, int64_t h0)
{
	l->ref_tsc = c0;
	l->ref_ns = h0;
}

static void line_calibrate(struct line *l)
{
	uint64_t c;
	int64_t h = host_sample(l->host, &c);
	l->rate = (uint64_t)(((unsigned __int128)(h - l->ref_ns) << VCLOCK_SHIFT) / (c - l->ref_tsc));
}

static void ktime_start(void)
{
	struct timespec r;
	tk.rdtscp = ktime_cpu_has_rdtscp();
	tk.tsc = !tk.host_only && tsc_usable();

	/* Zero of MONOTONIC, and REALTIME from the same instant, so that
	 * REALTIME - MONOTONIC is exact (and REALTIME >= the --time epoch). */
	uint64_t c0 = 0, r0 = 0;
	int64_t real = host_gap(CLOCK_REALTIME, CLOCK_MONOTONIC);
	tk.mono.origin = host_sample(CLOCK_MONOTONIC, &c0);
	tk.raw.origin = host_sample(CLOCK_MONOTONIC_RAW, &r0);
	tk.boot_gap0 = host_gap(CLOCK_BOOTTIME, CLOCK_MONOTONIC);
	if (tk.real_set)
		tk.real_offset = tk.real_epoch - (tk.mono.origin + real);
	/* REALTIME at MONOTONIC 0: from 1970 to ten years before Linux's
	 * KTIME_MAX (2262), so that nothing overflows while it runs. */
	if (__builtin_add_overflow(tk.mono.origin + real, tk.real_offset, &tk.off_real) || tk.off_real < 0 ||
	    tk.off_real > INT64_MAX - 10 * 366 * 86400 * NSEC_PER_SEC) {
		tk.init_err = -EINVAL;
		return;
	}
	tk.off_boot = 0;
	tk.off_tai = tk.off_real + host_tai_gap();

	struct vvar_clock *vc = &tk.kd;
	long hz = ktime_hz();
	vc->tick_ns = (uint64_t)(NSEC_PER_SEC / hz);
	vc->hres_res_ns = clock_getres(CLOCK_MONOTONIC, &r) == 0 ? (uint32_t)r.tv_nsec : 1;
	vc->coarse_res_ns = clock_getres(CLOCK_MONOTONIC_COARSE, &r) == 0 ? (uint32_t)r.tv_nsec
									  : (uint32_t)vc->tick_ns;
	vc->mode = VVAR_MODE_NONE;
	if (tk.tsc) {
		line_start(&tk.mono, c0, tk.mono.origin);
		line_start(&tk.raw, r0, tk.raw.origin);
	}
	derive_bases(vc);

	/* The clock thread calibrates the TSC, then keeps the clocks in step
	 * with the host's: start-up goes on meanwhile. */
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, refresher, NULL) == 0)
		pthread_setname_np(t, "cocoon-clock");
	else if (tk.tsc)
		calibrate();
	pthread_attr_destroy(&a);
}

/* The TSC's rate over CALIBRATE_NS from start, then the clocks switch
 * from the host's to the TSC lines (and the [vvar] page from system
 * calls to the TSC). */
static void calibrate(void)
{
	int64_t left = tk.mono.ref_ns + CALIBRATE_NS - host_ns(CLOCK_MONOTONIC);
	struct timespec wait = { 0, MAX(left, 0) };
	while (left > 0 && clock_nanosleep(CLOCK_MONOTONIC, 0, &wait, &wait) == EINTR)
		;
	pthread_mutex_lock(&tk.lock);
	line_calibrate(&tk.mono);
	line_calibrate(&tk.raw);
	uint64_t c0 = tk.mono.ref_tsc, r0 = tk.raw.ref_tsc;
	/* The raw line, sampled at r0, is put at c0 by its rate. */
	int64_t raw_at_c0 = (int64_t)(((__int128)(int64_t)(c0 - r0) * (__int128)tk.raw.rate) >> VCLOCK_SHIFT);
	struct vvar_clock *vc = &tk.kd;
	write_begin();
	vc->cycle_last = c0;
	vc->mult = tk.mono.rate;
	vc->raw_mult = tk.raw.rate;
	vc->base[VCLOCK_MONOTONIC] = fixed_base((fixed_t)SWITCH_STEP_NS << VCLOCK_SHIFT);
	vc->base[VCLOCK_MONOTONIC_RAW] = fixed_base((fixed_t)(MAX(raw_at_c0, 0) + SWITCH_STEP_NS) << VCLOCK_SHIFT);
	vc->mode = VVAR_MODE_TSC;
	derive_bases(vc);
	write_end();
	__atomic_store_n(&tk.calibrated, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&tk.calibrated_cv);
	pthread_mutex_unlock(&tk.lock);
}

void ktime_wait_calibrated(void)
{
	if (ktime_init() || !tk.tsc)
		return;
	pthread_mutex_lock(&tk.lock);
	while (!__atomic_load_n(&tk.calibrated, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&tk.calibrated_cv, &tk.lock);
	pthread_mutex_unlock(&tk.lock);
}

int ktime_init(void)
{
	pthread_once(&tk.once, ktime_start);
	return tk.init_err;
}

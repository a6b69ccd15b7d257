/* The line discipline of the sandbox's pseudo-terminals, after Linux's
 * n_tty: input processing (ICRNL and friends, ISIG characters, IXON flow
 * control), canonical lines with ERASE, WERASE, KILL, LNEXT, REPRINT and
 * EOF, echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHONL, ECHOPRT), raw
 * reads, and output processing (OPOST, ONLCR, OCRNL, ONOCR, ONLRET,
 * OLCUC, XTABS), with the column bookkeeping tab erasure needs.
 *
 * The input buffer is a ring of LDISC_BUF bytes with free-running
 * indexes, like n_tty's: read_tail..canon_head holds complete lines (a
 * bit in rflags marks each line's end), canon_head..read_head the line
 * being edited. Echoes go to the master's queue at once (n_tty buffers
 * them only to survive a full driver; here a full queue drops them).
 * The caller (fs/pty.c) holds the pty's lock around every call. */
#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include "kernel/tty.h"

#define RMASK (LDISC_BUF - 1)
#define DISABLED_CHAR 0  /* _POSIX_VDISABLE; also what an EOF leaves in the buffer */

#define I(l, f) ((l)->termios.c_iflag & (f))
#define O(l, f) ((l)->termios.c_oflag & (f))
#define L(l, f) ((l)->termios.c_lflag & (f))
#define CC(l, v) ((l)->termios.c_cc[v])

/* ---- the master's queue -------------------------------------------------- */

size_t tq_put(struct tty_queue *q, const void *p, size_t n)
{
	const unsigned char *s = p;
	n = MIN(n, tq_room(q));
	for (size_t i = 0; i < n; i++)
		q->buf[(q->head + i) % q->cap] = s[i];
	q->head += n;
	return n;
}

size_t tq_get(struct tty_queue *q, void *p, size_t n)
{
	unsigned char *d = p;
	n = MIN(n, tq_count(q));
	for (size_t i = 0; i < n; i++)
		d[i] = q->buf[(q->tail + i) % q->cap];
	q->tail += n;
	return n;
}

/* ---- termios ---------------------------------------------------------- */

void ldisc_default_termios(struct ktermios *t)
{
	/* tty_std_termios with the pty slave's c_cflag (drivers/tty/pty.c) */
	static const uint8_t cc[KNCCS] = {
		[VINTR] = 003, [VQUIT] = 034, [VERASE] = 0177, [VKILL] = 025, [VEOF] = 004,
		[VTIME] = 0, [VMIN] = 1, [VSTART] = 021, [VSTOP] = 023, [VSUSP] = 032,
		[VREPRINT] = 022, [VDISCARD] = 017, [VWERASE] = 027, [VLNEXT] = 026,
	};
	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL | IXON;
	t->c_oflag = OPOST | ONLCR;
	t->c_cflag = B38400 | CS8 | CREAD;
	t->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(t->c_cc, cc, sizeof(cc));
	t->c_ispeed = t->c_ospeed = 38400;
}

static void reset_input(struct ldisc *l)
{
	l->read_head = l->read_tail = l->canon_head = l->line_start = 0;
	l->erasing = false;
	memset(l->rflags, 0, sizeof(l->rflags));
}

void ldisc_init(struct ldisc *l, struct tty_queue *out)
{
	memset(l, 0, sizeof(*l));
	l->out = out;
	ldisc_default_termios(&l->termios);
	l->icanon = true;
}

void ldisc_flush_input(struct ldisc *l)
{
	reset_input(l);
}

void ldisc_set_termios(struct ldisc *l, const struct ktermios *t)
{
	struct ktermios old = l->termios;
	l->termios = *t;
	if ((old.c_lflag ^ t->c_lflag) & ICANON) {
		memset(l->rflags, 0, sizeof(l->rflags));
		l->line_start = l->canon_head = l->read_tail;
		l->erasing = l->lnext = false;
	}
	l->icanon = L(l, ICANON);
	if (!I(l, IXON) && (old.c_iflag & IXON))
		l->stopped = false;
}

/* ---- the input buffer ------------------------------------------------- */

static size_t read_cnt(const struct ldisc *l) { return l->read_head - l->read_tail; }
static unsigned char rb(const struct ldisc *l, size_t i) { return l->rbuf[i & RMASK]; }
static void flag_set(struct ldisc *l, size_t i) { l->rflags[(i & RMASK) / 64] |= 1ULL << (i % 64); }
static void flag_clear(struct ldisc *l, size_t i) { l->rflags[(i & RMASK) / 64] &= ~(1ULL << (i % 64)); }
static bool flag_test(const struct ldisc *l, size_t i) { return l->rflags[(i & RMASK) / 64] >> (i % 64) & 1; }

static void put_input(struct ldisc *l, unsigned char c)
{
	if (read_cnt(l) < LDISC_BUF)
		l->rbuf[l->read_head++ & RMASK] = c;
}

/* Linux's receive_room(): room for more input. A canonical line that
 * fills the buffer still takes characters (erases, its end). */
static size_t room(const struct ldisc *l)
{
	long left = (long)LDISC_BUF - (long)read_cnt(l) * (I(l, PARMRK) ? 3 : 1) - 1;
	if (left <= 0)
		left = l->icanon && l->canon_head == l->read_tail;
	return left;
}

bool ldisc_readable(const struct ldisc *l, size_t amt)
{
	if (l->icanon)
		return l->canon_head != l->read_tail;
	return read_cnt(l) >= (amt ? amt : 1);
}

size_t ldisc_inq(const struct ldisc *l)
{
	if (!l->icanon)
		return read_cnt(l);
	size_t n = 0;
	for (size_t i = l->read_tail; i != l->canon_head; i++) /* EOFs are not data */
		n += !(flag_test(l, i) && rb(l, i) == DISABLED_CHAR);
	return n;
}

size_t ldisc_read(struct ldisc *l, unsigned char *buf, size_t n, bool *eof_push)
{
	*eof_push = false;
	n = MIN(n, read_cnt(l));
	if (!l->icanon) {
		for (size_t i = 0; i < n; i++)
			buf[i] = rb(l, l->read_tail + i);
		l->read_tail += n;
		return n;
	}
	/* One line at most, with its end; an EOF ends it without being data. */
	size_t len = 0, take;
	bool found = false;
	while (len < n && !found)
		found = flag_test(l, l->read_tail + len++);
	take = len;
	if (found && rb(l, l->read_tail + len - 1) == DISABLED_CHAR) {
		len--;
		*eof_push = !len && l->read_tail != l->line_start;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = rb(l, l->read_tail + i);
	if (found)
		flag_clear(l, l->read_tail + take - 1);
	l->read_tail += take;
	if (found)
		l->line_start = l->read_tail;
	return len;
}

/* ---- output processing ------------------------------------------------ */

static bool is_continuation(const struct ldisc *l, unsigned char c)
{
	return I(l, IUTF8) && (c & 0xc0) == 0x80;
}

/* Linux's do_output_char: one character with OPOST processing; false if
 * the master's queue has no room for all it makes. */
static bool output_char(struct ldisc *l, unsigned char c)
{
	struct tty_queue *q = l->out;
	size_t space = tq_room(q);
	if (!space)
		return false;
	switch (c) {
	case '\n':
		if (O(l, ONLRET))
			l->column = 0;
		if (O(l, ONLCR)) {
			if (space < 2)
				return false;
			l->canon_column = l->column = 0;
			tq_put(q, "\r\n", 2);
			return true;
		}
		l->canon_column = l->column;
		break;
	case '\r':
		if (O(l, ONOCR) && l->column == 0)
			return true;
		if (O(l, OCRNL)) {
			c = '\n';
			if (O(l, ONLRET))
				l->canon_column = l->column = 0;
			break;
		}
		l->canon_column = l->column = 0;
		break;
	case '\t': {
		unsigned spaces = 8 - (l->column & 7);
		if ((l->termios.c_oflag & TABDLY) == XTABS) {
			if (space < spaces)
				return false;
			l->column += spaces;
			tq_put(q, "        ", spaces);
			return true;
		}
		l->column += spaces;
		break;
	}
	case '\b':
		if (l->column > 0)
			l->column--;
		break;
	default:
		if (!iscntrl(c)) {
			if (O(l, OLCUC))
				c = toupper(c);
			if (!is_continuation(l, c))
				l->column++;
		}
		break;
	}
	tq_put(q, &c, 1);
	return true;
}

size_t ldisc_write(struct ldisc *l, const unsigned char *p, size_t n)
{
	if (l->stopped)
		return 0; /* IXON: ^S holds output */
	size_t i = 0;
	if (!O(l, OPOST))
		return tq_put(l->out, p, n);
	while (i < n && output_char(l, p[i]))
		i++;
	return i;
}

/* ---- echo ------------------------------------------------------------ */

static void echo_raw(struct ldisc *l, unsigned char c)
{
	if (O(l, OPOST))
		output_char(l, c);
	else
		tq_put(l->out, &c, 1);
}

/* A control character echoes as ^X with ECHOCTL (a tab as itself). */
static void echo_char(struct ldisc *l, unsigned char c)
{
	if (L(l, ECHOCTL) && iscntrl(c) && c != '\t') {
		if (tq_room(l->out) >= 2) {
			unsigned char pair[2] = { '^', c ^ 0100 };
			tq_put(l->out, pair, 2);
			l->column += 2;
		}
		return;
	}
	echo_raw(l, c);
}

static void backspaces(struct ldisc *l, unsigned n)
{
	while (n-- && tq_put(l->out, "\b", 1))
		if (l->column > 0)
			l->column--;
}

static void finish_erasing(struct ldisc *l)
{
	if (l->erasing) {
		echo_raw(l, '/');
		l->erasing = false;
	}
}

/* Erase a tab: back to where it started, counting the columns of what
 * follows the line's start or the previous tab. */
static void erase_tab(struct ldisc *l)
{
	unsigned cols = 0;
	bool after_tab = false;
	for (size_t i = l->read_head; i != l->canon_head; ) {
		unsigned char c = rb(l, --i);
		if (c == '\t') {
			after_tab = true;
			break;
		}
		if (iscntrl(c))
			cols += L(l, ECHOCTL) ? 2 : 0;
		else if (!is_continuation(l, c))
			cols++;
	}
	if (!after_tab)
		cols += l->canon_column;
	backspaces(l, 8 - (cols & 7));
}

enum kill_type { ERASE, WERASE, KILL };

/* Linux's eraser(): ERASE one character, WERASE a word, KILL the line. */
static void eraser(struct ldisc *l, unsigned char c)
{
	enum kill_type kind;
	if (l->read_head == l->canon_head)
		return;
	if (c == CC(l, VERASE)) {
		kind = ERASE;
	} else if (c == CC(l, VWERASE)) {
		kind = WERASE;
	} else {
		if (!L(l, ECHO)) {
			l->read_head = l->canon_head;
			return;
		}
		if (!L(l, ECHOK) || !L(l, ECHOKE) || !L(l, ECHOE)) {
			l->read_head = l->canon_head;
			finish_erasing(l);
			echo_char(l, CC(l, VKILL));
			if (L(l, ECHOK))
				echo_raw(l, '\n');
			return;
		}
		kind = KILL;
	}
	int seen_alnums = 0;
	while (l->read_head != l->canon_head) {
		size_t head = l->read_head;
		do { /* a whole UTF-8 character */
			head--;
			c = rb(l, head);
		} while (is_continuation(l, c) && head != l->canon_head);
		if (is_continuation(l, c))
			break;
		if (kind == WERASE) {
			if (isalnum(c) || c == '_')
				seen_alnums++;
			else if (seen_alnums)
				break;
		}
		size_t cnt = l->read_head - head;
		l->read_head = head;
		if (L(l, ECHO)) {
			if (L(l, ECHOPRT)) {
				if (!l->erasing) {
					echo_raw(l, '\\');
					l->erasing = true;
				}
				echo_char(l, c);
				while (--cnt > 0) {
					echo_raw(l, rb(l, ++head));
					if (l->column > 0)
						l->column--;
				}
			} else if (kind == ERASE && !L(l, ECHOE)) {
				echo_char(l, CC(l, VERASE));
			} else if (c == '\t') {
				erase_tab(l);
			} else {
				if (iscntrl(c) && L(l, ECHOCTL)) { /* ^X takes two columns */
					echo_raw(l, '\b'); echo_raw(l, ' '); echo_raw(l, '\b');
				}
				if (!iscntrl(c) || L(l, ECHOCTL)) {
					echo_raw(l, '\b'); echo_raw(l, ' '); echo_raw(l, '\b');
				}
			}
		}
		if (kind == ERASE)
			break;
	}
	if (l->read_head == l->canon_head && L(l, ECHO))
		finish_erasing(l);
}

/* ---- input processing -------------------------------------------------- */

static bool raw_mode(const struct ldisc *l)
{
	return !(I(l, ISTRIP | IUCLC | IGNCR | ICRNL | INLCR | IXON | PARMRK) ||
		 L(l, ICANON | ISIG | ECHO));
}

/* A character that is plain data: echoed and queued. A newline that
 * came through the special characters' path (a translated CR, in
 * non-canonical mode) echoes as itself, like n_tty's. */
static void receive_plain(struct ldisc *l, unsigned char c, bool special)
{
	if (l->stopped && I(l, IXON) && I(l, IXANY))
		l->stopped = false;
	if (L(l, ECHO)) {
		finish_erasing(l);
		if (c == '\n' && special) {
			echo_raw(l, '\n');
		} else {
			if (l->canon_head == l->read_head)
				l->canon_column = l->column;
			echo_char(l, c);
		}
	}
	if (c == 0377 && I(l, PARMRK))
		put_input(l, c);
	/* In a full canonical line only its end still fits. */
	if (!l->icanon || read_cnt(l) < LDISC_BUF - 1)
		put_input(l, c);
}

static void end_line(struct ldisc *l, unsigned char c)
{
	flag_set(l, l->read_head);
	put_input(l, c);
	l->canon_head = l->read_head;
}

static void signal_char(struct ldisc *l, int sig, unsigned char c, struct ldisc_effect *e)
{
	if (!L(l, NOFLSH))
		reset_input(l);
	if (I(l, IXON))
		l->stopped = false;
	if (L(l, ECHO))
		echo_char(l, c);
	e->sig = sig;
}

static bool is_cc(const struct ldisc *l, unsigned char c, int v)
{
	return c == CC(l, v);
}

/* Linux's char_map: the characters n_tty looks at one by one. */
static bool is_special(const struct ldisc *l, unsigned char c)
{
	if (c == DISABLED_CHAR)
		return false;
	if ((c == '\r' && I(l, IGNCR | ICRNL)) || (c == '\n' && I(l, INLCR)))
		return true;
	if (L(l, ICANON) && (is_cc(l, c, VERASE) || is_cc(l, c, VKILL) || is_cc(l, c, VEOF) ||
			     c == '\n' || is_cc(l, c, VEOL) ||
			     (L(l, IEXTEN) && (is_cc(l, c, VWERASE) || is_cc(l, c, VLNEXT) ||
					       is_cc(l, c, VEOL2) || (L(l, ECHO) && is_cc(l, c, VREPRINT))))))
		return true;
	if (I(l, IXON) && (is_cc(l, c, VSTART) || is_cc(l, c, VSTOP)))
		return true;
	return L(l, ISIG) && (is_cc(l, c, VINTR) || is_cc(l, c, VQUIT) || is_cc(l, c, VSUSP));
}

/* n_tty_receive_char_special(): one character (after ISTRIP/IUCLC). */
static void receive_char(struct ldisc *l, unsigned char c, struct ldisc_effect *e)
{
	if (!is_special(l, c)) {
		receive_plain(l, c, false);
		return;
	}
	if (I(l, IXON)) {
		if (c == CC(l, VSTART)) {
			l->stopped = false;
			return;
		}
		if (c == CC(l, VSTOP)) {
			l->stopped = true;
			return;
		}
	}
	if (L(l, ISIG)) {
		int sig = c == CC(l, VINTR) ? SIGINT : c == CC(l, VQUIT) ? SIGQUIT
			: c == CC(l, VSUSP) ? SIGTSTP : 0;
		if (sig) {
			signal_char(l, sig, c, e);
			return;
		}
	}
	if (l->stopped && I(l, IXON) && I(l, IXANY))
		l->stopped = false;
	if (c == '\r') {
		if (I(l, IGNCR))
			return;
		if (I(l, ICRNL))
			c = '\n';
	} else if (c == '\n' && I(l, INLCR)) {
		c = '\r';
	}
	if (l->icanon) {
		if (c == CC(l, VERASE) || c == CC(l, VKILL) || (c == CC(l, VWERASE) && L(l, IEXTEN))) {
			eraser(l, c);
			return;
		}
		if (c == CC(l, VLNEXT) && L(l, IEXTEN)) {
			l->lnext = true;
			if (L(l, ECHO)) {
				finish_erasing(l);
				if (L(l, ECHOCTL)) {
					echo_raw(l, '^');
					echo_raw(l, '\b');
				}
			}
			return;
		}
		if (c == CC(l, VREPRINT) && L(l, ECHO) && L(l, IEXTEN)) {
			finish_erasing(l);
			echo_char(l, c);
			echo_raw(l, '\n');
			for (size_t i = l->canon_head; i != l->read_head; i++)
				echo_char(l, rb(l, i));
			return;
		}
		if (c == '\n') {
			if (L(l, ECHO) || L(l, ECHONL))
				echo_raw(l, '\n');
			end_line(l, c);
			return;
		}
		if (c == CC(l, VEOF)) {
			end_line(l, DISABLED_CHAR);
			return;
		}
		if (c == CC(l, VEOL) || (c == CC(l, VEOL2) && L(l, IEXTEN))) {
			if (L(l, ECHO)) {
				if (l->canon_head == l->read_head)
					l->canon_column = l->column;
				echo_char(l, c);
			}
			if (c == 0377 && I(l, PARMRK))
				put_input(l, c);
			end_line(l, c);
			return;
		}
	}
	receive_plain(l, c, true);
}

size_t ldisc_receive(struct ldisc *l, const unsigned char *p, size_t n, struct ldisc_effect *e)
{
	size_t i = 0;
	e->sig = 0;
	e->flushed_out = false;
	while (i < n && room(l)) {
		unsigned char c = p[i++];
		if (raw_mode(l)) {
			put_input(l, c);
			continue;
		}
		if (I(l, ISTRIP))
			c &= 0x7f;
		if (I(l, IUCLC) && L(l, IEXTEN))
			c = tolower(c);
		if (l->lnext) { /* the character after ^V is data */
			l->lnext = false;
			receive_plain(l, c, false);
			continue;
		}
		receive_char(l, c, e);
		if (e->sig)
			break;
	}
	return i;
}

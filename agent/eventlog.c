/* The event log: a ring in memory for agentctl, JSON lines on disk.
 *
 * The ring is the record the agent serves; the file is a convenience for
 * after the fact.  Each event is appended with one write() to an O_APPEND
 * descriptor, so concurrent readers (tail -f, jq) see whole lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eventlog.h"

/* Longest line: every byte of text and kind escaped as \uXXXX (6 bytes),
 * plus five 20-digit numbers, the time and the field names. */
#define EVENTLOG_LINE_MAX (6 * (EVENTLOG_TEXT_MAX + 16) + 256)

struct eventlog_buf {
	char *p;
	size_t len, cap;
};

int
eventlog_open(struct eventlog *log, const char *dir)
{
	char path[4096];
	int n;

	if (!log)
		return -EINVAL;
	memset(log, 0, sizeof(*log));
	log->next_id = 1;
	log->fd = -1;
	if (!dir)
		return 0;

	/* On error the log still works, in memory only: callers may go on
	 * without the file rather than without events. */
	n = snprintf(path, sizeof(path), "%s/%s", dir, EVENTLOG_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		       O_NOCTTY, 0600);
	if (log->fd < 0)
		return -errno;
	return 0;
}

void
eventlog_close(struct eventlog *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

/* Length of the UTF-8 sequence that starts at s (at most n bytes), or 0
 * when it is not a valid, complete, shortest-form sequence. */
static size_t
eventlog_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* Overlong forms, UTF-16 surrogates and > U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

/* After a truncating snprintf: drop a multi-byte character cut in two. */
static void
eventlog_trim_utf8(char *s)
{
	size_t len = strlen(s), i, back;

	for (back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = (unsigned char)s[len - back];

		if (c < 0x80)
			return;         /* ASCII: nothing cut */
		if (c >= 0xc0) {        /* lead byte of the last sequence */
			i = len - back;
			if (eventlog_utf8_len((const unsigned char *)s + i,
					      back) != back)
				s[i] = '\0';
			return;
		}
	}
}

static void
eventlog_putc(struct eventlog_buf *b, char c)
{
	/* One byte is kept for the terminating NUL. */
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void
eventlog_puts(struct eventlog_buf *b, const char *s)
{
	while (*s)
		eventlog_putc(b, *s++);
}

static void
eventlog_printf(struct eventlog_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
eventlog_printf(struct eventlog_buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	eventlog_puts(b, tmp);
}

/* A JSON string (RFC 8259): quotes, backslash and control characters
 * escaped; bytes that are not valid UTF-8 become U+FFFD, so that every
 * line stays parseable whatever a VM or host name contained. */
static void
eventlog_put_json(struct eventlog_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), len, i;

	eventlog_putc(b, '"');
	while (n > 0) {
		switch (*s) {
		case '"':  eventlog_puts(b, "\\\""); break;
		case '\\': eventlog_puts(b, "\\\\"); break;
		case '\b': eventlog_puts(b, "\\b"); break;
		case '\f': eventlog_puts(b, "\\f"); break;
		case '\n': eventlog_puts(b, "\\n"); break;
		case '\r': eventlog_puts(b, "\\r"); break;
		case '\t': eventlog_puts(b, "\\t"); break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				eventlog_printf(b, "\\u%04x", *s);
				break;
			}
			len = eventlog_utf8_len(s, n);
			if (len == 0) {
				eventlog_puts(b, "\\ufffd");
				break;
			}
			for (i = 0; i < len; i++)
				eventlog_putc(b, (char)s[i]);
			s += len;
			n -= len;
			continue;
		}
		s++;
		n--;
	}
	eventlog_putc(b, '"');
}

static void
eventlog_format_line(const struct event *ev, char *line, size_t cap)
{
	struct eventlog_buf b = { .p = line, .len = 0, .cap = cap };
	time_t sec = (time_t)(ev->time_ms / 1000);
	char when[32] = "";
	struct tm tm;

	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

	line[0] = '\0';
	eventlog_printf(&b, "{\"id\":%llu,\"time_ms\":%llu,",
			(unsigned long long)ev->id,
			(unsigned long long)ev->time_ms);
	eventlog_printf(&b, "\"time\":\"%s.%03uZ\",", when,
			(unsigned)(ev->time_ms % 1000));
	eventlog_printf(&b, "\"epoch\":%llu,\"seq\":%llu,\"node\":%u,",
			(unsigned long long)ev->epoch,
			(unsigned long long)ev->seq, (unsigned)ev->node);
	eventlog_puts(&b, "\"kind\":");
	eventlog_put_json(&b, ev->kind);
	eventlog_puts(&b, ",\"text\":");
	eventlog_put_json(&b, ev->text);
	eventlog_puts(&b, "}\n");
}

const struct event *
eventlog_add(struct eventlog *log, uint64_t epoch, uint64_t seq,
	     uint32_t node, const char *kind, const char *fmt, ...)
{
	char line[EVENTLOG_LINE_MAX];
	struct event *ev;
	struct timespec ts;
	ssize_t ignored;
	va_list ap;
	int n;

	if (!log || log->next_id == 0)
		return NULL;
	ev = &log->ring[(log->next_id - 1) % EVENTLOG_RING];
	memset(ev, 0, sizeof(*ev));
	ev->id = log->next_id++;
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		ev->time_ms = (uint64_t)ts.tv_sec * 1000 +
			      (uint64_t)ts.tv_nsec / 1000000;
	ev->epoch = epoch;
	ev->seq = seq;
	ev->node = node;
	n = snprintf(ev->kind, sizeof(ev->kind), "%s", kind ? kind : "");
	if (n > 0 && (size_t)n >= sizeof(ev->kind))
		eventlog_trim_utf8(ev->kind);
	if (fmt) {
		va_start(ap, fmt);
		n = vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
		va_end(ap);
		if (n < 0)
			snprintf(ev->text, sizeof(ev->text), "(bad format)");
		else if ((size_t)n >= sizeof(ev->text))
			eventlog_trim_utf8(ev->text);
	}

	if (log->fd >= 0) {
		eventlog_format_line(ev, line, sizeof(line));
		/*
		 * Errors are ignored by design: the event is already in the
		 * ring, which is what agentctl reads; the file is a
		 * secondary copy.  A full or failing disk must not stop the
		 * agent from recording and serving events, retrying would
		 * block the event loop, and the caller could do nothing
		 * better.  A short write leaves a partial last line, which
		 * readers of JSON lines skip.
		 */
		ignored = write(log->fd, line, strlen(line));
		(void)ignored;
	}
	return ev;
}

size_t
eventlog_since(const struct eventlog *log, uint64_t since,
	       const struct event **out, size_t max, uint64_t *next)
{
	uint64_t oldest, start, avail, i;
	size_t count;

	if (!log || log->next_id == 0) {
		if (next)
			*next = 1;
		return 0;
	}
	oldest = log->next_id > EVENTLOG_RING ?
		 log->next_id - EVENTLOG_RING : 1;
	/* Older than the ring: what is left, from the oldest kept.  Beyond
	 * the newest (e.g. a client that saw a previous run of the agent,
	 * whose ids were higher): nothing, and next points at our next id
	 * so that the client picks up from here. */
	start = since < oldest ? oldest : since;
	if (start > log->next_id)
		start = log->next_id;
	avail = log->next_id - start;
	count = out ? (avail < max ? (size_t)avail : max) : 0;
	for (i = 0; i < count; i++)
		out[i] = &log->ring[(start + i - 1) % EVENTLOG_RING];
	if (next)
		*next = start + count;
	return count;
}

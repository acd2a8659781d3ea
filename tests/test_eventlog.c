/* Tests of agent/eventlog.c: the ring, since(), and the JSON lines. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eventlog.h"

/*
 * A settable wall clock: this definition interposes on libc's for the
 * whole test binary (eventlog.c included), so a line can be compared with
 * a time worked out by hand.  Negative: the real clock.
 */
static long long fake_ms = -1;

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (fake_ms >= 0 && clk == CLOCK_REALTIME) {
		ts->tv_sec = (time_t)(fake_ms / 1000);
		ts->tv_nsec = (long)(fake_ms % 1000) * 1000000 + 999999;
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, clk, ts);
}

struct fixture {
	struct eventlog log;    /* large: on the heap, not the stack */
	char dir[64];
	char file[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_eventlog.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, EVENTLOG_FILE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	eventlog_close(&f->log);
	(void)unlink(f->file);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *
read_text(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;

	assert_non_null(fp);
	if (getdelim(&buf, &cap, '\0', fp) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(fp);
	assert_non_null(buf);
	return buf;
}

/* The line eventlog must have written for ev, from an independent
 * formatting of its time; text_json is the expected escaped text. */
static void
expected_line(char *out, size_t len, const struct event *ev,
	      const char *kind_json, const char *text_json)
{
	time_t sec = (time_t)(ev->time_ms / 1000);
	char when[32];
	struct tm tm;

	assert_non_null(gmtime_r(&sec, &tm));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "{\"id\":%llu,\"time_ms\":%llu,\"time\":"
		 "\"%s.%03uZ\",\"epoch\":%llu,\"seq\":%llu,\"node\":%u,"
		 "\"kind\":\"%s\",\"text\":\"%s\"}\n",
		 (unsigned long long)ev->id, (unsigned long long)ev->time_ms,
		 when, (unsigned)(ev->time_ms % 1000),
		 (unsigned long long)ev->epoch, (unsigned long long)ev->seq,
		 ev->node, kind_json, text_json);
}

/* ---- invalid input ---------------------------------------------------- */

static void
test_invalid_args(void **state)
{
	struct fixture *f = *state;
	const struct event *out[4];
	uint64_t next = 99;

	assert_int_equal(eventlog_open(NULL, NULL), -EINVAL);
	assert_null(eventlog_add(NULL, 0, 0, 0, "state", "x"));
	assert_int_equal(eventlog_since(NULL, 0, out, 4, &next), 0);
	assert_int_equal(next, 1);
	eventlog_close(NULL);

	/* Never opened (zeroed): refused, not written to fd 0. */
	memset(&f->log, 0, sizeof(f->log));
	f->log.fd = -1;
	assert_null(eventlog_add(&f->log, 0, 0, 0, "state", "x"));
}

/* The file cannot be opened: the log still works in memory. */
static void
test_open_missing_dir(void **state)
{
	struct fixture *f = *state;
	const struct event *ev, *out[2];
	uint64_t next;

	assert_int_equal(eventlog_open(&f->log, "/nonexistent/xenmesh"),
			 -ENOENT);
	assert_int_equal(f->log.fd, -1);
	ev = eventlog_add(&f->log, 1, 2, 3, "quorum", "lost");
	assert_non_null(ev);
	assert_int_equal(ev->id, 1);
	assert_int_equal(eventlog_since(&f->log, 0, out, 2, &next), 1);
	assert_ptr_equal(out[0], ev);
	assert_string_equal(out[0]->text, "lost");
}

/* A write that fails keeps the ring entry. */
static void
test_write_failure_keeps_event(void **state)
{
	struct fixture *f = *state;
	const struct event *ev, *out[2];
	uint64_t next;

	assert_int_equal(eventlog_open(&f->log, NULL), 0);
	/* A read-only descriptor: every write fails with EBADF. */
	f->log.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(f->log.fd >= 0);
	ev = eventlog_add(&f->log, 4, 5, 6, "membership", "node %u left", 6);
	assert_non_null(ev);
	assert_int_equal(ev->id, 1);
	assert_string_equal(ev->text, "node 6 left");
	assert_int_equal(eventlog_since(&f->log, 1, out, 2, &next), 1);
	assert_ptr_equal(out[0], ev);
	assert_int_equal(next, 2);
}

static void
test_truncation(void **state)
{
	struct fixture *f = *state;
	const struct event *ev;
	char want[EVENTLOG_TEXT_MAX];

	assert_int_equal(eventlog_open(&f->log, NULL), 0);

	/* Plain ASCII: cut at 255 bytes, terminated. */
	ev = eventlog_add(&f->log, 0, 0, 0, "a-kind-much-too-long", "%0400d",
			  7);
	assert_int_equal(strlen(ev->text), EVENTLOG_TEXT_MAX - 1);
	memset(want, '0', sizeof(want));
	want[EVENTLOG_TEXT_MAX - 1] = '\0';
	assert_string_equal(ev->text, want);
	assert_string_equal(ev->kind, "a-kind-much-too");

	/* A two-byte character across the limit is dropped whole, never
	 * left half (invalid UTF-8 in the log). */
	ev = eventlog_add(&f->log, 0, 0, 0, "state", "%.*s\xc3\xa9tail",
			  EVENTLOG_TEXT_MAX - 2, want);
	assert_int_equal(strlen(ev->text), EVENTLOG_TEXT_MAX - 2);
	assert_memory_equal(ev->text, want, EVENTLOG_TEXT_MAX - 2);
	/* One that fits exactly is kept. */
	ev = eventlog_add(&f->log, 0, 0, 0, "state", "%.*s\xc3\xa9tail",
			  EVENTLOG_TEXT_MAX - 3, want);
	assert_int_equal(strlen(ev->text), EVENTLOG_TEXT_MAX - 1);
	assert_string_equal(ev->text + EVENTLOG_TEXT_MAX - 3, "\xc3\xa9");
	/* Three bytes (U+20AC) cut after two. */
	ev = eventlog_add(&f->log, 0, 0, 0, "state", "%.*s\xe2\x82\xac",
			  EVENTLOG_TEXT_MAX - 3, want);
	assert_int_equal(strlen(ev->text), EVENTLOG_TEXT_MAX - 3);
	/* Kind: a character cut at 15 bytes. */
	ev = eventlog_add(&f->log, 0, 0, 0, "abcdefghijklmn\xc3\xa9", "x");
	assert_string_equal(ev->kind, "abcdefghijklmn");
}

/* ---- the ring and since() --------------------------------------------- */

static void
test_empty(void **state)
{
	struct fixture *f = *state;
	const struct event *out[4];
	uint64_t next = 0;

	assert_int_equal(eventlog_open(&f->log, NULL), 0);
	assert_int_equal(f->log.next_id, 1);
	assert_int_equal(eventlog_since(&f->log, 0, out, 4, &next), 0);
	assert_int_equal(next, 1);
	assert_int_equal(eventlog_since(&f->log, 1, out, 4, &next), 0);
	assert_int_equal(next, 1);
}

static void
test_ids_and_since(void **state)
{
	struct fixture *f = *state;
	const struct event *e[4], *out[8];
	uint64_t next = 0, before, after;
	int i;

	assert_int_equal(eventlog_open(&f->log, NULL), 0);
	before = now_ms();
	for (i = 0; i < 4; i++)
		e[i] = eventlog_add(&f->log, 2, 10 + (uint64_t)i, (uint32_t)i,
				    "state", "event %d", i + 1);
	after = now_ms();
	for (i = 0; i < 4; i++) {
		assert_int_equal(e[i]->id, (uint64_t)i + 1);
		assert_int_equal(e[i]->epoch, 2);
		assert_int_equal(e[i]->seq, 10 + (uint64_t)i);
		assert_int_equal(e[i]->node, (uint32_t)i);
		assert_string_equal(e[i]->kind, "state");
		assert_true(e[i]->time_ms >= before && e[i]->time_ms <= after);
	}
	assert_string_equal(e[3]->text, "event 4");

	/* 0 and 1: everything, oldest first. */
	assert_int_equal(eventlog_since(&f->log, 0, out, 8, &next), 4);
	assert_int_equal(next, 5);
	for (i = 0; i < 4; i++)
		assert_ptr_equal(out[i], e[i]);
	assert_int_equal(eventlog_since(&f->log, 1, out, 8, &next), 4);

	/* From the middle, then limited by max. */
	assert_int_equal(eventlog_since(&f->log, 3, out, 8, &next), 2);
	assert_ptr_equal(out[0], e[2]);
	assert_ptr_equal(out[1], e[3]);
	assert_int_equal(next, 5);
	assert_int_equal(eventlog_since(&f->log, 1, out, 3, &next), 3);
	assert_ptr_equal(out[2], e[2]);
	assert_int_equal(next, 4);
	assert_int_equal(eventlog_since(&f->log, next, out, 3, &next), 1);
	assert_ptr_equal(out[0], e[3]);
	assert_int_equal(next, 5);
	assert_int_equal(eventlog_since(&f->log, 1, out, 0, &next), 0);
	assert_int_equal(next, 1);

	/* Nothing new; and beyond the newest (a client of an earlier run). */
	assert_int_equal(eventlog_since(&f->log, 5, out, 8, &next), 0);
	assert_int_equal(next, 5);
	assert_int_equal(eventlog_since(&f->log, 1000, out, 8, &next), 0);
	assert_int_equal(next, 5);
	/* next may be NULL. */
	assert_int_equal(eventlog_since(&f->log, 4, out, 8, NULL), 1);
}

static void
test_wraparound(void **state)
{
	struct fixture *f = *state;
	const struct event **out;
	const uint64_t total = EVENTLOG_RING + 10;
	const struct event *last = NULL;
	uint64_t i, next = 0;
	char want[32];
	size_t n;

	out = calloc(EVENTLOG_RING + 1, sizeof(*out));
	assert_non_null(out);
	assert_int_equal(eventlog_open(&f->log, NULL), 0);
	for (i = 1; i <= total; i++)
		last = eventlog_add(&f->log, 1, i, 0, "state", "e%llu",
				    (unsigned long long)i);
	assert_int_equal(last->id, total);

	/* Older than the ring: from the oldest kept (id 11). */
	n = eventlog_since(&f->log, 1, out, EVENTLOG_RING + 1, &next);
	assert_int_equal(n, EVENTLOG_RING);
	assert_int_equal(next, total + 1);
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i]->id, 11 + i);
		snprintf(want, sizeof(want), "e%llu",
			 (unsigned long long)(11 + i));
		assert_string_equal(out[i]->text, want);
	}
	assert_int_equal(eventlog_since(&f->log, 10, out, 2, &next), 2);
	assert_int_equal(out[0]->id, 11);
	assert_int_equal(next, 13);
	assert_int_equal(eventlog_since(&f->log, 11, out, 1, &next), 1);
	assert_int_equal(out[0]->id, 11);

	/* Across the seam of the ring. */
	assert_int_equal(eventlog_since(&f->log, EVENTLOG_RING - 1, out, 8,
					&next), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(out[i]->id, EVENTLOG_RING - 1 + i);
	assert_int_equal(eventlog_since(&f->log, total, out, 8, &next), 1);
	assert_ptr_equal(out[0], last);
	assert_int_equal(eventlog_since(&f->log, total + 1, out, 8, &next), 0);
	assert_int_equal(next, total + 1);
	free(out);
}

/* ---- the file --------------------------------------------------------- */

static void
test_json_line(void **state)
{
	struct fixture *f = *state;
	const struct event *e1, *e2;
	char want[2048], l1[1024], l2[1024];
	char *got;

	assert_int_equal(eventlog_open(&f->log, f->dir), 0);
	assert_true(f->log.fd >= 0);
	e1 = eventlog_add(&f->log, 3, 17, 2, "membership",
			  "node %s joined", "h2");
	e2 = eventlog_add(&f->log, UINT64_MAX, 0, UINT32_MAX, "coordinator",
			  "%s", "");
	expected_line(l1, sizeof(l1), e1, "membership", "node h2 joined");
	expected_line(l2, sizeof(l2), e2, "coordinator", "");
	snprintf(want, sizeof(want), "%s%s", l1, l2);
	got = read_text(f->file);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "\"epoch\":18446744073709551615,"
			       "\"seq\":0,\"node\":4294967295,"));
	free(got);
}

/* The whole line for a fixed clock: time formatting (UTC, milliseconds
 * zero-padded) checked against values computed by hand. */
static void
test_json_fixed_time(void **state)
{
	struct fixture *f = *state;
	const struct event *ev;
	char *got;

	assert_int_equal(eventlog_open(&f->log, f->dir), 0);
	fake_ms = 1000000000007LL;      /* 2001-09-09T01:46:40.007Z */
	ev = eventlog_add(&f->log, 7, 8, 9, "access", "uid %d: drain h1", 0);
	fake_ms = 1700000000999LL;      /* 2023-11-14T22:13:20.999Z */
	(void)eventlog_add(&f->log, 7, 9, 0, "state", "ok");
	fake_ms = -1;
	assert_int_equal(ev->time_ms, 1000000000007ULL);
	got = read_text(f->file);
	assert_string_equal(got,
		"{\"id\":1,\"time_ms\":1000000000007,"
		"\"time\":\"2001-09-09T01:46:40.007Z\",\"epoch\":7,\"seq\":8,"
		"\"node\":9,\"kind\":\"access\",\"text\":\"uid 0: drain h1\"}\n"
		"{\"id\":2,\"time_ms\":1700000000999,"
		"\"time\":\"2023-11-14T22:13:20.999Z\",\"epoch\":7,\"seq\":9,"
		"\"node\":0,\"kind\":\"state\",\"text\":\"ok\"}\n");
	free(got);
}

static void
test_json_escaping(void **state)
{
	struct fixture *f = *state;
	const struct event *ev;
	char want[1024], *got;

	assert_int_equal(eventlog_open(&f->log, f->dir), 0);
	ev = eventlog_add(&f->log, 1, 1, 0, "q\"k",
			  "a\"b\\c\nd\te\rf\bg\fh\x01i\x1fj\x7fk"
			  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"  /* é € U+1F600 */
			  "|\xff|\xc3|\xc0\xaf|\xed\xa0\x80|/");
	/* The ring keeps the raw text; only the file is escaped. */
	assert_int_equal(ev->text[1], '"');
	expected_line(want, sizeof(want), ev, "q\\\"k",
		      "a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh\\u0001i\\u001fj"
		      "\\u007fk\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
		      "|\\ufffd|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|/");
	got = read_text(f->file);
	assert_string_equal(got, want);
	free(got);
}

/* Reopening appends; ids start again at 1 in the new run. */
static void
test_reopen_appends(void **state)
{
	struct fixture *f = *state;
	const struct event *e1, *e2;
	char l1[512], l2[512], want[1024], *got;

	assert_int_equal(eventlog_open(&f->log, f->dir), 0);
	e1 = eventlog_add(&f->log, 1, 1, 0, "sync", "first run");
	expected_line(l1, sizeof(l1), e1, "sync", "first run");
	eventlog_close(&f->log);
	assert_int_equal(f->log.fd, -1);
	eventlog_close(&f->log);

	assert_int_equal(eventlog_open(&f->log, f->dir), 0);
	e2 = eventlog_add(&f->log, 1, 2, 0, "sync", "second run");
	assert_int_equal(e2->id, 1);
	expected_line(l2, sizeof(l2), e2, "sync", "second run");
	snprintf(want, sizeof(want), "%s%s", l1, l2);
	got = read_text(f->file);
	assert_string_equal(got, want);
	free(got);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_invalid_args),
		T(test_open_missing_dir),
		T(test_write_failure_keeps_event),
		T(test_truncation),
		T(test_empty),
		T(test_ids_and_since),
		T(test_wraparound),
		T(test_json_line),
		T(test_json_fixed_time),
		T(test_json_escaping),
		T(test_reopen_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

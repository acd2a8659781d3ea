/* The event log: membership, quorum, coordinator and state changes.
 *
 * A bounded ring in memory for agentctl, and an append-only file of JSON
 * lines in the state directory for after the fact.
 */
#ifndef XM_EVENTLOG_H
#define XM_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#define EVENTLOG_RING 1024
#define EVENTLOG_FILE "events.log"
#define EVENTLOG_TEXT_MAX 256

struct event {
	uint64_t id;            /* 1, 2, ... within this agent's run */
	uint64_t time_ms;       /* wall clock */
	uint64_t epoch;
	uint64_t seq;
	uint32_t node;          /* node the event is about, 0: cluster */
	char kind[16];          /* membership|quorum|coordinator|state|sync|access */
	char text[EVENTLOG_TEXT_MAX];
};

struct eventlog {
	struct event ring[EVENTLOG_RING];
	uint64_t next_id;       /* id of the next event */
	int fd;                 /* events.log, -1 when not open */
};

/* dir may be NULL (memory only).  Opens dir/events.log for append. */
int eventlog_open(struct eventlog *log, const char *dir);
void eventlog_close(struct eventlog *log);
/* Adds to the ring and appends a JSON line to the file.  Returns the event
 * (valid until EVENTLOG_RING more are added). */
const struct event *eventlog_add(struct eventlog *log, uint64_t epoch,
				 uint64_t seq, uint32_t node, const char *kind,
				 const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Events with id >= since still in the ring, oldest first; returns count
 * written to out (at most max).  *next gets the id to ask for next time. */
size_t eventlog_since(const struct eventlog *log, uint64_t since,
		      const struct event **out, size_t max, uint64_t *next);

#endif

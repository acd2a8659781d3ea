/* The `xl` hypervisor driver's event bridge: libxl's fds and timeouts,
 * registered through libxl_osevent_register_hooks, in the driver's one
 * epoll set, and xl_pump() handing what became ready back to libxl.  See
 * agent/hv_xl.c for the whole design.
 */
#define LIBXL_API_VERSION 0x041400

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_event.h>

#include "hv_xl_int.h"

#define XL_PUMP_MAX     64              /* libxl dispatches per event_next */

/* ---- osevent hooks: libxl's fds and timeouts in our epoll set ----------- */

static uint32_t
xl_poll_to_epoll(short events)
{
	/* POLLIN/OUT/PRI and EPOLLIN/OUT/PRI share their values on Linux. */
	return (uint32_t)(events & (POLLIN | POLLOUT | POLLPRI));
}

static int
xl_fd_apply(struct hv *hv, struct xl_fdreg *r, short events)
{
	struct epoll_event ee = { .events = xl_poll_to_epoll(events),
				  .data.ptr = r };
	int op;

	/* events 0: out of the set, or EPOLLHUP would still wake us. */
	if (events == 0)
		op = r->events ? EPOLL_CTL_DEL : -1;
	else
		op = r->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (op >= 0 && epoll_ctl(hv->epfd, op, r->dup, &ee) < 0)
		return ERROR_OSEVENT_REG_FAIL;
	r->events = events;
	return 0;
}

static int
xl_fd_register(void *user, int fd, void **for_app, short events,
	       void *for_libxl)
{
	struct hv *hv = user;
	struct xl_fdreg *r = calloc(1, sizeof(*r));

	if (!r)
		return ERROR_OSEVENT_REG_FAIL;
	r->fd = fd;
	r->for_libxl = for_libxl;
	r->dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (r->dup < 0 || xl_fd_apply(hv, r, events) != 0) {
		if (r->dup >= 0)
			close(r->dup);
		free(r);
		return ERROR_OSEVENT_REG_FAIL;
	}
	r->next = hv->fds;
	hv->fds = r;
	*for_app = r;
	return 0;
}

static int
xl_fd_modify(void *user, int fd, void **for_app, short events)
{
	return xl_fd_apply(user, *for_app, events);
}

void
xl_fd_free(struct hv *hv, struct xl_fdreg *r)
{
	if (r->events)
		(void)epoll_ctl(hv->epfd, EPOLL_CTL_DEL, r->dup, NULL);
	close(r->dup);
	free(r);
}

static void
xl_fd_deregister(void *user, int fd, void *for_app)
{
	struct hv *hv = user;
	struct xl_fdreg **pp;

	for (pp = &hv->fds; *pp; pp = &(*pp)->next) {
		if (*pp == for_app) {
			*pp = ((struct xl_fdreg *)for_app)->next;
			xl_fd_free(hv, for_app);
			return;
		}
	}
}

static bool
xl_tv_before(struct timeval a, struct timeval b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_usec < b.tv_usec);
}

/* The timerfd for the earliest pending timeout, or disarmed. */
static void
xl_timer_arm(struct hv *hv)
{
	struct itimerspec its;
	struct xl_toreg *t, *first = NULL;

	memset(&its, 0, sizeof(its));
	for (t = hv->timeouts; t; t = t->next)
		if (!first || xl_tv_before(t->abs, first->abs))
			first = t;
	if (first) {
		its.it_value.tv_sec = first->abs.tv_sec;
		its.it_value.tv_nsec = (long)first->abs.tv_usec * 1000;
		/* All zero would disarm: the epoch is long past, so 1 ns
		 * after it fires at once. */
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	(void)timerfd_settime(hv->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int
xl_timeout_register(void *user, void **for_app, struct timeval abs,
		    void *for_libxl)
{
	struct hv *hv = user;
	struct xl_toreg *t = calloc(1, sizeof(*t));

	if (!t)
		return ERROR_OSEVENT_REG_FAIL;
	t->abs = abs;
	t->for_libxl = for_libxl;
	t->next = hv->timeouts;
	hv->timeouts = t;
	xl_timer_arm(hv);
	*for_app = t;
	return 0;
}

/* Only ever "as soon as possible"; a timeout already firing is not in the
 * list any more and the change is ignored, as libxl requires. */
static int
xl_timeout_modify(void *user, void **for_app, struct timeval abs)
{
	struct hv *hv = user;
	struct xl_toreg *t = *for_app;

	t->abs = abs;
	xl_timer_arm(hv);
	return 0;
}

static void
xl_timeout_unlink(struct hv *hv, struct xl_toreg *t)
{
	struct xl_toreg **pp;

	for (pp = &hv->timeouts; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			return;
		}
	}
}

/* Documented as never called (a deprecated mode); harmless if it is. */
static void
xl_timeout_deregister(void *user, void *for_app)
{
	struct hv *hv = user;

	xl_timeout_unlink(hv, for_app);
	free(for_app);
	xl_timer_arm(hv);
}

/* Must outlast the ctx: a constant, not state. */
const libxl_osevent_hooks xl_osevent_hooks = {
	.fd_register = xl_fd_register,
	.fd_modify = xl_fd_modify,
	.fd_deregister = xl_fd_deregister,
	.timeout_register = xl_timeout_register,
	.timeout_modify = xl_timeout_modify,
	.timeout_deregister = xl_timeout_deregister,
};

/* Hand what became ready to libxl, one registration per epoll_wait
 * (libxl may deregister any of them from inside the call, so no pointer
 * from an older epoll_wait is used). */
void
xl_pump(struct hv *hv)
{
	for (int i = 0; i < XL_PUMP_MAX; i++) {
		struct epoll_event evs[8], *ee = NULL;
		struct xl_fdreg *r;
		struct xl_toreg *t;
		struct timeval now;
		uint64_t ticks;
		int n = epoll_wait(hv->epfd, evs, 8, 0);

		/* Our queue's eventfd is nothing for libxl. */
		for (int j = 0; j < n && !ee; j++)
			if (evs[j].data.ptr != &hv->evfd)
				ee = &evs[j];
		if (!ee)
			return;
		if (ee->data.ptr == &hv->tfd) {
			(void)!read(hv->tfd, &ticks, sizeof(ticks));
			gettimeofday(&now, NULL);
			for (t = hv->timeouts; t; t = t->next)
				if (!xl_tv_before(now, t->abs))
					break;
			if (t) {
				/* Deregistered on entry, as libxl says. */
				xl_timeout_unlink(hv, t);
				libxl_osevent_occurred_timeout(hv->ctx,
							       t->for_libxl);
				free(t);
			}
			xl_timer_arm(hv);
			continue;
		}
		r = ee->data.ptr;
		libxl_osevent_occurred_fd(hv->ctx, r->for_libxl, r->fd,
					  r->events, (short)ee->events);
	}
}

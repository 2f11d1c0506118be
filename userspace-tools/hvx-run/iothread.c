// SPDX-License-Identifier: GPL-2.0
/* iothread.c - the I/O thread: polls the devices' descriptors (stdin, timers), runs handlers. */
#define _GNU_SOURCE	/* pthread_setname_np */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "hvx-run.h"

#define MAX_FDS	8

static struct pollfd pfds[MAX_FDS];
static struct {
	fd_fn fn;
	void *opaque;
} handlers[MAX_FDS];
static int nfds;

/* Before iothread_start(), or from a handler on the I/O thread itself. */
void iothread_add_fd(int fd, fd_fn fn, void *opaque)
{
	if (nfds == MAX_FDS)
		die(ST_INTERNAL, "too many I/O thread descriptors");
	pfds[nfds] = (struct pollfd){ .fd = fd, .events = POLLIN };
	handlers[nfds].fn = fn;
	handlers[nfds].opaque = opaque;
	nfds++;
}

/* From a handler on the I/O thread: poll ignores negative descriptors. */
void iothread_remove_fd(int fd)
{
	int i;

	for (i = 0; i < nfds; i++)
		if (pfds[i].fd == fd)
			pfds[i].fd = -1;
}

static void *iothread(void *arg)
{
	int i;

	(void)arg;
	for (;;) {
		if (poll(pfds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			vm_stop(ST_INTERNAL, "I/O thread: poll: %s", strerror(errno));
			return NULL;
		}
		device_work_begin();
		for (i = 0; i < nfds; i++)
			if (pfds[i].fd >= 0 && pfds[i].revents)
				handlers[i].fn(handlers[i].opaque, pfds[i].fd);
		device_work_end();
	}
	return NULL;
}

void iothread_start(void)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, iothread, NULL);
	if (err)
		die(ST_INTERNAL, "cannot start the I/O thread: %s", strerror(err));
	pthread_setname_np(t, "hvx-io");
	pthread_detach(t);
}

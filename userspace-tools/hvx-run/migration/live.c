// SPDX-License-Identifier: GPL-2.0
/* migration/live.c - live migration over TCP: pre-copy of RAM with the dirty logs, stop-and-copy, the receiver, and what query-migrate reports. */
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hvx-run.h"
#include "control/control.h"
#include "control/qmp.h"
#include "migration/live.h"
#include "migration/snapshot.h"

/*
 * The handshake after the stream: the receiver answers ACK_LOADED once
 * everything is in place (or ACK_REFUSED), and runs the guest only after
 * the sender's GO, sent once the sender has given the guest up for good.
 * A connection lost before GO leaves the guest with the sender, stopped
 * if it was stopped for the switch-over only when GO went out.
 */
#define ACK_LOADED	'Y'
#define ACK_REFUSED	'N'
#define ACK_GO		'G'
#define ACK_TIMEOUT_MS	60000

/* Pre-copy gives up (the guest runs on) after this long without converging. */
#define PRECOPY_TIMEOUT_NS	(300ull * 1000000000ull)
/* Auto-converge: after this many passes that do not shrink the dirty set. */
#define THROTTLE_AFTER		2
#define THROTTLE_STEP		20
#define THROTTLE_MAX		99

static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
static struct migration_info info;
static struct migration_params params = {
	.downtime_limit_ms = 300,
	.max_bandwidth = 128ull << 20,		/* QEMU's default, bytes/s */
};
static volatile bool cancel_requested;
static bool thread_running;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void migration_info_get(struct migration_info *out)
{
	pthread_mutex_lock(&info_lock);
	*out = info;
	if (info.start_ns && !info.total_ms && strcmp(info.status, "completed") &&
	    strcmp(info.status, "failed") && strcmp(info.status, "cancelled"))
		out->total_ms = (now_ns() - info.start_ns) / 1000000;
	pthread_mutex_unlock(&info_lock);
}

static void set_status(const char *status)
{
	pthread_mutex_lock(&info_lock);
	info.status = status;
	pthread_mutex_unlock(&info_lock);
	qmp_event("MIGRATION", "{\"status\": \"%s\"}", status);
}

/* A migration that ends: its time, and why when it failed. */
static void finish(const char *status, const char *why)
{
	pthread_mutex_lock(&info_lock);
	info.total_ms = (now_ns() - info.start_ns) / 1000000;
	if (why)
		snprintf(info.error, sizeof(info.error), "%s", why);
	pthread_mutex_unlock(&info_lock);
	set_status(status);
}

void migration_begin(void)
{
	pthread_mutex_lock(&info_lock);
	memset(&info, 0, sizeof(info));
	info.status = "setup";
	info.start_ns = now_ns();
	pthread_mutex_unlock(&info_lock);
	qmp_event("MIGRATION", "{\"status\": \"setup\"}");
}

void migration_file_done(const struct snapshot_stats *st, uint64_t downtime_ms, const char *why)
{
	pthread_mutex_lock(&info_lock);
	info.transferred = st->bytes;
	info.normal_pages = st->pages_saved;
	info.zero_pages = st->pages_zero;
	info.passes = 1;
	info.downtime_ms = downtime_ms;
	pthread_mutex_unlock(&info_lock);
	finish(why ? "failed" : "completed", why);
}

struct migration_params *migration_params(void)
{
	return &params;
}

bool migration_active(void)
{
	return __atomic_load_n(&thread_running, __ATOMIC_ACQUIRE);
}

void migration_cancel(void)
{
	cancel_requested = true;
}

/* ---- the sender ---- */

struct sender {
	int fd;
	struct mig_writer w;
	struct snapshot_stats st;
	struct ram_region r[2];
	int nr_regions;
	uint64_t *bits[2];
};

/*
 * The pages dirtied since the last collection, added to those not sent
 * yet: hvx.ko's log of guest writes (got and cleared) and our devices'
 * writes.  Returns how many pages are waiting.
 */
static uint64_t collect_dirty(struct sender *s, bool paused)
{
	uint64_t n = 0, i, words, *log;
	int k;

	for (k = 0; k < s->nr_regions; k++) {
		words = (s->r[k].size / 4096 + 63) / 64;
		log = calloc(words, 8);
		if (!log || mig_page_bitmap(s->r[k].slot, HVX_BITMAP_DIRTY, s->r[k].size / 4096, log)) {
			if (!s->w.err)
				s->w.err = log ? strerror(errno) : "out of memory";
			free(log);
			continue;
		}
		ram_dirty_take(&s->r[k], log, !paused);
		for (i = 0; i < words; i++) {
			s->bits[k][i] |= log[i];
			n += __builtin_popcountll(s->bits[k][i]);
		}
		free(log);
	}
	return n;
}

/* Everything collected goes out; the set starts empty again. */
static void send_dirty(struct sender *s)
{
	int k;

	for (k = 0; k < s->nr_regions && !s->w.err; k++) {
		mig_write_pages(&s->w, s->r[k].gpa, s->bits[k], s->r[k].size / 4096, true, &s->st);
		memset(s->bits[k], 0, (s->r[k].size / 4096 + 63) / 64 * 8);
	}
}

static void dirty_log(struct sender *s, bool on)
{
	int k;

	for (k = 0; k < s->nr_regions; k++) {
		struct hvx_dirty_log d = { .slot = s->r[k].slot, .flags = on ? HVX_DIRTY_LOG_ON : 0 };

		if (ioctl(vm.fd, HVX_SET_DIRTY_LOG, &d) && on && !s->w.err)
			s->w.err = strerror(errno);
	}
	if (on)
		ram_dirty_start();
	else
		ram_dirty_stop();
}

static void update(struct sender *s, uint64_t remaining_pages, uint64_t rate, uint64_t bw,
		   int passes, int throttle)
{
	pthread_mutex_lock(&info_lock);
	info.transferred = s->w.bytes;
	info.normal_pages = s->st.pages_saved;
	info.zero_pages = s->st.pages_zero;
	info.remaining = remaining_pages * 4096;
	info.dirty_pages_rate = rate;
	info.passes = passes;
	info.throttle_pct = throttle;
	info.mbps = bw * 8 / 1000000;
	info.expected_downtime_ms = bw ? remaining_pages * 4096 * 1000 / bw : 0;
	pthread_mutex_unlock(&info_lock);
}

/* The receiver's one-byte answer, within @ms; 0 on timeout or a closed connection. */
static char read_ack(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) <= 0 || read(fd, &c, 1) != 1)
		return 0;
	return c;
}

static void *sender_thread(void *arg)
{
	struct sender *s = arg;
	uint64_t t_pass, dirty, prev_dirty = ~0ull, bytes_before, bw = 0, rate = 0;
	uint64_t limit_ms = params.downtime_limit_ms, t_stop;
	int passes = 1, stuck = 0, throttle = 0, k;
	bool paused = false;
	char ack;

	s->nr_regions = ram_regions(s->r);
	for (k = 0; k < s->nr_regions; k++) {
		s->bits[k] = calloc((s->r[k].size / 4096 + 63) / 64, 8);
		if (!s->bits[k])
			s->w.err = "out of memory";
	}
	mig_writer_init(&s->w, s->fd);
	s->w.max_bandwidth = params.max_bandwidth;
	s->w.cancel = &cancel_requested;
	set_status("active");
	mig_write_config(&s->w);
	dirty_log(s, true);

	/* Pass 1: everything allocated; the receiver starts from zeroes. */
	t_pass = now_ns();
	bytes_before = s->w.bytes;
	mig_write_all_ram(&s->w, &s->st);
	for (;;) {
		uint64_t dt = now_ns() - t_pass, eff;

		/* The link's speed as the last pass measured it (paced to max-bandwidth). */
		if (dt && s->w.bytes > bytes_before)
			bw = (s->w.bytes - bytes_before) * 1000000000ull / dt;
		dirty = collect_dirty(s, false);
		if (s->w.err)
			break;
		rate = dt ? dirty * 1000000000ull / dt : 0;
		update(s, dirty, rate, bw, passes, throttle);
		eff = bw ? bw : params.max_bandwidth ? params.max_bandwidth : 1ull << 30;
		if (dirty * 4096 * 1000 / eff <= limit_ms)
			break;	/* what is left fits the downtime limit */
		if (now_ns() - info.start_ns > PRECOPY_TIMEOUT_NS) {
			s->w.err = "did not converge (the guest dirties memory faster than the link)";
			break;
		}
		/* Auto-converge: slow the vCPUs down while the dirty set does not shrink. */
		if (dirty >= prev_dirty && ++stuck >= THROTTLE_AFTER && throttle < THROTTLE_MAX) {
			throttle = throttle + THROTTLE_STEP > THROTTLE_MAX ? THROTTLE_MAX :
				   throttle + THROTTLE_STEP;
			vcpus_throttle(throttle);
			stuck = 0;
		}
		prev_dirty = dirty;
		t_pass = now_ns();
		bytes_before = s->w.bytes;
		send_dirty(s);
		passes++;
	}

	if (!s->w.err) {
		/* Stop and copy: the rest, then the machine. */
		t_stop = now_ns();
		vm_pause();
		paused = true;
		if (vm_stopping())
			s->w.err = "the VM is shutting down";
		set_status("device");
		collect_dirty(s, true);
		send_dirty(s);
		mig_write_machine(&s->w);
		update(s, 0, rate, bw, passes + 1, throttle);
		if (!s->w.err) {
			ack = read_ack(s->fd, ACK_TIMEOUT_MS);
			if (ack == ACK_LOADED && write(s->fd, &(char){ ACK_GO }, 1) == 1) {
				pthread_mutex_lock(&info_lock);
				info.downtime_ms = (now_ns() - t_stop) / 1000000;
				pthread_mutex_unlock(&info_lock);
			} else {
				s->w.err = ack == ACK_REFUSED ?
					   "the receiver refused the VM (see its messages)" :
					   "the receiver did not confirm (connection lost or timed out)";
			}
		}
	}
	vcpus_throttle(0);
	dirty_log(s, false);
	mig_writer_free(&s->w);
	close(s->fd);
	if (s->w.err) {
		/* The guest never left: it runs on here. */
		if (paused)
			vm_resume();
		finish(cancel_requested ? "cancelled" : "failed",
		       cancel_requested ? NULL : s->w.err);
		vlog("migration failed: %s", s->w.err);
	} else {
		control_migrated();
		finish("completed", NULL);
	}
	for (k = 0; k < s->nr_regions; k++)
		free(s->bits[k]);
	free(s);
	__atomic_store_n(&thread_running, false, __ATOMIC_RELEASE);
	return NULL;
}

/* "HOST:PORT" into its two parts (an IPv6 host in brackets). */
static int split_host_port(const char *hp, char *host, size_t hlen, const char **port)
{
	const char *colon = strrchr(hp, ':');
	size_t n;

	if (!colon || !colon[1])
		return -1;
	n = colon - hp;
	if (n && hp[0] == '[' && hp[n - 1] == ']') {
		hp++;
		n -= 2;
	}
	if (n >= hlen)
		return -1;
	memcpy(host, hp, n);
	host[n] = 0;
	*port = colon + 1;
	return 0;
}

/*
 * A numeric IPv4 or IPv6 address (or localhost; empty: any) and a port:
 * hvx-run is static, and glibc's name lookup would need its shared
 * libraries at run time.
 */
static int parse_addr(const char *hostport, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64], *end;
	const char *port;
	unsigned long p;

	if (split_host_port(hostport, host, sizeof(host), &port))
		return -1;
	p = strtoul(port, &end, 10);
	if (*end || !p || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (!host[0] || inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

int migration_start_tcp(const char *hostport, const char **why)
{
	static char err[256];
	struct sockaddr_storage ss;
	struct sender *s;
	socklen_t len;
	pthread_t t;
	int fd, rc;

	if (parse_addr(hostport, &ss, &len)) {
		*why = "expected tcp:ADDRESS:PORT with a numeric IPv4 or IPv6 address";
		return -1;
	}
	if (migration_active()) {
		*why = "a migration is already running";
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len)) {
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd < 0) {
		snprintf(err, sizeof(err), "Failed to connect to '%s': %s", hostport, strerror(errno));
		*why = err;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		*why = "out of memory";
		return -1;
	}
	s->fd = fd;
	cancel_requested = false;
	migration_begin();
	__atomic_store_n(&thread_running, true, __ATOMIC_RELEASE);
	rc = pthread_create(&t, NULL, sender_thread, s);
	if (rc) {
		__atomic_store_n(&thread_running, false, __ATOMIC_RELEASE);
		close(fd);
		free(s);
		finish("failed", strerror(rc));
		*why = "cannot start the migration thread";
		return -1;
	}
	pthread_setname_np(t, "hvx-migrate");
	pthread_detach(t);
	return 0;
}

/* ---- the receiver ---- */

int migration_incoming_tcp(const char *hostport, struct snapshot_stats *st, const char **why)
{
	static char err[320];
	struct sockaddr_storage ss;
	const char *load_err;
	socklen_t len;
	int lfd, fd;

	if (parse_addr(hostport, &ss, &len)) {
		*why = "expected tcp:[ADDRESS]:PORT with a numeric IPv4 or IPv6 address";
		return -1;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd >= 0)
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 1)) {
		snprintf(err, sizeof(err), "cannot listen on %s: %s", hostport, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		*why = err;
		return -1;
	}
	vlog("waiting for a migration on %s", hostport);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (fd < 0) {
		snprintf(err, sizeof(err), "accept on %s: %s", hostport, strerror(errno));
		*why = err;
		return -1;
	}
	if (mig_load_fd(fd, UINT64_MAX, st, &load_err)) {
		if (write(fd, &(char){ ACK_REFUSED }, 1) != 1)
			vlog("migration: could not tell the source");
		snprintf(err, sizeof(err), "migration from the source failed: %s", load_err);
		close(fd);
		*why = err;
		return -1;
	}
	/* Everything is here: the guest runs once the source has let it go. */
	if (write(fd, &(char){ ACK_LOADED }, 1) != 1 || read_ack(fd, ACK_TIMEOUT_MS) != ACK_GO) {
		close(fd);
		*why = "the source did not hand the guest over (connection lost or timed out): "
		       "the guest stays with the source";
		return -1;
	}
	close(fd);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* migration/live.h - live migration over TCP and the figures query-migrate reports. */
#ifndef HVX_RUN_LIVE_H
#define HVX_RUN_LIVE_H

#include <stdbool.h>
#include <stdint.h>

struct snapshot_stats;

/* migrate-set-parameters: read by the next migration when it starts. */
struct migration_params {
	uint64_t downtime_limit_ms;	/* switch over once the rest fits (default 300) */
	uint64_t max_bandwidth;		/* bytes/s, 0: unlimited (default 128 MiB/s) */
};

/* The last (or running) migration, as query-migrate shows it. */
struct migration_info {
	const char *status;	/* NULL: none yet; setup, active, device, completed, failed, cancelled */
	char error[256];
	uint64_t start_ns;
	uint64_t total_ms, downtime_ms, expected_downtime_ms;
	uint64_t transferred, remaining;	/* bytes */
	uint64_t normal_pages, zero_pages;
	uint64_t dirty_pages_rate;		/* pages/s in the last pass */
	uint64_t mbps;
	int passes, throttle_pct;
};

struct migration_params *migration_params(void);
void migration_info_get(struct migration_info *out);
bool migration_active(void);

/* migrate tcp:HOST:PORT: connect and run the pre-copy on a thread; 0 or -1 with *why. */
int migration_start_tcp(const char *hostport, const char **why);
/* migrate_cancel: the running migration stops, the guest runs on here. */
void migration_cancel(void);
/* migrate file:PATH (synchronous): the record query-migrate shows. */
void migration_begin(void);
void migration_file_done(const struct snapshot_stats *st, uint64_t downtime_ms, const char *why);

/*
 * --incoming tcp:[ADDR]:PORT: wait for one sender, load what it sends and
 * take the guest over; 0 (the caller runs the guest), or -1 with *why
 * (nothing may run).
 */
int migration_incoming_tcp(const char *hostport, struct snapshot_stats *st, const char **why);

#endif /* HVX_RUN_LIVE_H */

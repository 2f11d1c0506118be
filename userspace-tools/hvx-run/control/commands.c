// SPDX-License-Identifier: GPL-2.0
/* control/commands.c - the QMP commands hvx-run answers: run state, stop/cont, power-down, quit, vCPUs, migrate to a file. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hvx-run.h"
#include "control/control.h"
#include "control/qmp.h"
#include "migration/live.h"
#include "migration/snapshot.h"

/* Guarded by the QMP server running one command at a time, and by state_lock for readers. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static enum run_state run_state = RS_RUNNING;
static volatile bool quit_requested;

static const char *const state_names[] = {
	[RS_RUNNING] = "running", [RS_PAUSED] = "paused", [RS_POSTMIGRATE] = "postmigrate",
	[RS_SHUTDOWN] = "shutdown",
};

static void set_state(enum run_state s)
{
	pthread_mutex_lock(&state_lock);
	run_state = s;
	pthread_mutex_unlock(&state_lock);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void cmd_query_status(const struct json *args, struct qmp_reply *r)
{
	enum run_state s;

	if (!qmp_args_check(r, args, NULL))
		return;
	pthread_mutex_lock(&state_lock);
	s = run_state;
	pthread_mutex_unlock(&state_lock);
	qmp_return(r, "{\"status\": \"%s\", \"running\": %s, \"singlestep\": false}",
		   state_names[s], s == RS_RUNNING ? "true" : "false");
}

/* Pause for a stop or a save; false when the VM is ending anyway. */
static bool pause_guest(void)
{
	vm_pause();
	if (vm_stopping()) {
		vm_resume();
		return false;
	}
	return true;
}

/* stop and cont would fight the migration thread over the pause. */
static bool refuse_while_migrating(struct qmp_reply *r)
{
	if (!migration_active())
		return false;
	qmp_error(r, "GenericError", "a migration is running: wait for it or migrate_cancel");
	return true;
}

static void cmd_stop(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL) || refuse_while_migrating(r))
		return;
	if (run_state != RS_RUNNING)
		return;		/* QEMU: stopping a stopped VM is no error */
	if (!pause_guest()) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	set_state(RS_PAUSED);
	qmp_event("STOP", NULL);
}

static void cmd_cont(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL) || refuse_while_migrating(r))
		return;
	if (run_state == RS_SHUTDOWN) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	if (run_state == RS_RUNNING)
		return;
	/* After a live migration (the user's call: two copies then run). */
	if (run_state == RS_POSTMIGRATE)
		virtio_net_tap_queues(true);
	set_state(RS_RUNNING);
	vm_resume();
	qmp_event("RESUME", NULL);
}

static void cmd_system_powerdown(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL))
		return;
	if (run_state != RS_RUNNING) {
		/* A paused guest cannot see the keys; QEMU would queue them, we refuse. */
		qmp_error(r, "GenericError", "the VM is not running (status %s): 'cont' first",
			  state_names[run_state]);
		return;
	}
	guest_powerdown_request();
	qmp_event("POWERDOWN", NULL);
}

static void cmd_system_reset(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL))
		return;
	/* hvx-run has no warm reset: it ends as a guest reboot does (status 10). */
	qmp_event("RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
	vm_stop(ST_REBOOT, "reset requested over QMP (system_reset): hvx-run ends as for a guest reboot");
}

static void cmd_quit(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL))
		return;
	qmp_reply_then_close(r);
	quit_requested = true;
	vm_stop(ST_QUIT, "quit requested over QMP");
}

static void cmd_query_cpus_fast(const struct json *args, struct qmp_reply *r)
{
	char buf[64 * 200], *p = buf;
	int i;

	if (!qmp_args_check(r, args, NULL))
		return;
	for (i = 0; i < vm.nr_vcpus; i++)
		p += snprintf(p, buf + sizeof(buf) - p,
			      "%s{\"cpu-index\": %d, \"qom-path\": \"/machine/unattached/device[%d]\", "
			      "\"thread-id\": %d, \"target\": \"x86_64\", \"props\": "
			      "{\"core-id\": %d, \"thread-id\": 0, \"socket-id\": 0}}",
			      i ? ", " : "", i, i, vm.vcpus[i].tid, i);
	qmp_return(r, "[%s]", buf);
}

/*
 * migrate "file:PATH": the VM stops (if it ran), is written to PATH, and
 * stays stopped in "postmigrate" as QEMU's source does; 'cont' runs it
 * on, 'quit' ends it.  Synchronous: the reply comes once the file is whole.
 */
static void migrate_to_file(const char *path, struct qmp_reply *r)
{
	bool was_running = run_state == RS_RUNNING;
	struct snapshot_stats st = { 0 };
	const char *err;
	char why[300];
	uint64_t t_stop;

	migration_begin();
	if (was_running && !pause_guest()) {
		migration_file_done(&st, 0, "the VM is shutting down");
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	t_stop = now_ms();
	if (snapshot_save(path, &st, &err)) {
		snprintf(why, sizeof(why), "%s: %s", path, err);
		migration_file_done(&st, now_ms() - t_stop, why);
		if (was_running)
			vm_resume();
		qmp_error(r, "GenericError", "%s", why);
		return;
	}
	migration_file_done(&st, now_ms() - t_stop, NULL);
	if (was_running) {
		set_state(RS_POSTMIGRATE);
		qmp_event("STOP", NULL);
	}
	vlog("migrate: %s, %llu bytes", path, (unsigned long long)st.bytes);
}

/* migrate "tcp:HOST:PORT": live, on its own thread; query-migrate follows it. */
static void cmd_migrate(const struct json *args, struct qmp_reply *r)
{
	const char *uri, *why;
	bool detach = false;

	if (!qmp_args_check(r, args, "uri", "detach", "resume", NULL) ||
	    !qmp_arg_str(r, args, "uri", true, &uri) ||
	    !qmp_arg_bool(r, args, "detach", false, NULL, &detach))
		return;
	if (run_state == RS_SHUTDOWN) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	if (migration_active()) {
		qmp_error(r, "GenericError", "a migration is already running");
		return;
	}
	if (!strncmp(uri, "file:", 5) && uri[5]) {
		migrate_to_file(uri + 5, r);
	} else if (!strncmp(uri, "tcp:", 4)) {
		if (run_state != RS_RUNNING) {
			qmp_error(r, "GenericError", "a live migration needs a running VM: 'cont' first");
			return;
		}
		if (migration_start_tcp(uri + 4, &why))
			qmp_error(r, "GenericError", "%s", why);
	} else {
		qmp_error(r, "GenericError",
			  "Migration URI '%s' is not supported: hvx-run migrates to file:PATH "
			  "and tcp:HOST:PORT", uri);
	}
}

/* The live migration thread has handed the guest over: this side stays stopped. */
void control_migrated(void)
{
	virtio_net_tap_queues(false);	/* the guest's frames go to the receiver */
	set_state(RS_POSTMIGRATE);
	qmp_event("STOP", NULL);
}

static void cmd_migrate_cancel(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL))
		return;
	migration_cancel();	/* no error when none runs, as QEMU */
}

static void cmd_migrate_set_parameters(const struct json *args, struct qmp_reply *r)
{
	struct migration_params *p = migration_params();
	int64_t downtime = p->downtime_limit_ms, bw = p->max_bandwidth;

	if (!qmp_args_check(r, args, "downtime-limit", "max-bandwidth", NULL) ||
	    !qmp_arg_int(r, args, "downtime-limit", false, NULL, &downtime) ||
	    !qmp_arg_int(r, args, "max-bandwidth", false, NULL, &bw))
		return;
	/* QEMU's ranges: downtime 0..2000000 ms, bandwidth 0..SIZE_MAX. */
	if (downtime < 0 || downtime > 2000000) {
		qmp_error(r, "GenericError", "Parameter 'downtime_limit' expects an integer in the "
			  "range of 0 to 2000000 milliseconds");
		return;
	}
	if (bw < 0) {
		qmp_error(r, "GenericError", "Parameter 'max_bandwidth' expects an integer in the "
			  "range of 0 to %lld bytes/second", (long long)INT64_MAX);
		return;
	}
	p->downtime_limit_ms = downtime;
	p->max_bandwidth = bw;
}

static void cmd_query_migrate_parameters(const struct json *args, struct qmp_reply *r)
{
	struct migration_params *p = migration_params();

	if (!qmp_args_check(r, args, NULL))
		return;
	qmp_return(r, "{\"downtime-limit\": %llu, \"max-bandwidth\": %llu}",
		   (unsigned long long)p->downtime_limit_ms, (unsigned long long)p->max_bandwidth);
}

static void cmd_query_migrate(const struct json *args, struct qmp_reply *r)
{
	struct migration_info i;
	bool done;

	if (!qmp_args_check(r, args, NULL))
		return;
	migration_info_get(&i);
	if (!i.status)
		return;		/* {} as QEMU before any migration */
	done = !strcmp(i.status, "completed");
	qmp_return(r, "{\"status\": \"%s\", \"total-time\": %llu, \"%s\": %llu, "
		   "\"setup-time\": 0%s%s%s, \"ram\": {\"transferred\": %llu, \"total\": %llu, "
		   "\"remaining\": %llu, \"duplicate\": %llu, \"normal\": %llu, "
		   "\"normal-bytes\": %llu, \"dirty-sync-count\": %d, \"dirty-pages-rate\": %llu, "
		   "\"mbps\": %llu, \"page-size\": 4096}%s%d}",
		   i.status, (unsigned long long)i.total_ms, done ? "downtime" : "expected-downtime",
		   (unsigned long long)(done ? i.downtime_ms : i.expected_downtime_ms),
		   i.error[0] ? ", \"error-desc\": " : "", i.error[0] ? qmp_json_str(i.error) : "",
		   "", (unsigned long long)i.transferred, (unsigned long long)vm.ram_size,
		   (unsigned long long)i.remaining, (unsigned long long)i.zero_pages,
		   (unsigned long long)i.normal_pages, (unsigned long long)i.normal_pages * 4096,
		   i.passes, (unsigned long long)i.dirty_pages_rate, (unsigned long long)i.mbps,
		   ", \"cpu-throttle-percentage\": ", i.throttle_pct);
}

/*
 * blockdev-snapshot-sync (QEMU's external snapshot): the disk named by
 * "device" (virtio-blkN or hvx-diskN) goes on in a new qcow2 overlay,
 * "snapshot-file", made over its image (mode "absolute-paths", the
 * default) or already there ("existing"); the image below changes no more.
 * The guest is paused for the switch and runs on after it.
 */
static void cmd_blockdev_snapshot_sync(const struct json *args, struct qmp_reply *r)
{
	const char *device, *file, *format, *mode, *why;
	bool was_running = run_state == RS_RUNNING;

	if (!qmp_args_check(r, args, "device", "snapshot-file", "format", "mode", NULL) ||
	    !qmp_arg_str(r, args, "device", true, &device) ||
	    !qmp_arg_str(r, args, "snapshot-file", true, &file) ||
	    !qmp_arg_str(r, args, "format", false, &format) ||
	    !qmp_arg_str(r, args, "mode", false, &mode))
		return;
	if (format && strcmp(format, "qcow2")) {
		qmp_error(r, "GenericError", "hvx-run makes qcow2 snapshots only, not '%s'", format);
		return;
	}
	if (mode && strcmp(mode, "absolute-paths") && strcmp(mode, "existing")) {
		qmp_error(r, "GenericError", "mode '%s': absolute-paths or existing", mode);
		return;
	}
	if (run_state == RS_SHUTDOWN || refuse_while_migrating(r)) {
		if (run_state == RS_SHUTDOWN)
			qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	if (was_running && !pause_guest()) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	why = virtio_blk_snapshot(device, file, mode && !strcmp(mode, "existing"));
	if (was_running)
		vm_resume();
	if (why)
		qmp_error(r, "GenericError", "%s", why);
	else
		vlog("blockdev-snapshot-sync: %s goes on in %s", device, file);
}

int control_start(const char *path, const char **why)
{
	qmp_register("query-status", cmd_query_status);
	qmp_register("stop", cmd_stop);
	qmp_register("cont", cmd_cont);
	qmp_register("system_powerdown", cmd_system_powerdown);
	qmp_register("system_reset", cmd_system_reset);
	qmp_register("quit", cmd_quit);
	qmp_register("query-cpus-fast", cmd_query_cpus_fast);
	qmp_register("migrate", cmd_migrate);
	qmp_register("migrate_cancel", cmd_migrate_cancel);
	qmp_register("migrate-set-parameters", cmd_migrate_set_parameters);
	qmp_register("query-migrate-parameters", cmd_query_migrate_parameters);
	qmp_register("query-migrate", cmd_query_migrate);
	qmp_register("blockdev-snapshot-sync", cmd_blockdev_snapshot_sync);
	return qmp_start(path, why);
}

/* The run is ending: one SHUTDOWN event with QEMU's reason, then the socket goes. */
void control_shutdown(int status)
{
	const char *reason;

	set_state(RS_SHUTDOWN);
	switch (quit_requested ? -1 : status) {
	case -1: reason = "host-qmp-quit"; break;
	case ST_POWEROFF: reason = "guest-shutdown"; break;
	case ST_REBOOT: reason = "guest-reset"; break;
	case ST_PANIC: reason = "guest-panic"; break;
	case ST_TRIPLE_FAULT: reason = "guest-reset"; break;
	case ST_SIGINT: case ST_SIGTERM: reason = "host-signal"; break;
	default: reason = "host-error"; break;
	}
	qmp_event("SHUTDOWN", "{\"guest\": %s, \"reason\": \"%s\"}",
		  strncmp(reason, "guest", 5) ? "false" : "true", reason);
	qmp_stop();
}

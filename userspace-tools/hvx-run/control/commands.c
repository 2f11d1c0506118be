// SPDX-License-Identifier: GPL-2.0
/* control/commands.c - the QMP commands hvx-run answers: run state, stop/cont, power-down, quit, vCPUs, migrate to a file. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hvx-run.h"
#include "control/control.h"
#include "control/qmp.h"
#include "migration/snapshot.h"

/* Guarded by the QMP server running one command at a time, and by state_lock for readers. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static enum run_state run_state = RS_RUNNING;
static volatile bool quit_requested;

static struct {
	const char *status;	/* NULL: no migration yet */
	char error[300];
	uint64_t total_ms, downtime_ms;
	struct snapshot_stats st;
} mig;

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

static void cmd_stop(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL))
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
	if (!qmp_args_check(r, args, NULL))
		return;
	if (run_state == RS_SHUTDOWN) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	if (run_state == RS_RUNNING)
		return;
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

static void migration_event(const char *status)
{
	qmp_event("MIGRATION", "{\"status\": \"%s\"}", status);
}

/*
 * migrate "file:PATH": the VM stops (if it ran), is written to PATH, and
 * stays stopped in "postmigrate" as QEMU's source does; 'cont' runs it
 * on, 'quit' ends it.  Synchronous: the reply comes once the file is whole.
 */
static void cmd_migrate(const struct json *args, struct qmp_reply *r)
{
	const char *uri, *err;
	bool detach = false;
	uint64_t t0, t_stop;
	bool was_running = run_state == RS_RUNNING;

	if (!qmp_args_check(r, args, "uri", "detach", "resume", NULL) ||
	    !qmp_arg_str(r, args, "uri", true, &uri) ||
	    !qmp_arg_bool(r, args, "detach", false, NULL, &detach))
		return;
	if (strncmp(uri, "file:", 5) || !uri[5]) {
		qmp_error(r, "GenericError",
			  "Migration URI '%s' is not supported: hvx-run migrates to file:PATH", uri);
		return;
	}
	if (run_state == RS_SHUTDOWN) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	t0 = now_ms();
	memset(&mig, 0, sizeof(mig));
	mig.status = "setup";
	migration_event("setup");
	if (was_running && !pause_guest()) {
		qmp_error(r, "GenericError", "the VM is shutting down");
		return;
	}
	t_stop = now_ms();
	mig.status = "active";
	migration_event("active");
	if (snapshot_save(uri + 5, &mig.st, &err)) {
		snprintf(mig.error, sizeof(mig.error), "%s: %s", uri + 5, err);
		mig.status = "failed";
		migration_event("failed");
		if (was_running)
			vm_resume();
		qmp_error(r, "GenericError", "%s", mig.error);
		return;
	}
	mig.total_ms = now_ms() - t0;
	mig.downtime_ms = now_ms() - t_stop;
	mig.status = "completed";
	if (was_running) {
		set_state(RS_POSTMIGRATE);
		qmp_event("STOP", NULL);
	}
	migration_event("completed");
	vlog("migrate: %s, %llu bytes, %llu ms", uri + 5, (unsigned long long)mig.st.bytes,
	     (unsigned long long)mig.total_ms);
}

static void cmd_query_migrate(const struct json *args, struct qmp_reply *r)
{
	if (!qmp_args_check(r, args, NULL))
		return;
	if (!mig.status)
		return;		/* {} as QEMU before any migration */
	if (!strcmp(mig.status, "failed")) {
		qmp_return(r, "{\"status\": \"failed\", \"error-desc\": %s}", qmp_json_str(mig.error));
		return;
	}
	qmp_return(r, "{\"status\": \"%s\", \"total-time\": %llu, \"downtime\": %llu, "
		   "\"setup-time\": 0, \"ram\": {\"transferred\": %llu, \"total\": %llu, "
		   "\"remaining\": 0, \"duplicate\": %llu, \"normal\": %llu, \"normal-bytes\": %llu, "
		   "\"dirty-sync-count\": 1, \"page-size\": 4096}}",
		   mig.status, (unsigned long long)mig.total_ms, (unsigned long long)mig.downtime_ms,
		   (unsigned long long)mig.st.bytes, (unsigned long long)vm.ram_size,
		   (unsigned long long)mig.st.pages_zero, (unsigned long long)mig.st.pages_saved,
		   (unsigned long long)mig.st.pages_saved * 4096);
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
	qmp_register("query-migrate", cmd_query_migrate);
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

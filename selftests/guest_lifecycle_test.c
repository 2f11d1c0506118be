// SPDX-License-Identifier: GPL-2.0
/* guest_lifecycle_test.c - create/destroy cycles, signals, immediate exit, many vCPUs, migration, teardown races. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "hvx_util.h"
#include "lib/guest.h"
#include "lib/hostmem.h"

static void on_alarm(int sig)
{
	(void)sig;
}

static bool one_cycle(void)
{
	struct guest_vm vm;
	struct guest_vcpu v[2];
	bool ok;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT))
		return false;
	ok = !guest_vcpu_create(&vm, &v[0], 0) && !guest_vcpu_create(&vm, &v[1], 1);
	ok = ok && !guest_load(&v[0], MODE_LONG, PAYLOAD(long64)) &&
	     guest_run_to_ucall(&v[0], NULL) == UCALL_SYNC;
	if (ok) {
		guest_vcpu_destroy(&v[1]);
		guest_vcpu_destroy(&v[0]);
	}
	guest_vm_destroy(&vm);
	return ok;
}

static void test_create_destroy_cycles(void)
{
	long free0, free1, slab0, slab1;
	bool ok = true;
	int i;

	for (i = 0; i < 5; i++)
		ok &= one_cycle();
	free0 = host_free_kb();
	slab0 = host_slab_bytes();
	for (i = 0; i < 300; i++)
		ok &= one_cycle();
	free1 = host_free_kb();
	slab1 = host_slab_bytes();
	ktap_diag("300 cycles: free %ld -> %ld KiB, slab %ld -> %ld B",
		  free0, free1, slab0, slab1);
	ktap_result(ok, "300_create_run_destroy_cycles");
	/*
	 * A page leaked per cycle would be 1200 KiB; the smallest per-vCPU
	 * object (~300 bytes, two per cycle) 180 KiB.  Slab figures wander by
	 * up to ~130 KiB.
	 */
	ktap_result(free0 - free1 < 512 && slab1 - slab0 < 160 * 1024,
		    "cycles_leak_nothing");
}

static void test_signal_and_immediate_exit(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value.tv_usec = 200000 };
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	int ret, err;
	bool ok;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: RUN must return */
	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0) ||
	    guest_load(&v, MODE_LONG, PAYLOAD(loop64))) {
		ktap_result(false, "endless_loop_interrupted_by_signal");
		ktap_result(false, "immediate_exit_returns_at_once");
		return;
	}
	setitimer(ITIMER_REAL, &it, NULL);
	ret = ioctl(v.fd, HVX_RUN, 0);
	err = errno;
	ok = ret == -1 && err == EINTR && v.run->exit_reason == HVX_EXIT_INTR &&
	     !guest_get_regs(&v, &r) && r.rip == GUEST_CODE;
	/* And it can be resumed, and interrupted again. */
	setitimer(ITIMER_REAL, &it, NULL);
	ok = ok && ioctl(v.fd, HVX_RUN, 0) == -1 && errno == EINTR;
	ktap_result(ok, "endless_loop_interrupted_by_signal");

	v.run->immediate_exit = 1;
	ok = ioctl(v.fd, HVX_RUN, 0) == -1 && errno == EINTR &&
	     v.run->exit_reason == HVX_EXIT_INTR;
	v.run->immediate_exit = 0;
	ktap_result(ok, "immediate_exit_returns_at_once");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

struct counter_job {
	struct guest_vcpu *vcpu;
	int iterations;
	bool ok;
	unsigned int cpus_seen;
	pid_t tid;
	volatile bool started;
};

/* Run counter64: RBX must go up by exactly one per ucall. */
static void *counter_thread(void *arg)
{
	struct counter_job *job = arg;
	struct hvx_regs r;
	int i;

	job->tid = syscall(SYS_gettid);
	job->started = true;
	job->ok = true;
	for (i = 1; i <= job->iterations && job->ok; i++) {
		int cpu;

		if (guest_run_to_ucall(job->vcpu, &r) != UCALL_SYNC || r.rbx != (uint64_t)i)
			job->ok = false;
		cpu = sched_getcpu();
		if (cpu >= 0 && cpu < 32)
			job->cpus_seen |= 1u << cpu;
	}
	return NULL;
}

static void test_many_vms_and_vcpus(void)
{
	enum { NVM = 3, NVCPU = 2 };
	struct guest_vm vm[NVM];
	struct guest_vcpu v[NVM][NVCPU];
	struct counter_job job[NVM][NVCPU];
	pthread_t th[NVM][NVCPU];
	bool ok = true;
	int i, j;

	for (i = 0; i < NVM; i++) {
		ok &= !guest_vm_create(&vm[i], GUEST_MEM_DEFAULT);
		for (j = 0; ok && j < NVCPU; j++) {
			ok &= !guest_vcpu_create(&vm[i], &v[i][j], j);
			ok &= ok && !guest_load(&v[i][j], MODE_LONG, PAYLOAD(counter64));
		}
	}
	if (!ok) {
		ktap_result(false, "three_vms_two_vcpus_each_in_parallel");
		return;
	}
	for (i = 0; i < NVM; i++)
		for (j = 0; j < NVCPU; j++) {
			job[i][j] = (struct counter_job){ .vcpu = &v[i][j], .iterations = 3000 };
			pthread_create(&th[i][j], NULL, counter_thread, &job[i][j]);
		}
	for (i = 0; i < NVM; i++)
		for (j = 0; j < NVCPU; j++) {
			pthread_join(th[i][j], NULL);
			ok &= job[i][j].ok;
			guest_vcpu_destroy(&v[i][j]);
		}
	for (i = 0; i < NVM; i++)
		guest_vm_destroy(&vm[i]);
	ktap_result(ok, "three_vms_two_vcpus_each_in_parallel");
}

/* The vCPU thread is moved between the host's CPUs while it runs. */
static void test_migration(void)
{
	struct counter_job job;
	struct guest_vm vm;
	struct guest_vcpu v;
	pthread_t th;
	cpu_set_t set;
	int flips = 0;

	if (host_nr_online_cpus() < 2) {
		ktap_skip("vcpu_thread_migrates_between_cpus", "one CPU");
		return;
	}
	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0) ||
	    guest_load(&v, MODE_LONG, PAYLOAD(counter64))) {
		ktap_result(false, "vcpu_thread_migrates_between_cpus");
		return;
	}
	job = (struct counter_job){ .vcpu = &v, .iterations = 20000 };
	pthread_create(&th, NULL, counter_thread, &job);
	while (!job.started)
		usleep(100);
	while (pthread_tryjoin_np(th, NULL) == EBUSY) {
		CPU_ZERO(&set);
		CPU_SET(flips++ & 1, &set);
		sched_setaffinity(job.tid, sizeof(set), &set);
		usleep(500);
	}
	ktap_diag("%d affinity flips, CPUs seen 0x%x", flips, job.cpus_seen);
	ktap_result(job.ok && job.cpus_seen == 3 && flips > 4,
		    "vcpu_thread_migrates_between_cpus");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

struct loop_job {
	struct guest_vcpu *vcpu;
	int ret, err;
	volatile bool started;
};

static void *loop_thread(void *arg)
{
	struct loop_job *job = arg;

	job->started = true;
	job->ret = ioctl(job->vcpu->fd, HVX_RUN, 0);
	job->err = errno;
	return NULL;
}

/* Closing the VM fd while its vCPU runs: the VM lives until the vCPU goes. */
static void test_close_vm_while_running(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct loop_job job = { 0 };
	struct hvx_caps caps;
	struct guest_vm vm;
	struct guest_vcpu v;
	pthread_t th;
	int sys, busy;
	bool ok;

	sigaction(SIGUSR1, &sa, NULL);
	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0) ||
	    guest_load(&v, MODE_LONG, PAYLOAD(loop64))) {
		ktap_result(false, "close_vm_fd_while_vcpu_runs");
		ktap_result(false, "second_run_on_same_vcpu_is_ebusy");
		return;
	}
	job.vcpu = &v;
	pthread_create(&th, NULL, loop_thread, &job);
	while (!job.started)
		usleep(100);
	usleep(50000);
	busy = ioctl(v.fd, HVX_RUN, 0) == -1 && errno == EBUSY;
	guest_vm_destroy(&vm);		/* unmaps RAM, closes VM and /dev/hvx fds */
	usleep(50000);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	ok = job.ret == -1 && job.err == EINTR;
	guest_vcpu_destroy(&v);
	sys = open("/dev/hvx", O_RDWR);
	ok = ok && hvx_get_caps(sys, &caps) == 0 && caps.nr_vms == 0;
	close(sys);
	ktap_result(ok, "close_vm_fd_while_vcpu_runs");
	ktap_result(busy, "second_run_on_same_vcpu_is_ebusy");
}

int main(void)
{
	guest_require_vcpus();
	ktap_plan(8);
	test_create_destroy_cycles();
	test_signal_and_immediate_exit();
	test_many_vms_and_vcpus();
	test_migration();
	test_close_vm_while_running();
	return ktap_finish();
}

/* SPDX-License-Identifier: GPL-2.0 */
/* control/control.h - hvx-run's control socket (QMP) as main.c sees it. */
#ifndef HVX_RUN_CONTROL_H
#define HVX_RUN_CONTROL_H

/* What query-status reports. */
enum run_state { RS_RUNNING, RS_PAUSED, RS_POSTMIGRATE, RS_SHUTDOWN };

/* --qmp PATH: register the commands and serve; 0, or -1 with *why. */
int control_start(const char *path, const char **why);
/* migration/live.c: the guest is the receiver's now (postmigrate, event STOP). */
void control_migrated(void);
/* The run ends with @status: the SHUTDOWN event, and the socket removed. */
void control_shutdown(int status);

#endif /* HVX_RUN_CONTROL_H */

/* SPDX-License-Identifier: GPL-2.0 */
/* migration/state.h - the device state stream: one function per device walks its state, saving or loading it. */
#ifndef HVX_RUN_STATE_H
#define HVX_RUN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A device describes its state once, in a function that hands each field
 * to state_field(): saving copies the field into the stream, loading
 * copies it back, so the two can never disagree on the layout.  Fields
 * are in the host's byte order (the stream moves between hosts of one
 * architecture).  When loading, the function then redoes what the
 * loaded values imply (timers, interrupt lines, mappings).
 */
struct state {
	bool load;
	uint8_t *buf;
	size_t len;		/* saving: bytes written; loading: bytes there are */
	size_t cap;		/* saving: room in buf */
	size_t pos;		/* loading: next byte */
	bool failed;		/* short stream, no memory, or a value out of range */
	/*
	 * The guest's clock at the save (CLOCK_MONOTONIC ns); a device keeps
	 * times relative to it, so a load resumes where the save stopped.
	 */
	uint64_t clock_ns;
};

void state_field(struct state *s, void *field, size_t size);
#define STATE(s, field)	state_field((s), &(field), sizeof(field))

/* A loaded value a device cannot take: the load fails. */
static inline void state_check(struct state *s, bool ok)
{
	if (s->load && !ok)
		s->failed = true;
}

/*
 * Every registered device's state, as records (name, length, the
 * device's fields), in registration order; loading finds each record's
 * device by name, and fails on an unknown name, a device missing from
 * the stream, or a record its device did not consume exactly.  0 or -1.
 */
int devices_save(struct state *s);
int devices_load(struct state *s);

/* What HVX_RUN_STATE_CHECK=1 runs at the end of a run; see main.c. */
int state_round_trip(void);

#endif /* HVX_RUN_STATE_H */

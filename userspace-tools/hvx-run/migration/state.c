// SPDX-License-Identifier: GPL-2.0
/* migration/state.c - the device state stream: fields in and out, one record per device, and the round-trip check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvx-run.h"
#include "migration/state.h"

void state_field(struct state *s, void *field, size_t size)
{
	if (s->failed)
		return;
	if (s->load) {
		if (size > s->len - s->pos) {
			s->failed = true;
			return;
		}
		memcpy(field, s->buf + s->pos, size);
		s->pos += size;
		return;
	}
	if (size > s->cap - s->len) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint8_t *buf;

		while (cap - s->len < size)
			cap *= 2;
		buf = realloc(s->buf, cap);
		if (!buf) {
			s->failed = true;
			return;
		}
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, field, size);
	s->len += size;
}

/* A record: the name's length and bytes, the state's length, the state. */
int devices_save(struct state *s)
{
	const struct device *d;

	s->load = false;
	for (d = devices_first(); d; d = d->next) {
		uint8_t name_len = strlen(d->name);
		uint32_t len = 0;
		size_t at;

		STATE(s, name_len);
		state_field(s, (void *)d->name, name_len);
		at = s->len;
		STATE(s, len);
		d->state(s);
		if (s->failed)
			return -1;
		len = s->len - at - sizeof(len);
		memcpy(s->buf + at, &len, sizeof(len));
	}
	return 0;
}

static const struct device *device_named(const char *name, size_t len)
{
	const struct device *d;

	for (d = devices_first(); d; d = d->next)
		if (strlen(d->name) == len && !memcmp(d->name, name, len))
			return d;
	return NULL;
}

int devices_load(struct state *s)
{
	const struct device *d;
	size_t n = 0, nr_devices = 0;

	s->load = true;
	s->pos = 0;
	for (d = devices_first(); d; d = d->next)
		nr_devices++;
	while (s->pos < s->len && !s->failed) {
		uint8_t name_len;
		char name[256];
		uint32_t len;
		size_t end;

		STATE(s, name_len);
		state_field(s, name, name_len);
		STATE(s, len);
		if (s->failed || len > s->len - s->pos)
			return -1;
		d = device_named(name, name_len);
		if (!d) {
			vlog("state: no device '%.*s'", (int)name_len, name);
			return -1;
		}
		end = s->pos + len;
		d->state(s);
		if (s->failed || s->pos != end) {
			vlog("state: device %s: bad record", d->name);
			return -1;
		}
		n++;
	}
	return !s->failed && n == nr_devices ? 0 : -1;
}

/*
 * With the vCPUs stopped: save every device, load that into them, save
 * again, and compare.  The load must leave each device as it found it,
 * which proves that what a device saves is all its load needs (with the
 * guest's clock where the save left it) and that the two agree.
 */
int state_round_trip(void)
{
	struct timespec ts;
	struct state a = { 0 }, b = { 0 };
	size_t i;
	int ret = -1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	a.clock_ns = b.clock_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (devices_save(&a) || devices_load(&a) || devices_save(&b)) {
		fprintf(stderr, "hvx-run: device state: save or load failed\n");
		goto out;
	}
	for (i = 0; i < a.len && i < b.len && a.buf[i] == b.buf[i]; i++)
		;
	if (a.len != b.len || i < a.len) {
		fprintf(stderr, "hvx-run: device state: %zu bytes saved, %zu after a load: "
			"first difference at byte %zu\n", a.len, b.len, i);
		goto out;
	}
	fprintf(stderr, "hvx-run: device state: %zu bytes, saved, loaded and saved again: identical\n",
		a.len);
	ret = 0;
out:
	free(a.buf);
	free(b.buf);
	return ret;
}

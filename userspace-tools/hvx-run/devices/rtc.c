// SPDX-License-Identifier: GPL-2.0
/* devices/rtc.c - CMOS RAM and the MC146818 RTC at 0x70/0x71: host UTC time, memory sizes. */
#include <time.h>

#include "hvx-run.h"
#include "migration/state.h"

#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define B_24H		0x02
#define B_BINARY	0x04
#define D_VRT		0x80	/* valid RAM and time */

static struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
} rtc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint8_t rtc_format(struct rtc *r, int v)
{
	return r->ram[REG_B] & B_BINARY ? v : (v / 10) << 4 | v % 10;
}

/*
 * The clock reads the host's time at each access (time writes are
 * dropped): the update-in-progress bit is never set, so Linux's
 * read loops finish at once.
 */
static uint8_t rtc_read(struct rtc *r, uint8_t reg)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (reg) {
	case 0x00: return rtc_format(r, tm.tm_sec);
	case 0x02: return rtc_format(r, tm.tm_min);
	case 0x04: return rtc_format(r, tm.tm_hour);
	case 0x06: return rtc_format(r, tm.tm_wday + 1);
	case 0x07: return rtc_format(r, tm.tm_mday);
	case 0x08: return rtc_format(r, tm.tm_mon + 1);
	case 0x09: return rtc_format(r, tm.tm_year % 100);
	case 0x32: return rtc_format(r, 19 + tm.tm_year / 100);
	case REG_C: return 0;	/* no alarm, periodic or update interrupt ever */
	case REG_D: return D_VRT;
	default: return r->ram[reg];
	}
}

static void rtc_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	struct rtc *r = opaque;

	(void)len;
	pthread_mutex_lock(&r->lock);
	if (port == 0x70) {
		if (write)
			r->index = data[0] & 0x7f;	/* bit 7 masks NMIs: there are none */
		else
			data[0] = 0xff;
	} else if (write) {
		if (r->index == REG_A)
			r->ram[REG_A] = data[0] & 0x7f;	/* UIP is read-only */
		else if (r->index == REG_B)
			r->ram[REG_B] = data[0] | B_24H;	/* 12-hour mode not offered */
		else if (r->index > REG_D && r->index != 0x32)
			r->ram[r->index] = data[0];
	} else {
		data[0] = rtc_read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
}

static void rtc_init(void)
{
	uint64_t ext_kb = (vm.low_end - 0x100000) >> 10;
	uint64_t above16m = vm.low_end > (16 << 20) ? (vm.low_end - (16 << 20)) >> 16 : 0;
	uint64_t above4g = vm.high_end ? (vm.high_end - MMIO_HOLE_END) >> 16 : 0;

	rtc.ram[REG_A] = 0x26;			/* 32.768 kHz, 1024 Hz rate */
	rtc.ram[REG_B] = B_24H;
	/* Memory sizes, where firmware and old tools look for them. */
	rtc.ram[0x15] = 640 & 0xff;
	rtc.ram[0x16] = 640 >> 8;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	rtc.ram[0x17] = rtc.ram[0x30] = ext_kb & 0xff;
	rtc.ram[0x18] = rtc.ram[0x31] = ext_kb >> 8;
	if (above16m > 0xffff)
		above16m = 0xffff;
	rtc.ram[0x34] = above16m & 0xff;
	rtc.ram[0x35] = above16m >> 8;
	rtc.ram[0x5b] = above4g & 0xff;
	rtc.ram[0x5c] = (above4g >> 8) & 0xff;
	rtc.ram[0x5d] = (above4g >> 16) & 0xff;
	io_register_port(0x70, 2, rtc_io, &rtc, "CMOS/RTC");
}

/* The index register and CMOS RAM; the time itself is the host's. */
static void rtc_state(struct state *s)
{
	pthread_mutex_lock(&rtc.lock);
	STATE(s, rtc.index);
	STATE(s, rtc.ram);
	pthread_mutex_unlock(&rtc.lock);
}

DEVICE("CMOS/RTC", rtc_init, rtc_state)

/* SPDX-License-Identifier: GPL-2.0 */
/* fuzz_rng.h - the fuzzers' random numbers: xorshift64* streams seeded by splitmix64, so a seed replays. */
#ifndef HVX_FUZZ_RNG_H
#define HVX_FUZZ_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct rng {
	uint64_t s;	/* never 0: xorshift's fixed point */
};

static inline uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/*
 * The state of stream @n (a thread, a run) of @seed: splitmix64 of the
 * pair, so neighbouring seeds and streams do not share their numbers.
 */
static inline uint64_t mix(uint64_t seed, uint64_t n)
{
	uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* 0 to @n - 1 (0 for @n 0). */
static inline uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static inline bool chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

#endif /* HVX_FUZZ_RNG_H */

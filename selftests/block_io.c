// SPDX-License-Identifier: GPL-2.0
/* block_io.c - drives hvx-run's disk image backends (block/: raw, qcow2) alone: random I/O against a raw reference, a writer to be killed, and a fuzzer of image metadata. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "fuzz_rng.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: block_io open IMAGE [ro|format=F|snapshot=S]...\n"
		"       block_io rand IMAGE REF SEED OPS [OVERLAY...]   random I/O, compared with the raw\n"
		"                                           REF; external snapshots between runs\n"
		"       block_io read IMAGE OUT [opts]      the whole disk as raw bytes into OUT\n"
		"       block_io do IMAGE write|magic|zero|discard|read OFF LEN [opts]   one request\n"
		"                                           (write: 0x5a bytes; magic: qcow2's first)\n"
		"       block_io writer IMAGE JOURNAL SEED  writes and flushes until killed\n"
		"       block_io verify IMAGE JOURNAL       what a killed writer had flushed is there\n"
		"       block_io fuzz SEED COUNT TEMPLATE...  open mutated copies of each TEMPLATE\n");
	exit(2);
}

static const char *open_image(struct block *b, const char *path, int argc, char **argv)
{
	struct block_options opt = { 0 };
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "ro"))
			opt.ro = true;
		else if (!strncmp(argv[i], "format=", 7))
			opt.format = argv[i] + 7;
		else if (!strncmp(argv[i], "snapshot=", 9))
			opt.snapshot = argv[i] + 9;
		else
			usage();
	}
	return block_open(b, path, &opt);
}

static int io(struct block *b, void *buf, uint64_t len, uint64_t off, bool write)
{
	struct iovec iov[3];
	uint64_t a = len / 3 & ~511ull, c = len / 4 & ~511ull;

	/* Three segments, as a guest's scattered request would come. */
	iov[0].iov_base = buf;
	iov[0].iov_len = a;
	iov[1].iov_base = (uint8_t *)buf + a;
	iov[1].iov_len = len - a - c;
	iov[2].iov_base = (uint8_t *)buf + len - c;
	iov[2].iov_len = c;
	return write ? block_writev(b, iov, 3, off) : block_readv(b, iov, 3, off);
}

/* A random request inside the disk: sector-aligned, sometimes whole clusters, up to 1 MiB. */
static void pick(struct rng *r, uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t sectors = size / 512, s, n;

	if (chance(r, 40)) {	/* cluster-sized and -aligned (64 KiB) */
		s = below(r, sectors / 128 ? sectors / 128 : 1) * 128;
		n = 128 * (1 + below(r, 4));
	} else {
		s = below(r, sectors);
		n = 1 + below(r, chance(r, 80) ? 16 : 2048);
	}
	if (s >= sectors)
		s = sectors - 1;
	if (s + n > sectors)
		n = sectors - s;
	*off = s * 512;
	*len = n * 512;
}

/* @ops random requests on @img, mirrored on the raw @ref; counts[] by kind. */
static int rand_ops(struct block *img, struct block *ref, struct rng *r, uint64_t ops,
		    uint64_t counts[5])
{
	static uint8_t *a, *b;
	uint64_t i, off, len;

	if (!a && (!(a = malloc(1 << 20)) || !(b = malloc(1 << 20))))
		return 1;
	for (i = 0; i < ops; i++) {
		unsigned int k = below(r, 100);
		uint64_t j;
		int e1 = 0, e2 = 0;

		pick(r, img->size, &off, &len);
		if (k < 45) {		/* write */
			for (j = 0; j < len; j += 8)
				*(uint64_t *)(a + j) = rnd(r);
			e1 = io(img, a, len, off, true);
			e2 = io(ref, a, len, off, true);
			counts[0]++;
		} else if (k < 85) {	/* read and compare */
			e1 = io(img, a, len, off, false);
			e2 = io(ref, b, len, off, false);
			if (!e1 && !e2 && memcmp(a, b, len)) {
				printf("op %llu: read of %llu bytes at %llu differs from the reference\n",
				       (unsigned long long)i, (unsigned long long)len,
				       (unsigned long long)off);
				return 1;
			}
			counts[1]++;
		} else if (k < 92) {	/* write zeroes, with or without unmap */
			e1 = block_write_zeroes(img, off, len, chance(r, 50));
			memset(a, 0, len);
			e2 = io(ref, a, len, off, true);
			counts[2]++;
		} else if (k < 97) {	/* discard: the contents are the image's to choose */
			e1 = block_discard(img, off, len);
			if (!e1)
				e1 = io(img, a, len, off, false);
			e2 = io(ref, a, len, off, true);
			counts[3]++;
		} else {
			e1 = block_flush(img);
			counts[4]++;
		}
		if (e1 || e2) {
			printf("op %llu (kind %u, %llu bytes at %llu): %s\n", (unsigned long long)i, k,
			       (unsigned long long)len, (unsigned long long)off,
			       strerror(-(e1 ? e1 : e2)));
			return 1;
		}
	}
	return 0;
}

static void print_counts(const uint64_t counts[5])
{
	printf("%llu writes, %llu reads compared, %llu write-zeroes, %llu discards, %llu flushes\n",
	       (unsigned long long)counts[0], (unsigned long long)counts[1],
	       (unsigned long long)counts[2], (unsigned long long)counts[3],
	       (unsigned long long)counts[4]);
}

static int open_pair(struct block *img, struct block *ref, const char *ipath, const char *rpath)
{
	const char *err = block_open(img, ipath, &(struct block_options){ 0 });

	if (!err)
		err = block_open(ref, rpath, &(struct block_options){ .format = "raw" });
	if (err) {
		printf("%s\n", err);
		return 1;
	}
	if (img->size != ref->size) {
		printf("sizes differ: %llu and %llu\n", (unsigned long long)img->size,
		       (unsigned long long)ref->size);
		return 1;
	}
	return 0;
}

/*
 * Random requests against a raw copy; with OVERLAYs, external snapshots
 * between runs of them: each OVERLAY made over the image in use
 * (block_snapshot, as QMP's blockdev-snapshot-sync), with REF copied to
 * OVERLAY.ref at that moment.
 */
static int cmd_rand(int argc, char **argv)
{
	struct block img, ref;
	uint64_t counts[5] = { 0 }, ops;
	struct rng r;
	char cmd[1024];
	const char *err;
	int i;

	if (argc < 4)
		usage();
	if (open_pair(&img, &ref, argv[0], argv[1]))
		return 1;
	r.s = mix(strtoull(argv[2], NULL, 0), 0);
	ops = strtoull(argv[3], NULL, 0);
	if (rand_ops(&img, &ref, &r, ops, counts))
		return 1;
	for (i = 4; i < argc; i++) {
		snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s.ref'", argv[1], argv[i]);
		if (system(cmd))
			return 1;
		err = block_snapshot(&img, argv[i], false);
		if (err) {
			printf("snapshot %s: %s\n", argv[i], err);
			return 1;
		}
		if (rand_ops(&img, &ref, &r, ops, counts))
			return 1;
	}
	block_flush(&img);
	block_close(&img);
	block_close(&ref);
	print_counts(counts);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	struct block img;
	const char *err;
	uint64_t off, len;
	uint8_t *a = malloc(1 << 20);
	int fd;

	if (argc < 2)
		usage();
	err = open_image(&img, argv[0], argc - 2, argv + 2);
	if (err) {
		printf("%s\n", err);
		return 1;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, img.size))
		return 1;
	for (off = 0; off < img.size; off += len) {
		len = img.size - off < (1 << 20) ? img.size - off : (1 << 20);
		if (io(&img, a, len, off, false) || block_pwrite_all(fd, a, len, off)) {
			printf("read at %llu failed\n", (unsigned long long)off);
			return 1;
		}
	}
	close(fd);
	return 0;
}

static int cmd_do(int argc, char **argv)
{
	struct block img;
	const char *err;
	uint64_t off, len;
	uint8_t *a;
	int e;

	if (argc < 4)
		usage();
	err = open_image(&img, argv[0], argc - 4, argv + 4);
	if (err) {
		printf("%s\n", err);
		return 1;
	}
	off = strtoull(argv[2], NULL, 0);
	len = strtoull(argv[3], NULL, 0);
	if (off > img.size || len > img.size - off || (off | len) & 511 || !(a = malloc(len + 1)))
		usage();
	memset(a, 0x5a, len);
	if (!strcmp(argv[1], "magic"))	/* qcow2's magic at the start of the request */
		memcpy(a, "QFI\xfb", len < 4 ? len : 4);
	if (!strcmp(argv[1], "write") || !strcmp(argv[1], "magic"))
		e = io(&img, a, len, off, true);
	else if (!strcmp(argv[1], "zero"))
		e = block_write_zeroes(&img, off, len, false);
	else if (!strcmp(argv[1], "discard"))
		e = block_discard(&img, off, len);
	else if (!strcmp(argv[1], "read"))
		e = io(&img, a, len, off, false);
	else
		usage();
	if (!e)
		e = block_flush(&img);
	block_close(&img);
	if (e)
		printf("%s of %llu bytes at %llu: %s\n", argv[1], (unsigned long long)len,
		       (unsigned long long)off, strerror(-e));
	return !!e;
}

/*
 * The kill test.  The writer logs each write before it starts (seq,
 * sector, count, kind) and each completed flush to JOURNAL; every sector
 * it writes holds (seq, sector) in its first 16 bytes and a pattern of
 * both after.  verify then requires of every sector: where a flushed
 * write covered it, what the last such write left or what a later write
 * did; elsewhere zeroes or any write that covered it.
 */
enum { REC_FLUSH, REC_DATA, REC_ZEROES, REC_START };

struct rec {
	uint64_t seq, sector, count, kind;
};

static void fill(uint8_t *buf, uint64_t seq, uint64_t sector, uint64_t n)
{
	uint64_t i, j;

	for (i = 0; i < n; i++, buf += 512) {
		((uint64_t *)buf)[0] = seq;
		((uint64_t *)buf)[1] = sector + i;
		for (j = 2; j < 64; j++)
			((uint64_t *)buf)[j] = seq * 0x9e3779b97f4a7c15ull ^ (sector + i) ^ j;
	}
}

static int cmd_writer(int argc, char **argv)
{
	struct block img;
	const char *err;
	struct rng r;
	uint64_t seq, off, len;
	uint8_t *a = malloc(1 << 20);
	struct stat st;
	int jfd;

	if (argc != 3)
		usage();
	err = block_open(&img, argv[0], &(struct block_options){ 0 });
	if (err) {
		printf("%s\n", err);
		return 1;
	}
	/* Each writer goes on where the last (killed) one's whole records end. */
	jfd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (jfd < 0 || fstat(jfd, &st))
		return 1;
	seq = st.st_size / sizeof(struct rec);
	if (ftruncate(jfd, seq * sizeof(struct rec)))
		return 1;
	/* The killed writer's last write may be half done: verify must know where it ended. */
	{
		struct rec start = { ++seq, 0, 0, REC_START };

		if (write(jfd, &start, sizeof(start)) != sizeof(start))
			return 1;
	}
	r.s = mix(strtoull(argv[2], NULL, 0), 0);
	for (;;) {
		struct rec rec;

		if (chance(&r, 10)) {
			if (block_flush(&img))
				return 1;
			rec = (struct rec){ ++seq, 0, 0, REC_FLUSH };
			if (write(jfd, &rec, sizeof(rec)) != sizeof(rec))
				return 1;
			continue;
		}
		pick(&r, img.size, &off, &len);
		if (len > (256 << 10))
			len = 256 << 10;
		rec = (struct rec){ ++seq, off / 512, len / 512, chance(&r, 10) ? REC_ZEROES : REC_DATA };
		if (write(jfd, &rec, sizeof(rec)) != sizeof(rec))
			return 1;
		fill(a, seq, off / 512, len / 512);
		if (rec.kind == REC_ZEROES ? block_write_zeroes(&img, off, len, chance(&r, 50)) :
					     io(&img, a, len, off, true))
			return 1;
	}
}

static int cmd_verify(int argc, char **argv)
{
	struct block img;
	const char *err;
	struct rec *log;
	uint64_t n, i, j, last_flush = 0, sectors, bad = 0;
	uint64_t *flushed;	/* per sector: the last flushed write's seq, or 0 */
	bool *zero_ok;		/* per sector: a write-zeroes may be what it holds */
	struct stat st;
	uint8_t sec[512], want[512];
	int jfd;

	if (argc != 2)
		usage();
	err = block_open(&img, argv[0], &(struct block_options){ .ro = true });
	if (err) {
		printf("%s\n", err);
		return 1;
	}
	/* No journal: the first writer was killed before it wrote anything. */
	jfd = open(argv[1], O_RDONLY);
	n = 0;
	if (jfd >= 0 && !fstat(jfd, &st))
		n = st.st_size / sizeof(struct rec);	/* a record cut by the kill is not there */
	log = malloc(n * sizeof(*log) + 1);
	if ((jfd < 0 && errno != ENOENT) || !log ||
	    (n && block_pread_all(jfd, log, n * sizeof(*log), 0))) {
		printf("%s: cannot read the journal: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (log[i].seq != i + 1 || log[i].kind > REC_START ||
		    log[i].sector + log[i].count > img.size / 512) {
			printf("journal record %llu is damaged\n", (unsigned long long)i);
			return 1;
		}
		if (log[i].kind == REC_FLUSH)
			last_flush = i + 1;
	}
	sectors = img.size / 512;
	flushed = calloc(sectors, sizeof(*flushed));
	zero_ok = calloc(sectors, sizeof(*zero_ok));
	if (!flushed || !zero_ok) {
		printf("out of memory\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		/* A writer's last write before it was killed: maybe done, maybe not, maybe partly. */
		bool cut = i + 1 < n && log[i + 1].kind == REC_START;

		for (j = log[i].sector; j < log[i].sector + log[i].count; j++) {
			if (i < last_flush && !cut) {
				flushed[j] = log[i].seq;
				zero_ok[j] = log[i].kind == REC_ZEROES;
			} else if (log[i].kind == REC_ZEROES) {
				zero_ok[j] = true;
			}
		}
	}
	for (i = 0; i < sectors; i++) {
		struct iovec iov = { sec, 512 };
		uint64_t seq, k;
		bool zero = true, ok;

		if (block_readv(&img, &iov, 1, i * 512)) {
			printf("sector %llu: read failed\n", (unsigned long long)i);
			return 1;
		}
		for (k = 0; k < 512 && zero; k++)
			zero = !sec[k];
		seq = ((uint64_t *)sec)[0];
		if (zero) {
			ok = !flushed[i] || zero_ok[i];
		} else {
			const struct rec *w = seq && seq <= n ? &log[seq - 1] : NULL;

			fill(want, seq, i, 1);
			ok = w && w->kind == REC_DATA && i >= w->sector && i < w->sector + w->count &&
			     seq >= flushed[i] && !memcmp(sec, want, 512);
		}
		if (!ok && bad++ < 5)
			printf("sector %llu: holds %s (seq %llu), last flushed write seq %llu\n",
			       (unsigned long long)i, zero ? "zeroes" : "data",
			       (unsigned long long)seq, (unsigned long long)flushed[i]);
	}
	printf("%llu journal records, %llu flushed, %llu sectors checked, %llu bad\n",
	       (unsigned long long)n, (unsigned long long)last_flush, (unsigned long long)sectors,
	       (unsigned long long)bad);
	return bad ? 1 : 0;
}

/*
 * The metadata fuzzer: a copy of a template image with a few random bytes,
 * words or table entries bent in its metadata clusters, opened; if it
 * opens, random reads, writes, discards and write-zeroes.  Any error is
 * fine; a crash, a hang (the parent's alarm) or a write to another file is
 * not.  Batches run in child processes; the parent names the image.
 */
static int fuzz_one(const char *tmpl, const char *copy, struct rng *r)
{
	int in = open(tmpl, O_RDONLY), out;
	static uint8_t buf[4 << 20];
	ssize_t len = in < 0 ? -1 : read(in, buf, sizeof(buf));
	struct block img;
	unsigned int i, n;

	if (in >= 0)
		close(in);
	if (len <= 0)
		return -1;
	n = 1 + below(r, 8);
	for (i = 0; i < n; i++) {
		/* Mostly the first clusters (header, tables), where the metadata is. */
		uint64_t at = chance(r, 70) ? below(r, len < 8192 ? len : 8192) : below(r, len);

		switch (below(r, 4)) {
		case 0:
			buf[at] ^= 1u << below(r, 8);
			break;
		case 1:
			buf[at] = rnd(r);
			break;
		case 2:		/* a big-endian word: 0, ~0, a power of two, random */
			if (at + 8 <= (uint64_t)len) {
				uint64_t v = below(r, 4) == 0 ? 0 : chance(r, 30) ? ~0ull :
					     chance(r, 50) ? 1ull << below(r, 64) : rnd(r);
				int k;

				for (k = 7; k >= 0; k--, v >>= 8)
					buf[at + k] = v;
			}
			break;
		default:	/* truncated */
			if (chance(r, 20))
				len = below(r, len) + 1;
			break;
		}
	}
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || write(out, buf, len) != len)
		return -1;
	close(out);
	if (!block_open(&img, copy, &(struct block_options){ .ro = chance(r, 20) })) {
		uint8_t *a = malloc(256 << 10);

		for (i = 0; i < 16; i++) {
			uint64_t off, l;

			pick(r, img.size ? img.size : 512, &off, &l);
			if (!img.size)
				break;
			if (l > (256 << 10))
				l = 256 << 10;
			memset(a, 0x5a, l);
			switch (below(r, 4)) {
			case 0:
				io(&img, a, l, off, false);
				break;
			case 1:
				io(&img, a, l, off, true);
				break;
			case 2:
				block_discard(&img, off, l);
				break;
			default:
				block_write_zeroes(&img, off, l, chance(r, 50));
				break;
			}
		}
		free(a);
		block_close(&img);
		return 1;
	}
	return 0;
}

static int cmd_fuzz(int argc, char **argv)
{
	uint64_t seed, count, done = 0, opened = 0;
	volatile uint64_t *shared;
	char copy[64];
	time_t t0 = time(NULL);
	const uint64_t batch = 1000;

	if (argc < 3)
		usage();
	seed = strtoull(argv[0], NULL, 0);
	count = strtoull(argv[1], NULL, 0);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	snprintf(copy, sizeof(copy), "/tmp/block_io-fuzz.%d", getpid());
	while (done < count) {
		uint64_t first = done, n = count - done < batch ? count - done : batch;
		pid_t pid = fork();
		int status;

		if (!pid) {
			uint64_t i;

			alarm(120);
			for (i = first; i < first + n; i++) {
				struct rng r = { mix(seed, i) };
				int ret;

				shared[0] = i;
				ret = fuzz_one(argv[2 + i % (argc - 2)], copy, &r);
				if (ret < 0)
					_exit(3);
				shared[1] += ret;
			}
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			return 1;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("image %llu (seed %llu, template %s) %s %d: replay with "
			       "block_io fuzz-one %llu %llu %s\n",
			       (unsigned long long)shared[0], (unsigned long long)seed,
			       argv[2 + shared[0] % (argc - 2)],
			       WIFSIGNALED(status) ? "killed by signal" : "exit",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
			       (unsigned long long)seed, (unsigned long long)shared[0],
			       argv[2 + shared[0] % (argc - 2)]);
			unlink(copy);
			return 1;
		}
		done += n;
	}
	opened = shared[1];
	unlink(copy);
	printf("%llu mutated images in %lld s, %llu of them opened and used, no crash\n",
	       (unsigned long long)count, (long long)(time(NULL) - t0), (unsigned long long)opened);
	return 0;
}

/* One image of a fuzz run again, kept at COPY for a look. */
static int cmd_fuzz_one(int argc, char **argv)
{
	struct rng r;

	if (argc != 3)
		usage();
	r.s = mix(strtoull(argv[0], NULL, 0), strtoull(argv[1], NULL, 0));
	printf("result %d; the image is /tmp/block_io-fuzz.one\n",
	       fuzz_one(argv[2], "/tmp/block_io-fuzz.one", &r));
	return 0;
}

int main(int argc, char **argv)
{
	const char *err;
	struct block b;

	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "open")) {
		err = open_image(&b, argv[2], argc - 3, argv + 3);
		if (err) {
			printf("%s\n", err);
			return 1;
		}
		printf("%s, %llu bytes%s\n", b.ops->format, (unsigned long long)b.size,
		       b.ro ? ", read-only" : "");
		block_close(&b);
		return 0;
	}
	if (!strcmp(argv[1], "rand"))
		return cmd_rand(argc - 2, argv + 2);
	if (!strcmp(argv[1], "read"))
		return cmd_read(argc - 2, argv + 2);
	if (!strcmp(argv[1], "do"))
		return cmd_do(argc - 2, argv + 2);
	if (!strcmp(argv[1], "writer"))
		return cmd_writer(argc - 2, argv + 2);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 2, argv + 2);
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 2, argv + 2);
	if (!strcmp(argv[1], "fuzz-one"))
		return cmd_fuzz_one(argc - 2, argv + 2);
	usage();
	return 2;
}

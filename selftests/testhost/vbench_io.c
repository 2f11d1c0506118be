// SPDX-License-Identifier: GPL-2.0
/*
 * vbench_io.c - the test guest's timed I/O for virtio_bench.sh: O_DIRECT
 * block reads and writes, a TCP send to the host and an HTTP fetch from it,
 * each in one process and timed by the guest's CLOCK_MONOTONIC.
 *
 * Usage: vbench_io NAME blk-read|blk-write DEVICE BLOCK_SIZE TOTAL
 *        vbench_io NAME tcp-send IP PORT TOTAL|FILE
 *        vbench_io NAME http-get IP PORT PATH
 * Prints "HVX-GUEST: vbench result NAME BYTES NANOSECONDS" and exits 0, or
 * says what failed and exits 1.  Block I/O goes round the device from
 * offset 0 until TOTAL bytes moved.  The TCP send waits for the host to
 * close the connection, so every byte has arrived when the clock stops.
 * With a FILE (a path, not a number) the TCP send carries its bytes, in
 * writes of 64 KiB as with zeroes: hvx_virtio_test checks what arrives.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define NET_CHUNK	(64 << 10)

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int fail(const char *name, const char *what)
{
	printf("HVX-GUEST: vbench error %s %s: %s\n", name, what, strerror(errno));
	return 1;
}

static int blk(const char *name, int write, const char *dev, size_t bs, unsigned long long total,
	       unsigned long long *moved)
{
	unsigned long long size, off = 0;
	ssize_t n;
	void *buf;
	int fd;

	fd = open(dev, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		return fail(name, dev);
	if (ioctl(fd, BLKGETSIZE64, &size) || size < bs)
		return fail(name, "device size");
	if (posix_memalign(&buf, 4096, bs))
		return fail(name, "buffer");
	memset(buf, 0x5a, bs);
	while (*moved < total) {
		if (off + bs > size)
			off = 0;
		n = write ? pwrite(fd, buf, bs, off) : pread(fd, buf, bs, off);
		if (n != (ssize_t)bs)
			return fail(name, write ? "pwrite" : "pread");
		off += bs;
		*moved += bs;
	}
	if (write && fdatasync(fd))
		return fail(name, "fdatasync");
	close(fd);
	return 0;
}

static int tcp_connect(const char *name, const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fail(name, "connect");
		return -1;
	}
	return fd;
}

/* Reads @fd to its end of file, counting into *@count; read()'s last result. */
static ssize_t drain(int fd, char *buf, unsigned long long *count)
{
	ssize_t n;

	while ((n = read(fd, buf, NET_CHUNK)) > 0)
		*count += n;
	return n;
}

static int tcp_send(const char *name, const char *ip, int port, const char *what,
		    unsigned long long *moved)
{
	static char buf[NET_CHUNK];
	unsigned long long ignored = 0, total;
	int fd, src = -1;
	ssize_t n, w, len;
	char *end;

	total = strtoull(what, &end, 0);
	if (*end) {
		src = open(what, O_RDONLY);
		if (src < 0)
			return fail(name, "open");
		total = ~0ull;
	}
	fd = tcp_connect(name, ip, port);
	if (fd < 0)
		return 1;
	while (*moved < total) {
		len = total - *moved < sizeof(buf) ? total - *moved : sizeof(buf);
		if (src >= 0) {
			len = read(src, buf, sizeof(buf));
			if (len < 0)
				return fail(name, "read");
			if (!len)
				break;
		}
		for (n = 0; n < len; n += w) {
			w = write(fd, buf + n, len - n);
			if (w <= 0)
				return fail(name, "send");
		}
		*moved += len;
	}
	/* The host's nc closes its end once it has read our end of file. */
	shutdown(fd, SHUT_WR);
	n = drain(fd, buf, &ignored);
	close(fd);
	return n < 0 ? fail(name, "wait for close") : 0;
}

static int http_get(const char *name, const char *ip, int port, const char *path,
		    unsigned long long *moved)
{
	static char buf[NET_CHUNK];
	int fd = tcp_connect(name, ip, port);
	ssize_t n;

	if (fd < 0)
		return 1;
	n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, ip);
	if (write(fd, buf, n) != n)
		return fail(name, "request");
	/* Headers included: a few hundred bytes against MiBs. */
	n = drain(fd, buf, moved);
	close(fd);
	return n < 0 ? fail(name, "receive") : 0;
}

int main(int argc, char **argv)
{
	unsigned long long t0, moved = 0;
	const char *name = argv[1], *op = argv[2];
	int ret;

	if (argc != 6) {
		fprintf(stderr, "usage: vbench_io NAME OP ARGS... (see the source)\n");
		return 2;
	}
	t0 = now_ns();
	if (!strcmp(op, "blk-read") || !strcmp(op, "blk-write"))
		ret = blk(name, op[4] == 'w', argv[3], strtoul(argv[4], NULL, 0),
			  strtoull(argv[5], NULL, 0), &moved);
	else if (!strcmp(op, "tcp-send"))
		ret = tcp_send(name, argv[3], atoi(argv[4]), argv[5], &moved);
	else if (!strcmp(op, "http-get"))
		ret = http_get(name, argv[3], atoi(argv[4]), argv[5], &moved);
	else
		ret = 2;
	if (!ret)
		printf("HVX-GUEST: vbench result %s %llu %llu\n", name, moved, now_ns() - t0);
	return ret;
}

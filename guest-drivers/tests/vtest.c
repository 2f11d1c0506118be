// SPDX-License-Identifier: GPL-2.0
/*
 * vtest.c - guest-side helper for run-virtio-qemu.sh: what busybox cannot do.
 *
 *   vtest net IP PORT SENDFILE|- RECVFILE   connect, send SENDFILE, half-close,
 *                                           write everything received to RECVFILE
 *   vtest zeroout DEV OFFSET LEN            BLKZEROOUT (REQ_OP_WRITE_ZEROES)
 *
 * Built static so the test initramfs needs no libc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "vtest: %s: %s\n", what, strerror(errno));
	return 1;
}

/*
 * Sends and receives at the same time: the far end (an echo through QEMU's
 * guestfwd) may answer before we finish sending, and neither side may block.
 */
static int do_net(const char *ip, const char *port, const char *in, const char *out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int s, fin = -1, fout, sending = 1;
	long long sent = 0, got = 0;
	char sbuf[16384], rbuf[65536];
	size_t slen = 0, soff = 0;

	sa.sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return die("address");
	if (strcmp(in, "-")) {
		fin = open(in, O_RDONLY);
		if (fin < 0)
			return die(in);
	}
	fout = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fout < 0)
		return die(out);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return die("socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return die("connect");
	if (fin < 0) {
		shutdown(s, SHUT_WR);
		sending = 0;
	}

	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN | (sending ? POLLOUT : 0) };
		int n = poll(&p, 1, 60000);

		if (n == 0) {
			fprintf(stderr, "vtest: timeout (sent %lld, got %lld)\n", sent, got);
			return 1;
		}
		if (n < 0)
			return die("poll");
		if (p.revents & POLLIN || (p.revents & (POLLHUP | POLLERR))) {
			ssize_t r = read(s, rbuf, sizeof(rbuf));

			if (r < 0)
				return die("read");
			if (r == 0)
				break;
			if (write(fout, rbuf, r) != r)
				return die("write");
			got += r;
		}
		if (sending && (p.revents & POLLOUT)) {
			ssize_t w;

			if (soff == slen) {
				ssize_t r = read(fin, sbuf, sizeof(sbuf));

				if (r < 0)
					return die("read input");
				if (r == 0) {
					shutdown(s, SHUT_WR);
					sending = 0;
					continue;
				}
				slen = r;
				soff = 0;
			}
			w = write(s, sbuf + soff, slen - soff);
			if (w < 0)
				return die("send");
			soff += w;
			sent += w;
		}
	}
	if (sending) {
		fprintf(stderr, "vtest: peer closed early after %lld bytes\n", sent);
		return 1;
	}
	printf("sent %lld received %lld\n", sent, got);
	return close(fout) ? die("close") : 0;
}

static int do_zeroout(const char *dev, const char *off, const char *len)
{
	uint64_t range[2] = { strtoull(off, NULL, 0), strtoull(len, NULL, 0) };
	int fd = open(dev, O_WRONLY);

	if (fd < 0)
		return die(dev);
	if (ioctl(fd, BLKZEROOUT, range))
		return die("BLKZEROOUT");
	return close(fd) ? die("close") : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "net"))
		return do_net(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "zeroout"))
		return do_zeroout(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: vtest net IP PORT SENDFILE|- RECVFILE | zeroout DEV OFF LEN\n");
	return 2;
}

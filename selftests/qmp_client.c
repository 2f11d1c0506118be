// SPDX-License-Identifier: GPL-2.0
/* qmp_client.c - a minimal QMP client for the test host (which has no socat or Python): sends requests, prints what comes back. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: qmp_client [-t SECONDS] [-n] [-w EVENT] SOCKET [REQUEST]...
 * Connects, prints the greeting, negotiates (unless -n), then sends each
 * REQUEST (raw text, sent as given) and prints every line that comes back
 * until the reply to it ("return" or "error") has arrived.  -w EVENT: at
 * the end, wait for that event too.  Exit 0, or 1 on a timeout or a
 * closed connection before a reply.
 */
static int fd;
static char buf[1 << 16];
static size_t have;
static int timeout_ms = 10000;
static char line[1 << 16];

/* The next line from the server, printed; 0, or 1 on a timeout or close. */
static int read_line(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char *nl = memchr(buf, '\n', have);

		if (nl) {
			size_t len = nl - buf + 1;

			memcpy(line, buf, len - 1);
			line[len - 1] = 0;
			if (len > 1 && line[len - 2] == '\r')
				line[len - 2] = 0;
			memmove(buf, buf + len, have - len);
			have -= len;
			printf("%s\n", line);
			fflush(stdout);
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		int left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					      (t.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (left <= 0 || poll(&p, 1, left) <= 0) {
			fprintf(stderr, "qmp_client: timed out\n");
			return 1;
		}
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n <= 0) {
			fprintf(stderr, "qmp_client: connection closed\n");
			return 1;
		}
		have += n;
	}
}

static bool is_event(void)
{
	return strstr(line, "\"event\":") != NULL;
}

/* Send @req and print lines up to its reply (events may come first). */
static int request(const char *req)
{
	size_t len = strlen(req);

	if (write(fd, req, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "qmp_client: write: %s\n", strerror(errno));
		return 1;
	}
	do {
		if (read_line())
			return 1;
	} while (is_event());
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *wait_event = NULL;
	bool negotiate = true;
	int opt, i, ret = 0;

	while ((opt = getopt(argc, argv, "t:nw:")) != -1) {
		switch (opt) {
		case 't': timeout_ms = atoi(optarg) * 1000; break;
		case 'n': negotiate = false; break;
		case 'w': wait_event = optarg; break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: qmp_client [-t S] [-n] [-w EVENT] SOCKET [REQUEST]...\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[optind]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "qmp_client: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (read_line())
		return 1;
	if (negotiate && request("{\"execute\": \"qmp_capabilities\"}"))
		return 1;
	for (i = optind + 1; i < argc && !ret; i++)
		ret = request(argv[i]);
	if (!ret && wait_event) {
		char want[128];

		snprintf(want, sizeof(want), "\"event\": \"%s\"", wait_event);
		do {
			ret = read_line();
		} while (!ret && !strstr(line, want));
	}
	close(fd);
	return ret;
}

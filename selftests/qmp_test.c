// SPDX-License-Identifier: GPL-2.0
/* qmp_test.c - hvx-run's QMP server linked alone: the protocol, its errors, clients misbehaving. */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"
#include "control/qmp.h"

#define WAIT_MS		2000	/* for a reply that must come */
#define QUIET_MS	200	/* for one that must not */

static char sock_path[108];
static char file_path[108];
static char err_path[108];
static int saved_stderr = -1;

/* A client: plain blocking socket, lines split off a buffer with poll timeouts. */
struct cl {
	int fd;
	size_t len;
	char buf[1 << 17];
	char line[1 << 17];
};

static struct cl m, b, c3, f, n;	/* main, second, third, flooder, not negotiated */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static struct sockaddr_un addr(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	return sa;
}

static bool cl_open(struct cl *c)
{
	struct sockaddr_un sa = addr(sock_path);

	c->len = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return false;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ktap_diag("connect %s: %s", sock_path, strerror(errno));
		close(c->fd);
		c->fd = -1;
		return false;
	}
	return true;
}

/* Quietly: whether anything listens at the path. */
static bool can_connect(void)
{
	struct sockaddr_un sa = addr(sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));

	if (fd >= 0)
		close(fd);
	return ok;
}

static void cl_close(struct cl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static bool cl_sendn(struct cl *c, const char *s, size_t len)
{
	ssize_t r;

	while (len) {
		r = send(c->fd, s, len, MSG_NOSIGNAL);
		if (r <= 0) {
			ktap_diag("send: %s", r < 0 ? strerror(errno) : "nothing sent");
			return false;
		}
		s += r;
		len -= r;
	}
	return true;
}

static bool cl_send(struct cl *c, const char *s)
{
	return cl_sendn(c, s, strlen(s));
}

/* The next message without its CRLF, or NULL on timeout or EOF. */
static const char *cl_line(struct cl *c, int ms)
{
	int64_t end = now_ms() + ms;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	size_t len;
	ssize_t r;
	char *e;

	for (;;) {
		e = memmem(c->buf, c->len, "\r\n", 2);
		if (e) {
			len = e - c->buf;
			memcpy(c->line, c->buf, len);
			c->line[len] = 0;
			c->len -= len + 2;
			memmove(c->buf, e + 2, c->len);
			return c->line;
		}
		if (c->len == sizeof(c->buf) || now_ms() >= end)
			return NULL;
		if (poll(&p, 1, end - now_ms()) <= 0)
			return NULL;
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r <= 0)
			return NULL;
		c->len += r;
	}
}

/* Nothing arrives for a while. */
static bool cl_quiet(struct cl *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	return !c->len && poll(&p, 1, ms) == 0;
}

/* The server closes the connection within @ms; @data: after sending more (dropped here). */
static bool cl_eof(struct cl *c, int ms, bool data)
{
	int64_t end = now_ms() + ms;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t r;

	if (c->len && !data)
		return false;
	c->len = 0;
	while (now_ms() < end) {
		if (poll(&p, 1, end - now_ms()) <= 0)
			return false;
		r = read(c->fd, c->buf, sizeof(c->buf));
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0 || !data) {
			ktap_diag("want EOF, got %s", r < 0 ? strerror(errno) : "more data");
			return false;
		}
	}
	return false;
}

/* The next message is @want; says what came instead. */
static bool check(struct cl *c, const char *want)
{
	const char *got = cl_line(c, WAIT_MS);

	if (got && !strcmp(got, want))
		return true;
	ktap_diag("want: %s", want);
	ktap_diag("got:  %s", got ? got : "(nothing: timeout or EOF)");
	return false;
}

static bool send_check(struct cl *c, const char *req, const char *want)
{
	return cl_send(c, req) && check(c, want);
}

/* What the server says on stderr goes to a file, to be checked and kept off the KTAP stream. */
static void stderr_capture(void)
{
	int fd = open(err_path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);

	fflush(stderr);
	saved_stderr = dup(2);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

/* Back to the real stderr; whether what was said contains @want. */
static bool stderr_said(const char *want)
{
	char text[4096] = "";
	ssize_t len = 0;
	int fd;

	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
	fd = open(err_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	text[len > 0 ? len : 0] = 0;
	if (strstr(text, want))
		return true;
	ktap_diag("stderr: want \"%s\", got \"%s\"", want, text);
	return false;
}

#define VERSION "{\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"hvx-run\"}"
#define GREETING "{\"QMP\": {\"version\": " VERSION ", \"capabilities\": []}}"
#define QV	"{\"execute\": \"query-version\"}\n"
#define QV_ID(id)	"{\"execute\": \"query-version\", \"id\": " #id "}\n"
#define RV	"{\"return\": " VERSION "}"
#define RV_ID(id)	"{\"return\": " VERSION ", \"id\": " #id "}"
#define PARSE_ERR	"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
#define GENERIC(d)	"{\"error\": {\"class\": \"GenericError\", \"desc\": \"" d "\"}}"
#define NOT_OBJECT	GENERIC("QMP input must be a JSON object")
#define CNF(d)		"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"" d "\"}"
#define NEG_FIRST	"Expecting capabilities negotiation with 'qmp_capabilities'"
#define CAPS(a)		"{\"execute\": \"qmp_capabilities\", \"arguments\": {" a "}}"
#define ECHO(v)		"{\"execute\": \"echo-args\", \"arguments\": {\"value\": " v "}}"
#define TYPED(a)	"{\"execute\": \"typed\", \"arguments\": {" a "}}"
#define TYPED_RET(n, has_n, flag, has_flag) \
	"{\"return\": {\"n\": " n ", \"has-n\": " has_n ", \"flag\": " flag ", \"has-flag\": " \
	has_flag "}}"

/* The next message is a JSON parse error (whatever its detail). */
static bool parse_error(struct cl *c)
{
	const char *got = cl_line(c, WAIT_MS);

	if (got && !strncmp(got, PARSE_ERR, strlen(PARSE_ERR)))
		return true;
	ktap_diag("want a JSON parse error, got: %s", got ? got : "(nothing)");
	return false;
}

static bool negotiate(struct cl *c)
{
	return check(c, GREETING) &&
	       send_check(c, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
}

/* Stub commands */

static void cmd_echo_args(const struct json *args, struct qmp_reply *r)
{
	const char *value;

	if (qmp_args_check(r, args, "value", NULL) && qmp_arg_str(r, args, "value", true, &value))
		qmp_return(r, "%s", qmp_json_str(value));
}

static void cmd_typed(const struct json *args, struct qmp_reply *r)
{
	bool flag = false, has_flag, has_n;
	int64_t num = 7;

	if (!qmp_args_check(r, args, "n", "flag", NULL) ||
	    !qmp_arg_int(r, args, "n", false, &has_n, &num) ||
	    !qmp_arg_bool(r, args, "flag", false, &has_flag, &flag))
		return;
	qmp_return(r, "{\"n\": %" PRId64 ", \"has-n\": %s, \"flag\": %s, \"has-flag\": %s}", num,
		   has_n ? "true" : "false", flag ? "true" : "false", has_flag ? "true" : "false");
}

/* ["key:type[:length]", ...] of its arguments, through the read-only accessors */
static void cmd_describe(const struct json *args, struct qmp_reply *r)
{
	char out[1024], *p = out;
	const struct json *v;
	size_t i;

	*p++ = '[';
	for (i = 0; i < json_object_len(args) && p < out + sizeof(out) - 128; i++) {
		v = json_get(args, json_object_key(args, i));
		p += sprintf(p, "%s\"%.32s:%d", i ? ", " : "", json_object_key(args, i),
			     json_type(v));
		if (json_type(v) == JSON_ARRAY)
			p += sprintf(p, ":%zu:%d", json_array_len(v),
				     json_type(json_array_at(v, json_array_len(v) - 1)));
		*p++ = '"';
	}
	strcpy(p, "]");
	qmp_return(r, "%s", out);
}

static void cmd_fail(const struct json *args, struct qmp_reply *r)
{
	(void)args;
	qmp_error(r, "DeviceNotFound", "Device '%s' not found", "nope");
}

static void cmd_bad_json(const struct json *args, struct qmp_reply *r)
{
	(void)args;
	qmp_return(r, "{\"a\": }");
}

static void cmd_emit(const struct json *args, struct qmp_reply *r)
{
	(void)args;
	qmp_event("INSIDE", "{\"from\": %s}", qmp_json_str("handler"));
	qmp_return(r, "{\"done\": true}");
}

static void cmd_quit(const struct json *args, struct qmp_reply *r)
{
	(void)args;
	qmp_reply_then_close(r);
}

static void cmd_stop_server(const struct json *args, struct qmp_reply *r)
{
	(void)args;
	qmp_stop();
	qmp_return(r, "{\"stopping\": true}");
}

static int listener(const char *p)
{
	struct sockaddr_un sa = addr(p);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		ktap_diag("listener %s: %s", p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! qmp_test hung\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to tell */
	}
	unlink(sock_path);
	_exit(KSFT_FAIL);
}

/* The start-up cases: what is at the path decides. */
static void test_start(void)
{
	const char *why = NULL;
	struct stat st;
	int fd, lfd;
	bool ok;

	fd = open(file_path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	ok = qmp_start(file_path, &why) == -1 && why && !stat(file_path, &st) &&
	     S_ISREG(st.st_mode);
	ktap_diag("regular file: %s", why ? why : "(no reason)");
	ktap_result(ok, "file_in_the_way_is_refused_and_kept");
	unlink(file_path);

	snprintf(sock_path, sizeof(sock_path), "/tmp/qmp_test.%d.sock", (int)getpid());
	unlink(sock_path);
	why = NULL;
	lfd = listener(sock_path);
	ok = lfd >= 0 && qmp_start(sock_path, &why) == -1 && why;
	ktap_diag("live listener: %s", why ? why : "(no reason)");
	ok = ok && cl_open(&m);		/* still ours, still listening */
	cl_close(&m);
	ktap_result(ok, "live_socket_is_refused_and_kept");

	/* closed without unlink: the file a killed server leaves */
	if (lfd >= 0)
		close(lfd);
	why = NULL;
	ok = !stat(sock_path, &st) && S_ISSOCK(st.st_mode) && qmp_start(sock_path, &why) == 0;
	if (why)
		ktap_diag("stale socket: %s", why);
	ktap_result(ok, "stale_socket_is_replaced");
	if (!ok) {
		ktap_diag("no server, nothing more to test");
		exit(ktap_finish());
	}
	why = NULL;
	ktap_result(qmp_start(sock_path, &why) == -1 && why, "second_start_is_refused");
}

static void test_negotiation(void)
{
	bool ok;

	ktap_result(cl_open(&m) && check(&m, GREETING), "greeting_shape");

	ok = send_check(&m, QV, CNF(NEG_FIRST) "}");
	ok &= send_check(&m, "{\"execute\": \"no-such\", \"id\": 3}",
			 CNF(NEG_FIRST) ", \"id\": 3}");
	ktap_result(ok, "commands_before_negotiation_are_refused");

	ok = send_check(&m, CAPS("\"enable\": [\"oob\"]"),
			GENERIC("Capability 'oob' not available"));
	ok &= send_check(&m, CAPS("\"enable\": [\"x\"]"),
			 GENERIC("Parameter 'enable[0]' does not accept value 'x'"));
	ok &= send_check(&m, CAPS("\"enable\": [1]"),
			 GENERIC("Invalid parameter type for 'enable[0]', expected: string"));
	ok &= send_check(&m, CAPS("\"x\": 1"), GENERIC("Parameter 'x' is unexpected"));
	ktap_result(ok, "unknown_capability_is_refused");

	ktap_result(send_check(&m, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
			       "{\"enable\": []}, \"id\": \"neg\"}",
			       "{\"return\": {}, \"id\": \"neg\"}"),
		    "negotiation");
	ktap_result(send_check(&m, "{\"execute\": \"qmp_capabilities\"}",
			       CNF("Capabilities negotiation is already complete, command ignored")
			       "}"),
		    "negotiation_again_is_refused");
}

static void test_commands(void)
{
	bool ok;

	ktap_result(send_check(&m, QV, RV), "query_version");
	ktap_result(send_check(&m, "{\"execute\": \"query-commands\"}",
			       "{\"return\": [{\"name\": \"qmp_capabilities\"}, "
			       "{\"name\": \"query-commands\"}, {\"name\": \"query-version\"}, "
			       "{\"name\": \"echo-args\"}, {\"name\": \"typed\"}, "
			       "{\"name\": \"describe\"}, {\"name\": \"fail\"}, "
			       "{\"name\": \"bad-json\"}, {\"name\": \"emit\"}, "
			       "{\"name\": \"quit\"}, {\"name\": \"stop-server\"}]}"),
		    "query_commands_lists_builtins_and_registered");
	ktap_result(send_check(&m, "{\"id\": -12, \"execute\": \"query-version\"}", RV_ID(-12)),
		    "integer_id_is_echoed");
	ktap_result(send_check(&m, "{\"execute\": \"query-version\", "
			       "\"id\": \"a \\\"b\\\" \xc3\xa9\"}",
			       "{\"return\": " VERSION ", \"id\": \"a \\\"b\\\" \\u00e9\"}"),
		    "string_id_is_echoed");
	ktap_result(send_check(&m, "{\"execute\": \"query-version\", \"id\": "
			       "{\"k\": [1, -2.5e3, null, true, false, {}, []], \"s\": \"x\"}}",
			       "{\"return\": " VERSION ", \"id\": "
			       "{\"k\": [1, -2.5e3, null, true, false, {}, []], \"s\": \"x\"}}"),
		    "object_id_is_echoed");
	ktap_result(send_check(&m, "{\"execute\": \"nope\", \"id\": 1}",
			       "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
			       "\"The command nope has not been found\"}, \"id\": 1}"),
		    "unknown_command_is_not_found");
	ktap_result(send_check(&m, "{\"execute\": \"fail\"}",
			       "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": "
			       "\"Device 'nope' not found\"}}"),
		    "handler_error_class_is_kept");
	stderr_capture();
	ok = send_check(&m, "{\"execute\": \"bad-json\"}",
			GENERIC("Internal error: command 'bad-json' returned invalid JSON"));
	ok &= stderr_said("qmp: command 'bad-json' returned bad JSON");
	ktap_result(ok, "handler_bad_json_becomes_an_error");
	ok = send_check(&m, "{\"execute\": \"describe\", \"arguments\": {\"a\": [1, \"x\", [2]], "
			"\"b\": null, \"c\": 1.5, \"d\": {\"e\": true}, \"f\": 3, \"g\": \"s\"}}",
			"{\"return\": [\"a:5:3:5\", \"b:0\", \"c:3\", \"d:6\", \"f:2\", \"g:4\"]}");
	ok &= send_check(&m, "{\"execute\": \"describe\"}", "{\"return\": []}");
	ktap_result(ok, "handlers_see_the_parsed_arguments");
}

static void test_bad_requests(void)
{
	bool ok;

	ok = cl_send(&m, "{\"execute\": }\n") && parse_error(&m);
	ok &= send_check(&m, QV_ID(1), RV_ID(1));
	ktap_result(ok, "missing_value_is_a_parse_error");

	ok = cl_send(&m, "}\n") && parse_error(&m);
	ok &= send_check(&m, QV_ID(2), RV_ID(2));
	ktap_result(ok, "stray_close_is_a_parse_error");

	ok = cl_send(&m, "{\"execute\": \"query-version\n") && parse_error(&m);
	ok &= send_check(&m, QV_ID(3), RV_ID(3));
	ktap_result(ok, "unterminated_string_recovers_at_the_newline");

	/* only incomplete: the next line's '{' shows it will never end */
	ok = cl_send(&m, "[1,2\n") && cl_quiet(&m, QUIET_MS);
	ok = ok && cl_send(&m, QV_ID(4)) && parse_error(&m) && check(&m, RV_ID(4));
	ktap_result(ok, "unclosed_array_recovers_at_the_next_request");

	/* skipped to the end of the bad value, brackets and strings counted: one error */
	ok = cl_send(&m, "{\"execute\": 1 2 {\"x\": [3, \"]}\"]} }" QV_ID(5)) && parse_error(&m);
	ok &= check(&m, RV_ID(5));
	ktap_result(ok, "bad_value_is_skipped_whole");

	/* the spec's way to get a known state: a control character */
	ok = cl_send(&m, "{\"execute\": [1, {\"a\"\x04" QV_ID(6)) && parse_error(&m);
	ok &= check(&m, RV_ID(6));
	ktap_result(ok, "control_character_resets_the_parser");

	ok = send_check(&m, "[1]", NOT_OBJECT) && send_check(&m, "\"x\"", NOT_OBJECT);
	ok &= send_check(&m, "42\n", NOT_OBJECT) && send_check(&m, "null ", NOT_OBJECT);
	ktap_result(ok, "non_object_request_is_refused");

	ok = send_check(&m, "{\"id\": 1}",
			"{\"error\": {\"class\": \"GenericError\", \"desc\": "
			"\"QMP input lacks member 'execute'\"}, \"id\": 1}");
	ok &= send_check(&m, "{\"execute\": 1}",
			 GENERIC("QMP input member 'execute' must be a string"));
	ktap_result(ok, "missing_or_bad_execute_is_refused");

	ok = send_check(&m, "{\"execute\": \"query-version\", \"arguments\": []}",
			GENERIC("QMP input member 'arguments' must be an object"));
	ok &= send_check(&m, "{\"execute\": \"query-version\", \"arguments\": {\"x\": 1}}",
			 GENERIC("Parameter 'x' is unexpected"));
	ktap_result(ok, "arguments_not_an_object_is_refused");

	ok = send_check(&m, "{\"execute\": \"query-version\", \"foo\": 1}",
			GENERIC("QMP input member 'foo' is unexpected"));
	ok &= send_check(&m, "{\"exec-oob\": \"query-version\"}",
			 GENERIC("Out-of-band execution is not supported (no 'oob' capability)"));
	ok &= cl_send(&m, "{\"execute\": \"query-version\", \"id\": 1, \"id\": 2}") &&
	      parse_error(&m);
	ktap_result(ok, "unexpected_or_duplicate_member_is_refused");
}

static void test_arguments(void)
{
	bool ok;

	ktap_result(send_check(&m, "{\"execute\": \"echo-args\"}",
			       GENERIC("Parameter 'value' is missing")),
		    "missing_argument_is_refused");
	ok = send_check(&m, ECHO("1"),
			GENERIC("Invalid parameter type for 'value', expected: string"));
	ok &= send_check(&m, TYPED("\"n\": \"1\""),
			 GENERIC("Invalid parameter type for 'n', expected: integer"));
	ok &= send_check(&m, TYPED("\"n\": 1.0"),
			 GENERIC("Invalid parameter type for 'n', expected: integer"));
	ok &= send_check(&m, TYPED("\"flag\": 1"),
			 GENERIC("Invalid parameter type for 'flag', expected: boolean"));
	ktap_result(ok, "wrong_argument_type_is_refused");
	ktap_result(send_check(&m, "{\"execute\": \"echo-args\", \"arguments\": "
			       "{\"value\": \"a\", \"bogus\": 1}}",
			       GENERIC("Parameter 'bogus' is unexpected")),
		    "unexpected_argument_is_refused");
	ok = send_check(&m, "{\"execute\": \"typed\"}", TYPED_RET("7", "false", "false", "false"));
	ok &= send_check(&m, TYPED("\"n\": -9223372036854775808, \"flag\": true"),
			 TYPED_RET("-9223372036854775808", "true", "true", "true"));
	ok &= send_check(&m, TYPED("\"n\": 9223372036854775807, \"flag\": false"),
			 TYPED_RET("9223372036854775807", "true", "false", "true"));
	ok &= cl_send(&m, TYPED("\"n\": 9223372036854775808")) && parse_error(&m);
	ok &= cl_send(&m, TYPED("\"n\": 1e999")) && parse_error(&m);
	ok &= cl_send(&m, TYPED("\"n\": 01")) && parse_error(&m);
	ktap_result(ok, "integer_and_boolean_arguments");
}

static void test_framing(void)
{
	const char *req = "{\"execute\": \"echo-args\", \"arguments\": {\"value\": \"split\"}, "
			  "\"id\": [1]}";
	char *big, *deep;
	size_t i, len;
	bool ok;

	ok = cl_send(&m, QV_ID(1) QV_ID(2) "  \r\n\t" QV_ID(3));
	ok &= check(&m, RV_ID(1)) && check(&m, RV_ID(2)) && check(&m, RV_ID(3));
	ktap_result(ok, "several_requests_in_one_write");

	ok = true;
	for (i = 0; ok && req[i]; i++) {
		ok = cl_sendn(&m, req + i, 1);
		usleep(100);
	}
	ktap_result(ok && check(&m, "{\"return\": \"split\", \"id\": [1]}"),
		    "request_split_byte_by_byte");

	ktap_result(send_check(&m, ECHO("\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t"
					"\\u0001\\u0041 \xc3\xa9\xf0\x9f\x98\x80\""),
			       "{\"return\": \"\\u00e9\\ud83d\\ude00\\\"\\\\/\\b\\f\\n\\r\\t"
			       "\\u0001A \\u00e9\\ud83d\\ude00\"}"),
		    "string_escapes_round_trip");

	ok = true;
	ok &= cl_send(&m, ECHO("\"\\udc00\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\\ud800x\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\\ud800\\u0041\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\\u0000\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\\q\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\\u12g4\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\xe9t\xe9\"")) && parse_error(&m);
	ok &= cl_send(&m, ECHO("\"\xc0\xaf\"")) && parse_error(&m);
	ok &= send_check(&m, QV_ID(8), RV_ID(8));
	/* a control character: a lexical error, everything pending is dropped */
	ok &= cl_send(&m, "{\"execute\": \"echo-args\", \"arguments\": {\"value\": \"a\t\n") &&
	      parse_error(&m);
	ok &= send_check(&m, QV_ID(9), RV_ID(9));
	ktap_result(ok, "bad_strings_are_refused");

	/* discarded (the connection stays) */
	len = 70000;
	big = malloc(len + 128);
	len = sprintf(big, "{\"execute\": \"echo-args\", \"arguments\": {\"value\": \"");
	memset(big + len, 'x', 70000);
	len += 70000;
	strcpy(big + len, "\"}}\n");
	ok = cl_send(&m, big) && parse_error(&m);
	ok &= send_check(&m, QV_ID(10), RV_ID(10));
	ktap_result(ok, "over_long_request_is_discarded");
	free(big);

	/* 32 levels: the request object and 31 arrays as its id */
	deep = malloc(256);
	len = sprintf(deep, "{\"execute\": \"query-version\", \"id\": ");
	for (i = 0; i < 31; i++)
		deep[len++] = '[';
	for (i = 0; i < 31; i++)
		deep[len++] = ']';
	strcpy(deep + len, "}");
	ok = cl_send(&m, deep) &&
	     check(&m, RV_ID([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]));
	len = sprintf(deep, "{\"execute\": \"query-version\", \"id\": ");
	for (i = 0; i < 40; i++)
		deep[len++] = '[';
	for (i = 0; i < 40; i++)
		deep[len++] = ']';
	strcpy(deep + len, "}");
	ok &= cl_send(&m, deep) && parse_error(&m);
	ok &= send_check(&m, QV_ID(11), RV_ID(11));
	ktap_result(ok, "nesting_deeper_than_32_is_refused");
	free(deep);
}

static void test_clients(void)
{
	static struct cl quick;
	struct cl *extra;
	int i;
	bool ok;

	ok = cl_open(&b) && cl_send(&b, "{\"execute\": \"query-ver");
	cl_close(&b);
	ktap_result(ok && send_check(&m, QV_ID(1), RV_ID(1)), "client_leaving_mid_request");

	ok = cl_open(&b) && cl_open(&c3) && negotiate(&b) && negotiate(&c3);
	ok &= cl_send(&c3, QV_ID(3)) && cl_send(&b, QV_ID(2)) && cl_send(&m, QV_ID(1));
	ok &= check(&m, RV_ID(1)) && check(&b, RV_ID(2)) && check(&c3, RV_ID(3));
	ktap_result(ok, "three_clients_at_once");

	/* 3 connected: 5 more fill the 8 places, a ninth is closed at once */
	extra = calloc(6, sizeof(*extra));
	ok = true;
	for (i = 0; i < 5; i++)
		ok &= cl_open(&extra[i]) && check(&extra[i], GREETING);
	ok &= cl_open(&extra[5]) && cl_eof(&extra[5], WAIT_MS, false);
	for (i = 0; i < 6; i++)
		cl_close(&extra[i]);
	free(extra);
	ktap_result(ok, "ninth_client_is_refused");

	/* the places come back */
	usleep(50000);
	ok = cl_open(&n) && check(&n, GREETING);
	ktap_result(ok && send_check(&n, QV_ID(4), CNF(NEG_FIRST) ", \"id\": 4}"),
		    "closed_places_are_reused");

	/* connections closed before the server took them must not fill the places */
	ok = true;
	for (i = 0; i < 20; i++) {
		ok &= cl_open(&quick);
		cl_close(&quick);
	}
	ok &= cl_open(&quick) && check(&quick, GREETING);
	cl_close(&quick);
	ktap_result(ok, "reconnecting_in_a_loop_is_served");
}

/* {"event": NAME, "data": DATA, "timestamp": {...}} with a timestamp near now */
static bool check_event(struct cl *c, const char *prefix)
{
	const char *got = cl_line(c, WAIT_MS);
	long long sec, usec;
	char tail[8];

	if (got && !strncmp(got, prefix, strlen(prefix)) &&
	    sscanf(got + strlen(prefix), ", \"timestamp\": {\"seconds\": %lld, \"microseconds\": "
		   "%lld}%7s", &sec, &usec, tail) == 3 && !strcmp(tail, "}") &&
	    llabs(sec - (long long)time(NULL)) <= 5 && usec >= 0 && usec < 1000000)
		return true;
	ktap_diag("want: %s, \"timestamp\": {...}}", prefix);
	ktap_diag("got:  %s", got ? got : "(nothing: timeout or EOF)");
	return false;
}

static void test_events(void)
{
	bool ok;

	qmp_event("TEST_EVENT", "{\"n\": %d, \"s\": %s}", 42, qmp_json_str("\u00e9"));
#define TEST_EVENT "{\"event\": \"TEST_EVENT\", \"data\": {\"n\": 42, \"s\": \"\\u00e9\"}"
	ok = check_event(&m, TEST_EVENT) && check_event(&b, TEST_EVENT);
	ok &= cl_quiet(&n, QUIET_MS);
	ktap_result(ok, "event_reaches_negotiated_clients_only");

	qmp_event("BARE", NULL);
	ok = check_event(&m, "{\"event\": \"BARE\"") && check_event(&b, "{\"event\": \"BARE\"");
	stderr_capture();
	qmp_event("BAD", "[1]");	/* not an object: dropped, with a line on stderr */
	qmp_event("BAD", "{\"a\": ");
	ok &= stderr_said("qmp: event BAD dropped, bad data (not an object): [1]");
	ok &= cl_quiet(&m, QUIET_MS);
	ktap_result(ok, "event_without_data_and_bad_data");

	ok = cl_send(&m, "{\"execute\": \"emit\", \"id\": 1}");
	ok &= check_event(&m, "{\"event\": \"INSIDE\", \"data\": {\"from\": \"handler\"}");
	ok &= check(&m, "{\"return\": {\"done\": true}, \"id\": 1}");
	ok &= check_event(&b, "{\"event\": \"INSIDE\", \"data\": {\"from\": \"handler\"}");
	ktap_result(ok, "event_from_a_handler_comes_before_its_reply");
}

/* A client that never reads: neither its requests nor events may hold the server up. */
static void test_flood(void)
{
	static char chunk[65536], data[1100];
	int64_t end;
	size_t i, off;
	bool ok;
	ssize_t r;

	/* only f and n are left: the others would get the events too */
	cl_close(&m);
	cl_close(&b);
	cl_close(&c3);
	ok = cl_open(&f) && negotiate(&f);
	for (off = 0; off + sizeof(QV) <= sizeof(chunk); off += sizeof(QV) - 1)
		memcpy(chunk + off, QV, sizeof(QV) - 1);
	end = now_ms() + WAIT_MS;
	do {
		r = send(f.fd, chunk, off, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (r > 0 && now_ms() < end);
	ok &= r < 0 && errno == EAGAIN;		/* the server stopped reading it */
	end = now_ms();
	ok &= send_check(&n, QV_ID(1), CNF(NEG_FIRST) ", \"id\": 1}");
	ktap_diag("answered in %lld ms while a client reads nothing", (long long)(now_ms() - end));
	ktap_result(ok, "pipelining_client_does_not_block_others");

	/* its replies plus 6 MiB of events: past the 4 MiB limit it is cut off */
	memset(data, 'e', sizeof(data) - 1);
	for (i = 0; i < 6000; i++)
		qmp_event("FLOOD", "{\"i\": %zu, \"pad\": \"%s\"}", i, data);
	ok = send_check(&n, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
	ok &= send_check(&n, QV_ID(2), RV_ID(2));
	ok &= cl_eof(&f, 5000, true);
	cl_close(&f);
	ktap_result(ok, "client_not_reading_events_is_cut_off");
}

static void test_endings(void)
{
	struct stat st;
	bool ok;
	int i;

	ok = cl_open(&m) && negotiate(&m);
	ok &= cl_send(&m, "{\"execute\": \"quit\", \"id\": \"q\"}" QV_ID(2));
	/* and the request after it is not answered */
	ok &= check(&m, "{\"return\": {}, \"id\": \"q\"}") && cl_eof(&m, WAIT_MS, false);
	cl_close(&m);
	ktap_result(ok, "quit_replies_then_closes");

	ok = cl_open(&m) && negotiate(&m) && cl_send(&m, QV_ID(3));
	ok &= !shutdown(m.fd, SHUT_WR);
	ok &= check(&m, RV_ID(3)) && cl_eof(&m, WAIT_MS, false);
	cl_close(&m);
	ktap_result(ok, "half_closed_client_gets_its_replies");

	qmp_stop();
	ok = stat(sock_path, &st) < 0 && errno == ENOENT;
	ok &= cl_eof(&n, WAIT_MS, false);
	cl_close(&n);
	qmp_stop();
	qmp_event("AFTER", NULL);
	ktap_result(ok && !can_connect(), "stop_removes_the_socket_and_closes_clients");

	ok = qmp_start(sock_path, NULL) == 0 && cl_open(&m) && negotiate(&m);
	ok &= send_check(&m, QV_ID(4), RV_ID(4));
	ktap_result(ok, "server_starts_again_after_stop");

	/* the reply still goes out; the thread ends on its own */
	ok = send_check(&m, "{\"execute\": \"stop-server\"}", "{\"return\": {\"stopping\": true}}");
	ok &= cl_eof(&m, WAIT_MS, false) && stat(sock_path, &st) < 0 && errno == ENOENT;
	cl_close(&m);
	for (i = 0; i < 100 && qmp_start(sock_path, NULL); i++)
		usleep(10000);
	ok &= cl_open(&m) && check(&m, GREETING);
	cl_close(&m);
	qmp_stop();
	ktap_result(ok && stat(sock_path, &st) < 0, "stop_from_a_handler");
}

int main(void)
{
	int64_t start = now_ms();

	signal(SIGALRM, on_alarm);
	alarm(30);
	m.fd = b.fd = c3.fd = f.fd = n.fd = -1;
	snprintf(file_path, sizeof(file_path), "/tmp/qmp_test.%d.file", (int)getpid());
	snprintf(err_path, sizeof(err_path), "/tmp/qmp_test.%d.err", (int)getpid());

	qmp_register("echo-args", cmd_echo_args);
	qmp_register("typed", cmd_typed);
	qmp_register("describe", cmd_describe);
	qmp_register("fail", cmd_fail);
	qmp_register("bad-json", cmd_bad_json);
	qmp_register("emit", cmd_emit);
	qmp_register("quit", cmd_fail);
	qmp_register("quit", cmd_quit);		/* registering again replaces */
	qmp_register("stop-server", cmd_stop_server);

	ktap_plan(53);
	test_start();
	test_negotiation();
	test_commands();
	test_bad_requests();
	test_arguments();
	test_framing();
	test_clients();
	test_events();
	test_flood();
	test_endings();
	unlink(sock_path);
	unlink(err_path);
	ktap_diag("%lld ms", (long long)(now_ms() - start));
	return ktap_finish();
}

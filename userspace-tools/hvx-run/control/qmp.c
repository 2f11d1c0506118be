// SPDX-License-Identifier: GPL-2.0
/* control/qmp.c - the QMP server: JSON in and out, the unix socket, clients, dispatch, events. */
#define _GNU_SOURCE	/* accept4, pipe2, pthread_setname_np, pthread_timedjoin_np, vasprintf */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"

/*
 * Written from docs/interop/qmp-spec.rst.  One thread ("hvx-qmp") owns the listening socket
 * and every client: it polls them, parses their requests as bytes arrive and runs the
 * handlers, one at a time.  Other threads only add events to the clients' output queues.
 */

#define QMP_MAX_CLIENTS		8
#define QMP_MAX_REQUEST		(64 * 1024)	/* bytes in one request */
#define QMP_MAX_DEPTH		32		/* arrays and objects open at once in a request */
#define QMP_OUT_DEPTH		256		/* the same, in what handlers and events print */
/*
 * Output is queued per client and sent without blocking.  A client that does not read has
 * its requests left unread once this much waits for it (so it cannot make us queue without
 * bound by pipelining), and is cut off when events alone pile up past QMP_OUT_MAX.
 */
#define QMP_OUT_PAUSE		(64 * 1024)
#define QMP_OUT_MAX		(4 * 1024 * 1024)
/* How long a closing client ("quit", or it sent EOF) may take to read its last replies. */
#define QMP_CLOSE_GRACE_MS	2000

#define QMP_VERSION \
	"{\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"hvx-run\"}"
#define QMP_GREETING	"{\"QMP\": {\"version\": " QMP_VERSION ", \"capabilities\": []}}\r\n"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		/* Requests are bounded, so only the VMM itself can get here. */
		fputs("hvx-run: qmp: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("hvx-run: qmp: out of memory\n", stderr);
		abort();
	}
	return s;
}

/* A growing string, always NUL-terminated once allocated. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_need(struct sbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 64;

	if (b->len + more + 1 <= b->cap)
		return;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	sb_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_need(b, n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

static void sb_reset(struct sbuf *b)
{
	sb_need(b, 0);
	b->len = 0;
	b->p[0] = 0;
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * One UTF-8 sequence at @s (@n bytes left): its length, or 0 when it is not UTF-8 (overlong
 * forms, surrogates and values past U+10FFFF included).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t len;

	for (; n; p += len, n -= len) {
		len = utf8_decode(p, n, &cp);
		if (!len)
			return false;
	}
	return true;
}

static void utf8_put(struct sbuf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		sb_addc(b, cp);
	} else if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		sb_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		sb_add(b, u, 3);
	} else {
		u[0] = 0xf0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3f);
		u[2] = 0x80 | (cp >> 6 & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		sb_add(b, u, 4);
	}
}

/* JSON values */

struct json {
	enum json_type type;
	union {
		bool b;
		int64_t i;
		struct {
			double d;
			char *text;	/* as the client wrote it, to print it back unchanged */
		} real;
		char *s;
		struct {
			struct json **v;
			char **k;	/* objects only */
			size_t n, cap;
		} c;
	} u;
};

static struct json *json_new(enum json_type type)
{
	struct json *v = xrealloc(NULL, sizeof(*v));

	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

static void json_free(struct json *v)
{
	size_t i;

	if (!v)
		return;
	switch (v->type) {
	case JSON_REAL:
		free(v->u.real.text);
		break;
	case JSON_STRING:
		free(v->u.s);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		for (i = 0; i < v->u.c.n; i++) {
			json_free(v->u.c.v[i]);
			if (v->u.c.k)
				free(v->u.c.k[i]);
		}
		free(v->u.c.v);
		free(v->u.c.k);
		break;
	default:
		break;
	}
	free(v);
}

/* Adds @v (and, to an object, @key) to container @c, which then owns both. */
static void json_add(struct json *c, char *key, struct json *v)
{
	if (c->u.c.n == c->u.c.cap) {
		c->u.c.cap = c->u.c.cap ? 2 * c->u.c.cap : 4;
		c->u.c.v = xrealloc(c->u.c.v, c->u.c.cap * sizeof(*c->u.c.v));
		if (c->type == JSON_OBJECT)
			c->u.c.k = xrealloc(c->u.c.k, c->u.c.cap * sizeof(*c->u.c.k));
	}
	if (c->type == JSON_OBJECT)
		c->u.c.k[c->u.c.n] = key;
	c->u.c.v[c->u.c.n++] = v;
}

enum json_type json_type(const struct json *v)
{
	return v ? v->type : JSON_NULL;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->u.c.n; i++)
		if (!strcmp(obj->u.c.k[i], key))
			return obj->u.c.v[i];
	return NULL;
}

const char *json_string(const struct json *v)
{
	return v && v->type == JSON_STRING ? v->u.s : NULL;
}

bool json_bool(const struct json *v, bool *out)
{
	if (!v || v->type != JSON_BOOL)
		return false;
	*out = v->u.b;
	return true;
}

bool json_int(const struct json *v, int64_t *out)
{
	if (!v || v->type != JSON_INT)
		return false;
	*out = v->u.i;
	return true;
}

size_t json_array_len(const struct json *v)
{
	return v && v->type == JSON_ARRAY ? v->u.c.n : 0;
}

const struct json *json_array_at(const struct json *v, size_t i)
{
	return i < json_array_len(v) ? v->u.c.v[i] : NULL;
}

size_t json_object_len(const struct json *v)
{
	return v && v->type == JSON_OBJECT ? v->u.c.n : 0;
}

const char *json_object_key(const struct json *v, size_t i)
{
	return i < json_object_len(v) ? v->u.c.k[i] : NULL;
}

/* Prints @s as a JSON string in ASCII, as the spec says servers answer. */
static void json_print_str(struct sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, len;
	uint32_t cp;

	if (!s) {
		sb_adds(b, "null");
		return;
	}
	sb_addc(b, '"');
	for (n = strlen(s); n; p += len, n -= len) {
		len = utf8_decode(p, n, &cp);
		if (!len) {
			cp = 0xfffd;
			len = 1;
		}
		switch (cp) {
		case '"':
			sb_adds(b, "\\\"");
			break;
		case '\\':
			sb_adds(b, "\\\\");
			break;
		case '\b':
			sb_adds(b, "\\b");
			break;
		case '\f':
			sb_adds(b, "\\f");
			break;
		case '\n':
			sb_adds(b, "\\n");
			break;
		case '\r':
			sb_adds(b, "\\r");
			break;
		case '\t':
			sb_adds(b, "\\t");
			break;
		default:
			if (cp >= 0x20 && cp < 0x7f) {
				sb_addc(b, cp);
			} else if (cp < 0x10000) {
				sb_printf(b, "\\u%04x", (unsigned int)cp);
			} else {
				cp -= 0x10000;
				sb_printf(b, "\\u%04x\\u%04x", (unsigned int)(0xd800 + (cp >> 10)),
					  (unsigned int)(0xdc00 + (cp & 0x3ff)));
			}
		}
	}
	sb_addc(b, '"');
}

static void json_print(struct sbuf *b, const struct json *v)
{
	size_t i;

	switch (v->type) {
	case JSON_NULL:
		sb_adds(b, "null");
		break;
	case JSON_BOOL:
		sb_adds(b, v->u.b ? "true" : "false");
		break;
	case JSON_INT:
		sb_printf(b, "%" PRId64, v->u.i);
		break;
	case JSON_REAL:
		sb_adds(b, v->u.real.text);
		break;
	case JSON_STRING:
		json_print_str(b, v->u.s);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		sb_addc(b, v->type == JSON_ARRAY ? '[' : '{');
		for (i = 0; i < v->u.c.n; i++) {
			if (i)
				sb_adds(b, ", ");
			if (v->type == JSON_OBJECT) {
				json_print_str(b, v->u.c.k[i]);
				sb_adds(b, ": ");
			}
			json_print(b, v->u.c.v[i]);
		}
		sb_addc(b, v->type == JSON_ARRAY ? ']' : '}');
		break;
	}
}

/*
 * The parser takes bytes as they come, so a request may be split anywhere and need not be
 * kept whole: it builds the value as it goes and says when one is complete or wrong.
 *
 * After an error it resynchronises like this.  A lexical error (a control character, or 0xff,
 * the guest agent's old sync byte; the spec's way for a client to force a known state) drops
 * everything pending.  Any other error inside a string, array or object skips what follows,
 * counting brackets and minding strings, to the end of that value or of the line, whichever
 * comes first.  A value that is merely incomplete is not an error by itself (more may come, as
 * with QEMU); but when a line starts with '{' where the unfinished value cannot go on, that is
 * taken as the next request: the unfinished one is answered with an error, the new one parsed.
 */
enum jlex { LX_NONE, LX_STR, LX_ESC, LX_HEX, LX_LOW_BS, LX_LOW_U, LX_NUM, LX_WORD, LX_SKIP };
enum jexp { EX_VALUE, EX_VALUE_OR_CLOSE, EX_KEY, EX_KEY_OR_CLOSE, EX_COLON, EX_COMMA_OR_CLOSE };

enum { JP_MORE, JP_VALUE, JP_ERROR };	/* what jp_feed() stopped at */
#define S_EAT	1	/* one step consumed its byte (else the byte is looked at again) */
#define S_VALUE	2
#define S_ERROR	4

struct jframe {
	struct json *c;		/* an array or object still open */
	char *key;		/* an object's member name waiting for its value */
};

struct jparser {
	int max_depth;
	size_t max_size;	/* 0: no limit */
	enum jlex lex;
	enum jexp exp;
	struct jframe *stack;
	int depth;
	struct sbuf tok;	/* the string (decoded), number or keyword being read */
	bool tok_key;
	unsigned int hex, nhex;	/* a \uXXXX being read */
	unsigned int high;	/* a high surrogate awaiting its low half */
	bool in_value;		/* a value has begun and is not complete */
	bool line_start;	/* nothing but blanks since the last newline */
	bool nl_in_value;	/* the value under way spans a newline */
	size_t size;
	int skip_depth;		/* skipping after an error: brackets still open */
	bool skip_str, skip_esc;
	struct json *value;	/* the complete value, after JP_VALUE; the caller takes it */
	char err[160];		/* after JP_ERROR */
};

static void jp_init(struct jparser *p, int max_depth, size_t max_size)
{
	memset(p, 0, sizeof(*p));
	p->max_depth = max_depth;
	p->max_size = max_size;
	p->stack = xrealloc(NULL, max_depth * sizeof(*p->stack));
	p->line_start = true;
}

/* Forgets the value under way. */
static void jp_drop(struct jparser *p)
{
	while (p->depth > 0) {
		p->depth--;
		json_free(p->stack[p->depth].c);
		free(p->stack[p->depth].key);
	}
	p->lex = LX_NONE;
	p->exp = EX_VALUE;
	p->in_value = false;
	p->high = 0;
	if (p->tok.len)
		sb_reset(&p->tok);
}

static void jp_free(struct jparser *p)
{
	jp_drop(p);
	free(p->stack);
	sb_free(&p->tok);
	json_free(p->value);
	p->stack = NULL;
	p->value = NULL;
}

static void __attribute__((format(printf, 2, 3))) jp_err(struct jparser *p, const char *fmt, ...)
{
	static const char prefix[] = "JSON parse error, ";
	va_list ap;

	memcpy(p->err, prefix, sizeof(prefix));
	va_start(ap, fmt);
	vsnprintf(p->err + sizeof(prefix) - 1, sizeof(p->err) - sizeof(prefix) + 1, fmt, ap);
	va_end(ap);
}

static bool jp_in_string(const struct jparser *p)
{
	return p->lex >= LX_STR && p->lex <= LX_LOW_U;
}

/*
 * After jp_err(): drops the value and starts skipping the rest of it (when inside a string or
 * container), with the lexical state just before the current byte; @eat: that byte is used.
 */
static int jp_fail(struct jparser *p, bool eat, bool in_str, bool esc)
{
	int depth = p->depth;

	jp_drop(p);
	if (depth > 0 || in_str) {
		p->lex = LX_SKIP;
		p->skip_depth = depth;
		p->skip_str = in_str;
		p->skip_esc = esc;
	}
	return S_ERROR | (eat ? S_EAT : 0);
}

static int jp_skip(struct jparser *p, unsigned char c)
{
	if (c == '\n' || (c < 0x20 && c != '\t' && c != '\r') || c == 0xff) {
		p->lex = LX_NONE;
		p->line_start = c == '\n';
		return S_EAT;
	}
	if (p->skip_str) {
		if (p->skip_esc) {
			p->skip_esc = false;
		} else if (c == '\\') {
			p->skip_esc = true;
		} else if (c == '"') {
			p->skip_str = false;
			if (p->skip_depth <= 0)
				p->lex = LX_NONE;
		}
	} else if (c == '"') {
		p->skip_str = true;
	} else if (c == '{' || c == '[') {
		p->skip_depth++;
	} else if (c == '}' || c == ']') {
		if (--p->skip_depth <= 0)
			p->lex = LX_NONE;
	}
	return S_EAT;
}

/* A complete value: the result at the top, else a member of the container open. */
static int jp_attach(struct jparser *p, struct json *v)
{
	struct jframe *f;

	if (p->depth == 0) {
		p->value = v;
		p->in_value = false;
		p->exp = EX_VALUE;
		return S_VALUE;
	}
	f = &p->stack[p->depth - 1];
	json_add(f->c, f->key, v);
	f->key = NULL;
	p->exp = EX_COMMA_OR_CLOSE;
	return 0;
}

/* Byte @c cannot go where it is. */
static int jp_unexpected(struct jparser *p, unsigned char c, bool line_start, const char *what)
{
	if (c == '{' && line_start && p->nl_in_value && p->depth > 0) {
		jp_err(p, "incomplete value before a new request");
		jp_drop(p);
		return S_ERROR;
	}
	if (c >= 0x20 && c < 0x7f)
		jp_err(p, "%s, got '%c'", what, c);
	else
		jp_err(p, "%s, got byte 0x%02x", what, c);
	/* at the top, nothing is open: drop the byte alone */
	return jp_fail(p, p->depth == 0, false, false);
}

static int jp_end_string(struct jparser *p)
{
	struct jframe *f;
	struct json *v;

	p->lex = LX_NONE;
	if (!utf8_valid(p->tok.p, p->tok.len)) {
		jp_err(p, "invalid UTF-8 sequence in string");
		return jp_fail(p, true, false, false);
	}
	if (p->tok_key) {
		f = &p->stack[p->depth - 1];
		if (json_get(f->c, p->tok.p)) {
			jp_err(p, "duplicate key '%.40s'", p->tok.p);
			return jp_fail(p, true, false, false);
		}
		f->key = xstrdup(p->tok.p);
		p->exp = EX_COLON;
		sb_reset(&p->tok);
		return S_EAT;
	}
	v = json_new(JSON_STRING);
	v->u.s = xstrdup(p->tok.p);
	sb_reset(&p->tok);
	return S_EAT | jp_attach(p, v);
}

static int jp_escape(struct jparser *p, unsigned char c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = c ? strchr(from, c) : NULL;

	if (c == 'u') {
		p->lex = LX_HEX;
		p->hex = p->nhex = 0;
		return S_EAT;
	}
	if (!e) {
		if (c >= 0x20 && c < 0x7f)
			jp_err(p, "invalid escape '\\%c' in string", c);
		else
			jp_err(p, "invalid escape in string");
		return jp_fail(p, false, true, false);
	}
	sb_addc(&p->tok, to[e - from]);
	p->lex = LX_STR;
	return S_EAT;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int jp_hex(struct jparser *p, unsigned char c)
{
	int d = hexval(c);

	if (d < 0) {
		jp_err(p, "invalid \\u escape in string");
		return jp_fail(p, false, true, false);
	}
	p->hex = p->hex << 4 | d;
	if (++p->nhex < 4)
		return S_EAT;
	if (p->high) {
		if (p->hex < 0xdc00 || p->hex > 0xdfff) {
			jp_err(p, "\\u%04x in string is not followed by a low surrogate", p->high);
			return jp_fail(p, true, true, false);
		}
		utf8_put(&p->tok, 0x10000 + ((p->high - 0xd800) << 10) + (p->hex - 0xdc00));
		p->high = 0;
	} else if (p->hex >= 0xd800 && p->hex <= 0xdbff) {
		p->high = p->hex;
		p->lex = LX_LOW_BS;
		return S_EAT;
	} else if (p->hex >= 0xdc00 && p->hex <= 0xdfff) {
		jp_err(p, "lone low surrogate \\u%04x in string", p->hex);
		return jp_fail(p, true, true, false);
	} else if (!p->hex) {
		/* handlers get C strings */
		jp_err(p, "\\u0000 is not supported in strings");
		return jp_fail(p, true, true, false);
	} else {
		utf8_put(&p->tok, p->hex);
	}
	p->lex = LX_STR;
	return S_EAT;
}

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

static bool number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdig(*s))
			s++;
	else
		return false;
	if (*s == '.') {
		if (!isdig(*++s))
			return false;
		while (isdig(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdig(*s))
			return false;
		while (isdig(*s))
			s++;
	}
	return !*s;
}

/* The byte after a number ends it; it is looked at again. */
static int jp_end_number(struct jparser *p)
{
	const char *t = p->tok.p;
	struct json *v;
	long long i;
	double d;

	if (!number_ok(t)) {
		jp_err(p, "invalid number '%.40s'", t);
		return jp_fail(p, false, false, false);
	}
	errno = 0;
	if (!strpbrk(t, ".eE")) {
		i = strtoll(t, NULL, 10);
		if (errno == ERANGE) {
			jp_err(p, "integer %.40s is out of range", t);
			return jp_fail(p, false, false, false);
		}
		v = json_new(JSON_INT);
		v->u.i = i;
	} else {
		d = strtod(t, NULL);
		if (errno == ERANGE && isinf(d)) {
			jp_err(p, "number %.40s is out of range", t);
			return jp_fail(p, false, false, false);
		}
		v = json_new(JSON_REAL);
		v->u.real.d = d;
		v->u.real.text = xstrdup(t);
	}
	p->lex = LX_NONE;
	sb_reset(&p->tok);
	return jp_attach(p, v);
}

static int jp_end_word(struct jparser *p)
{
	const char *t = p->tok.p;
	struct json *v;

	if (!strcmp(t, "true") || !strcmp(t, "false")) {
		v = json_new(JSON_BOOL);
		v->u.b = t[0] == 't';
	} else if (!strcmp(t, "null")) {
		v = json_new(JSON_NULL);
	} else {
		jp_err(p, "invalid keyword '%.40s'", t);
		return jp_fail(p, false, false, false);
	}
	p->lex = LX_NONE;
	sb_reset(&p->tok);
	return jp_attach(p, v);
}

static bool isletter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int jp_begin(struct jparser *p, unsigned char c, bool line_start)
{
	struct jframe *f;

	if (c == '{' || c == '[') {
		if (p->depth >= p->max_depth) {
			jp_err(p, "nesting deeper than %d levels", p->max_depth);
			return jp_fail(p, false, false, false);
		}
		f = &p->stack[p->depth++];
		f->c = json_new(c == '{' ? JSON_OBJECT : JSON_ARRAY);
		f->key = NULL;
		p->exp = c == '{' ? EX_KEY_OR_CLOSE : EX_VALUE_OR_CLOSE;
		return S_EAT;
	}
	if (c == '"') {
		p->lex = LX_STR;
		p->tok_key = false;
		sb_reset(&p->tok);
		return S_EAT;
	}
	if (c == '-' || isdig(c) || isletter(c)) {
		p->lex = isletter(c) ? LX_WORD : LX_NUM;
		sb_reset(&p->tok);
		sb_addc(&p->tok, c);
		return S_EAT;
	}
	return jp_unexpected(p, c, line_start, "expecting a value");
}

static int jp_close(struct jparser *p, unsigned char c, bool line_start)
{
	struct jframe *f = &p->stack[p->depth - 1];
	struct json *v = f->c;

	if ((c == '}') != (v->type == JSON_OBJECT))
		return jp_unexpected(p, c, line_start,
				     v->type == JSON_OBJECT ? "expecting '}'" : "expecting ']'");
	f->c = NULL;
	p->depth--;
	return S_EAT | jp_attach(p, v);
}

/* Between tokens. */
static int jp_token(struct jparser *p, unsigned char c)
{
	bool line_start = p->line_start;
	bool array = p->depth > 0 && p->stack[p->depth - 1].c->type == JSON_ARRAY;

	if (c == ' ' || c == '\t' || c == '\r')
		return S_EAT;
	if (c == '\n') {
		p->line_start = true;
		p->nl_in_value |= p->in_value;
		return S_EAT;
	}
	p->line_start = false;
	if (!p->in_value) {
		p->in_value = true;
		p->nl_in_value = false;
		p->size = 0;
	}
	switch (p->exp) {
	case EX_VALUE_OR_CLOSE:
		if (c == ']')
			return jp_close(p, c, line_start);
		/* fall through */
	case EX_VALUE:
		return jp_begin(p, c, line_start);
	case EX_KEY_OR_CLOSE:
		if (c == '}')
			return jp_close(p, c, line_start);
		/* fall through */
	case EX_KEY:
		if (c != '"')
			return jp_unexpected(p, c, line_start, "expecting a member name");
		p->lex = LX_STR;
		p->tok_key = true;
		sb_reset(&p->tok);
		return S_EAT;
	case EX_COLON:
		if (c != ':')
			return jp_unexpected(p, c, line_start, "expecting ':'");
		p->exp = EX_VALUE;
		return S_EAT;
	case EX_COMMA_OR_CLOSE:
		if (c == ',') {
			p->exp = array ? EX_VALUE : EX_KEY;
			return S_EAT;
		}
		if (c == '}' || c == ']')
			return jp_close(p, c, line_start);
		return jp_unexpected(p, c, line_start,
				     array ? "expecting ',' or ']'" : "expecting ',' or '}'");
	}
	return S_EAT;
}

static int jp_step(struct jparser *p, unsigned char c)
{
	bool in_str = jp_in_string(p);

	if (p->lex == LX_SKIP)
		return jp_skip(p, c);
	if ((c < 0x20 && (in_str || (c != '\t' && c != '\n' && c != '\r'))) || c == 0xff) {
		if (c < 0x20)
			jp_err(p, "control character 0x%02x%s", c, in_str ? " in string" : "");
		else
			jp_err(p, "byte 0xff");
		jp_drop(p);
		p->line_start = c == '\n';
		return S_ERROR | S_EAT;
	}
	switch (p->lex) {
	case LX_STR:
		if (c == '"')
			return jp_end_string(p);
		if (c == '\\')
			p->lex = LX_ESC;
		else
			sb_addc(&p->tok, c);
		return S_EAT;
	case LX_ESC:
		return jp_escape(p, c);
	case LX_HEX:
		return jp_hex(p, c);
	case LX_LOW_BS:
	case LX_LOW_U:
		if (c == (p->lex == LX_LOW_BS ? '\\' : 'u')) {
			p->lex = p->lex == LX_LOW_BS ? LX_LOW_U : LX_HEX;
			p->hex = p->nhex = 0;
			return S_EAT;
		}
		jp_err(p, "\\u%04x in string is not followed by a low surrogate", p->high);
		return jp_fail(p, false, true, p->lex == LX_LOW_U);
	case LX_NUM:
		if (isdig(c) || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E') {
			sb_addc(&p->tok, c);
			return S_EAT;
		}
		return jp_end_number(p);
	case LX_WORD:
		if (isletter(c)) {
			sb_addc(&p->tok, c);
			return S_EAT;
		}
		return jp_end_word(p);
	default:
		return jp_token(p, c);
	}
}

/*
 * Feeds @len bytes; returns how many were used, stopping after a complete value (JP_VALUE,
 * in p->value) or an error (JP_ERROR, p->err); JP_MORE when all were used.
 */
static size_t jp_feed(struct jparser *p, const char *buf, size_t len, int *ev)
{
	size_t i = 0;
	int r;

	while (i < len) {
		r = jp_step(p, (unsigned char)buf[i]);
		if (r & S_EAT) {
			i++;
			if (!(r & (S_VALUE | S_ERROR)) && p->in_value && p->max_size &&
			    ++p->size > p->max_size) {
				/* discarded, not fatal: skipped like any bad value */
				jp_err(p, "request longer than %zu bytes", p->max_size);
				r = jp_fail(p, true, jp_in_string(p),
					    p->lex == LX_ESC || p->lex == LX_LOW_U);
			}
		}
		if (r & (S_VALUE | S_ERROR)) {
			*ev = r & S_VALUE ? JP_VALUE : JP_ERROR;
			return i;
		}
	}
	*ev = JP_MORE;
	return i;
}

/* One whole JSON text (what handlers and events print), or NULL with @err set. */
static struct json *json_parse_text(const char *s, char *err, size_t errlen)
{
	struct jparser p;
	struct json *v = NULL;
	size_t n = strlen(s), off;
	int ev;

	jp_init(&p, QMP_OUT_DEPTH, 0);
	off = jp_feed(&p, s, n, &ev);
	if (ev == JP_MORE)
		jp_feed(&p, "\n", 1, &ev);	/* ends a number or keyword at the end */
	if (ev == JP_VALUE && s[off + strspn(s + off, " \t\r\n")]) {
		snprintf(err, errlen, "text after the value");
	} else if (ev == JP_VALUE) {
		v = p.value;
		p.value = NULL;
	} else {
		snprintf(err, errlen, "%s", ev == JP_ERROR ? p.err : "incomplete or empty text");
	}
	jp_free(&p);
	return v;
}

/* Replies */

struct qmp_reply {
	char *ret;		/* the handler's JSON text; NULL: {} */
	char *cls, *desc;	/* an error */
	bool close;
};

void qmp_return(struct qmp_reply *r, const char *fmt, ...)
{
	va_list ap;

	free(r->ret);
	va_start(ap, fmt);
	r->ret = xvasprintf(fmt, ap);
	va_end(ap);
}

void qmp_error(struct qmp_reply *r, const char *cls, const char *fmt, ...)
{
	va_list ap;

	free(r->cls);
	free(r->desc);
	r->cls = xstrdup(cls ? cls : "GenericError");
	va_start(ap, fmt);
	r->desc = xvasprintf(fmt, ap);
	va_end(ap);
}

void qmp_reply_then_close(struct qmp_reply *r)
{
	r->close = true;
}

static void reply_free(struct qmp_reply *r)
{
	free(r->ret);
	free(r->cls);
	free(r->desc);
}

#define QMP_STR_SLOTS	8

struct str_slots {
	struct sbuf b[QMP_STR_SLOTS];
	unsigned int next;
};

static pthread_key_t str_key;
static pthread_once_t str_once = PTHREAD_ONCE_INIT;

static void str_slots_free(void *arg)
{
	struct str_slots *t = arg;
	int i;

	for (i = 0; i < QMP_STR_SLOTS; i++)
		sb_free(&t->b[i]);
	free(t);
}

static void str_key_make(void)
{
	pthread_key_create(&str_key, str_slots_free);
}

const char *qmp_json_str(const char *s)
{
	struct str_slots *t;
	struct sbuf *b;

	pthread_once(&str_once, str_key_make);
	t = pthread_getspecific(str_key);
	if (!t) {
		t = xrealloc(NULL, sizeof(*t));
		memset(t, 0, sizeof(*t));
		pthread_setspecific(str_key, t);
	}
	b = &t->b[t->next++ % QMP_STR_SLOTS];
	sb_reset(b);
	json_print_str(b, s);
	return b->p;
}

bool qmp_args_check(struct qmp_reply *r, const struct json *args, ...)
{
	const char *name;
	bool found;
	va_list ap;
	size_t i;

	for (i = 0; i < json_object_len(args); i++) {
		found = false;
		va_start(ap, args);
		while (!found && (name = va_arg(ap, const char *)))
			found = !strcmp(name, args->u.c.k[i]);
		va_end(ap);
		if (!found) {
			qmp_error(r, "GenericError", "Parameter '%s' is unexpected",
				  args->u.c.k[i]);
			return false;
		}
	}
	return true;
}

/* Member @name of @args if it has @type; else NULL, and *ok false after an error. */
static const struct json *arg_get(struct qmp_reply *r, const struct json *args, const char *name,
				  bool required, enum json_type type, const char *expected,
				  bool *ok)
{
	const struct json *v = json_get(args, name);

	*ok = true;
	if (!v) {
		if (required) {
			qmp_error(r, "GenericError", "Parameter '%s' is missing", name);
			*ok = false;
		}
		return NULL;
	}
	if (v->type != type) {
		qmp_error(r, "GenericError", "Invalid parameter type for '%s', expected: %s", name,
			  expected);
		*ok = false;
		return NULL;
	}
	return v;
}

bool qmp_arg_str(struct qmp_reply *r, const struct json *args, const char *name, bool required,
		 const char **out)
{
	bool ok;
	const struct json *v = arg_get(r, args, name, required, JSON_STRING, "string", &ok);

	*out = v ? v->u.s : NULL;
	return ok;
}

bool qmp_arg_int(struct qmp_reply *r, const struct json *args, const char *name, bool required,
		 bool *present, int64_t *out)
{
	bool ok;
	const struct json *v = arg_get(r, args, name, required, JSON_INT, "integer", &ok);

	if (present)
		*present = v;
	if (v)
		*out = v->u.i;
	return ok;
}

bool qmp_arg_bool(struct qmp_reply *r, const struct json *args, const char *name, bool required,
		  bool *present, bool *out)
{
	bool ok;
	const struct json *v = arg_get(r, args, name, required, JSON_BOOL, "boolean", &ok);

	if (present)
		*present = v;
	if (v)
		*out = v->u.b;
	return ok;
}

/* The server */

struct client {
	bool used;
	bool negotiated;	/* events go only to these */
	bool closing;		/* send what is queued, read nothing more, then close */
	bool dead;		/* close now: write error, hang-up, or too much unread output */
	int fd;
	int64_t close_by;	/* a closing client that does not read is cut off then (ms) */
	struct sbuf out;	/* bytes from out.p + sent on are still to send */
	size_t sent;
	struct jparser jp;
};

static struct {
	pthread_mutex_t lock;	/* everything here and in the clients, but the parsers */
	struct client cl[QMP_MAX_CLIENTS];
	bool running, stopping, self_stop;
	int listen_fd, wake_rd, wake_wr;
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;		/* the socket file we made: only that one is removed */
	ino_t ino;
	bool cur_negotiated;	/* qmp_capabilities succeeded for the request running */
} srv = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.listen_fd = -1,
	.wake_rd = -1,
	.wake_wr = -1,
};

struct command {
	const char *name;
	qmp_fn fn;
};

static struct command *commands;
static size_t ncommands;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Makes the server thread poll again (lock held, so the pipe is open). */
static void wake(void)
{
	if (srv.wake_wr >= 0 && write(srv.wake_wr, "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
}

/* Sends what it can without blocking (lock held); true while more waits. */
static bool client_flush(struct client *c)
{
	ssize_t n;

	while (!c->dead && c->sent < c->out.len) {
		n = send(c->fd, c->out.p + c->sent, c->out.len - c->sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			c->sent += n;
		else if (n < 0 && errno == EAGAIN)
			break;
		else if (n == 0 || errno != EINTR)
			c->dead = true;
	}
	if (c->sent == c->out.len) {
		c->sent = 0;
		if (c->out.cap > QMP_OUT_PAUSE)
			sb_free(&c->out);	/* a burst is over: give its memory back */
		else
			sb_reset(&c->out);
	} else if (c->sent >= QMP_OUT_PAUSE && 2 * c->sent >= c->out.len) {
		memmove(c->out.p, c->out.p + c->sent, c->out.len - c->sent + 1);
		c->out.len -= c->sent;
		c->sent = 0;
	}
	return c->dead || c->sent < c->out.len;
}

/* Queues one message (lock held); true when the server thread must see to the client. */
static bool client_queue(struct client *c, const char *msg, size_t len)
{
	if (!c->used || c->dead)
		return false;
	if (c->out.len - c->sent > QMP_OUT_MAX) {
		c->dead = true;
		return true;
	}
	sb_add(&c->out, msg, len);
	return client_flush(c);
}

/* Lock held. */
static void client_drop(struct client *c)
{
	close(c->fd);
	sb_free(&c->out);
	jp_free(&c->jp);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void client_closing(struct client *c)
{
	if (!c->closing) {
		c->closing = true;
		c->close_by = now_ms() + QMP_CLOSE_GRACE_MS;
	}
}

static bool client_gone(struct client *c)
{
	bool gone;

	pthread_mutex_lock(&srv.lock);
	gone = c->dead || c->closing || srv.stopping;
	pthread_mutex_unlock(&srv.lock);
	return gone;
}

/* Prints reply @r (to request @name, which had @id); NULL @name: no command ran. */
static void reply_print(struct sbuf *b, struct qmp_reply *r, const struct json *id,
			const char *name)
{
	struct json *ret = NULL;
	char why[160];

	if (!r->cls && r->ret) {
		ret = json_parse_text(r->ret, why, sizeof(why));
		if (!ret) {
			fprintf(stderr, "hvx-run: qmp: command '%s' returned bad JSON (%s): %s\n",
				name, why, r->ret);
			qmp_error(r, "GenericError",
				  "Internal error: command '%s' returned invalid JSON", name);
		}
	}
	if (r->cls) {
		sb_adds(b, "{\"error\": {\"class\": ");
		json_print_str(b, r->cls);
		sb_adds(b, ", \"desc\": ");
		json_print_str(b, r->desc);
		sb_addc(b, '}');
	} else {
		sb_adds(b, "{\"return\": ");
		if (ret)
			json_print(b, ret);
		else
			sb_adds(b, "{}");
	}
	if (id) {
		sb_adds(b, ", \"id\": ");
		json_print(b, id);
	}
	sb_adds(b, "}\r\n");
	json_free(ret);
}

static void client_reply(struct client *c, struct qmp_reply *r, const struct json *id,
			 const char *name)
{
	struct sbuf msg = { 0 };

	reply_print(&msg, r, id, name);
	pthread_mutex_lock(&srv.lock);
	client_queue(c, msg.p, msg.len);
	/* from now on, after its reply */
	if (srv.cur_negotiated)
		c->negotiated = true;
	srv.cur_negotiated = false;
	if (r->close)
		client_closing(c);
	pthread_mutex_unlock(&srv.lock);
	sb_free(&msg);
}

static void cmd_qmp_capabilities(const struct json *args, struct qmp_reply *r);
static void cmd_query_commands(const struct json *args, struct qmp_reply *r);
static void cmd_query_version(const struct json *args, struct qmp_reply *r);

static const struct command builtins[] = {
	{ "qmp_capabilities", cmd_qmp_capabilities },
	{ "query-commands", cmd_query_commands },
	{ "query-version", cmd_query_version },
};

#define NBUILTINS	(sizeof(builtins) / sizeof(builtins[0]))

static qmp_fn command_find(const char *name)
{
	size_t i;

	for (i = 0; i < NBUILTINS; i++)
		if (!strcmp(builtins[i].name, name))
			return builtins[i].fn;
	for (i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn;
	return NULL;
}

/* Checks a request as QEMU does, member by member, then runs its command. */
static void client_request(struct client *c, const struct json *req)
{
	const struct json *id = NULL, *args = NULL, *v;
	struct qmp_reply r = { 0 };
	const char *name = NULL, *key;
	qmp_fn fn = NULL;
	size_t i;

	if (req->type != JSON_OBJECT) {
		qmp_error(&r, "GenericError", "QMP input must be a JSON object");
		goto reply;
	}
	id = json_get(req, "id");
	for (i = 0; i < req->u.c.n; i++) {
		key = req->u.c.k[i];
		v = req->u.c.v[i];
		if (!strcmp(key, "execute")) {
			if (v->type != JSON_STRING) {
				qmp_error(&r, "GenericError",
					  "QMP input member 'execute' must be a string");
				goto reply;
			}
			name = v->u.s;
		} else if (!strcmp(key, "arguments")) {
			if (v->type != JSON_OBJECT) {
				qmp_error(&r, "GenericError",
					  "QMP input member 'arguments' must be an object");
				goto reply;
			}
			args = v;
		} else if (!strcmp(key, "exec-oob")) {
			qmp_error(&r, "GenericError",
				  "Out-of-band execution is not supported (no 'oob' capability)");
			goto reply;
		} else if (strcmp(key, "id")) {
			qmp_error(&r, "GenericError", "QMP input member '%s' is unexpected", key);
			goto reply;
		}
	}
	if (!name) {
		qmp_error(&r, "GenericError", "QMP input lacks member 'execute'");
		goto reply;
	}
	if (!c->negotiated && strcmp(name, "qmp_capabilities")) {
		qmp_error(&r, "CommandNotFound",
			  "Expecting capabilities negotiation with 'qmp_capabilities'");
	} else if (c->negotiated && !strcmp(name, "qmp_capabilities")) {
		qmp_error(&r, "CommandNotFound",
			  "Capabilities negotiation is already complete, command ignored");
	} else if (!(fn = command_find(name))) {
		qmp_error(&r, "CommandNotFound", "The command %s has not been found", name);
	} else {
		/* without the lock: the handler may emit events or wait for other threads */
		fn(args, &r);
	}
reply:
	client_reply(c, &r, id, fn ? name : NULL);
	reply_free(&r);
}

static void client_input(struct client *c, const char *buf, size_t n)
{
	struct qmp_reply r = { 0 };
	struct json *v;
	size_t off = 0;
	int ev;

	while (off < n && !client_gone(c)) {
		off += jp_feed(&c->jp, buf + off, n - off, &ev);
		if (ev == JP_VALUE) {
			v = c->jp.value;
			c->jp.value = NULL;
			client_request(c, v);
			json_free(v);
		} else if (ev == JP_ERROR) {
			qmp_error(&r, "GenericError", "%s", c->jp.err);
			client_reply(c, &r, NULL, NULL);
		}
	}
	reply_free(&r);
}

static void client_event(struct client *c, short re, char *buf, size_t size)
{
	ssize_t n;

	if (re & POLLOUT) {
		pthread_mutex_lock(&srv.lock);
		client_flush(c);
		pthread_mutex_unlock(&srv.lock);
	}
	if (re & POLLIN) {
		n = read(c->fd, buf, size);
		if (n > 0) {
			client_input(c, buf, n);
			return;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		pthread_mutex_lock(&srv.lock);
		if (n == 0)
			client_closing(c);	/* it sends no more; it may still read replies */
		else
			c->dead = true;
		pthread_mutex_unlock(&srv.lock);
	} else if (re & (POLLERR | POLLHUP | POLLNVAL)) {
		pthread_mutex_lock(&srv.lock);
		c->dead = true;
		pthread_mutex_unlock(&srv.lock);
	}
}

/*
 * All places are taken, maybe by connections that are gone already: one that connects and
 * closes in a loop leaves a queue of them.  Those that hung up are finished now (their
 * requests still run, as they would have) so that they make room.
 */
static void reap_hung_up(char *buf, size_t size)
{
	struct pollfd p;
	struct client *c;
	int i, k;

	for (i = 0; i < QMP_MAX_CLIENTS; i++) {
		c = &srv.cl[i];
		if (!c->used)
			continue;
		p = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP))
			continue;
		/* to its end (bounded: 1 MiB), or until a reply cannot be sent */
		for (k = 0; k < 256 && !client_gone(c); k++)
			client_event(c, POLLIN, buf, size);
		pthread_mutex_lock(&srv.lock);
		client_drop(c);		/* it cannot read what is left */
		pthread_mutex_unlock(&srv.lock);
	}
}

static int free_place(void)
{
	int i;

	for (i = 0; i < QMP_MAX_CLIENTS && srv.cl[i].used; i++)
		;
	return i;
}

static void accept_clients(int64_t *listen_pause, char *buf, size_t size)
{
	struct client *c;
	int fd, i;

	for (;;) {
		fd = accept4(srv.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* out of descriptors or memory: do not spin on a readable listener */
			if (errno != EAGAIN)
				*listen_pause = now_ms() + 100;
			return;
		}
		pthread_mutex_lock(&srv.lock);
		i = free_place();
		if (i == QMP_MAX_CLIENTS) {
			pthread_mutex_unlock(&srv.lock);
			reap_hung_up(buf, size);
			pthread_mutex_lock(&srv.lock);
			i = free_place();
		}
		if (i == QMP_MAX_CLIENTS || srv.stopping) {
			/* QEMU serves one client per monitor; we serve a few, shut the rest out */
			pthread_mutex_unlock(&srv.lock);
			close(fd);
			continue;
		}
		c = &srv.cl[i];
		c->used = true;
		c->fd = fd;
		jp_init(&c->jp, QMP_MAX_DEPTH, QMP_MAX_REQUEST);
		client_queue(c, QMP_GREETING, strlen(QMP_GREETING));
		pthread_mutex_unlock(&srv.lock);
	}
}

/* Builds the poll set (lock held), dropping clients that are done; returns the timeout. */
static int serve_prepare(struct pollfd *pfd, struct client **who, int *n, int64_t listen_pause)
{
	int64_t now = now_ms();
	int timeout = -1, i;
	struct client *c;
	size_t pending;

	*n = 0;
	pfd[*n] = (struct pollfd){ .fd = srv.wake_rd, .events = POLLIN };
	who[(*n)++] = NULL;
	if (now >= listen_pause) {
		pfd[*n] = (struct pollfd){ .fd = srv.listen_fd, .events = POLLIN };
		who[(*n)++] = NULL;
	} else {
		timeout = listen_pause - now;
	}
	for (i = 0; i < QMP_MAX_CLIENTS; i++) {
		c = &srv.cl[i];
		if (!c->used)
			continue;
		pending = c->out.len - c->sent;
		if (c->dead || (c->closing && (!pending || now >= c->close_by))) {
			client_drop(c);
			continue;
		}
		pfd[*n] = (struct pollfd){ .fd = c->fd };
		if (!c->closing && pending < QMP_OUT_PAUSE)
			pfd[*n].events |= POLLIN;
		if (pending)
			pfd[*n].events |= POLLOUT;
		if (c->closing && (timeout < 0 || c->close_by - now < timeout))
			timeout = c->close_by - now;
		who[(*n)++] = c;
	}
	return timeout;
}

static void *serve(void *arg)
{
	struct pollfd pfd[2 + QMP_MAX_CLIENTS];
	struct client *who[2 + QMP_MAX_CLIENTS];
	int64_t listen_pause = 0;
	char buf[4096];
	int n, i, timeout;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&srv.lock);
		if (srv.stopping) {
			pthread_mutex_unlock(&srv.lock);
			break;
		}
		timeout = serve_prepare(pfd, who, &n, listen_pause);
		pthread_mutex_unlock(&srv.lock);
		if (poll(pfd, n, timeout) < 0) {
			if (errno != EINTR)
				usleep(10000);
			continue;
		}
		/* clients first: accepting may drop some and reuse their places */
		for (i = n - 1; i >= 0; i--) {
			if (!pfd[i].revents)
				continue;
			if (who[i])
				client_event(who[i], pfd[i].revents, buf, sizeof(buf));
			else if (pfd[i].fd == srv.listen_fd)
				accept_clients(&listen_pause, buf, sizeof(buf));
			else
				while (read(srv.wake_rd, buf, sizeof(buf)) > 0)
					;
		}
	}

	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < QMP_MAX_CLIENTS; i++) {
		if (!srv.cl[i].used)
			continue;
		client_flush(&srv.cl[i]);	/* a last try, for the reply to "quit" */
		client_drop(&srv.cl[i]);
	}
	close(srv.listen_fd);
	close(srv.wake_rd);
	close(srv.wake_wr);
	srv.listen_fd = srv.wake_rd = srv.wake_wr = -1;
	if (srv.self_stop)
		pthread_detach(pthread_self());
	srv.running = srv.stopping = srv.self_stop = false;
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

static void cmd_qmp_capabilities(const struct json *args, struct qmp_reply *r)
{
	const struct json *enable = json_get(args, "enable");
	const char *cap;
	size_t i;

	if (!qmp_args_check(r, args, "enable", NULL))
		return;
	if (enable && json_type(enable) != JSON_ARRAY) {
		qmp_error(r, "GenericError",
			  "Invalid parameter type for 'enable', expected: array");
		return;
	}
	for (i = 0; i < json_array_len(enable); i++) {
		cap = json_string(json_array_at(enable, i));
		if (!cap)
			qmp_error(r, "GenericError",
				  "Invalid parameter type for 'enable[%zu]', expected: string", i);
		/* the greeting offers nothing (no out-of-band execution): nothing can be enabled */
		else if (!strcmp(cap, "oob"))
			qmp_error(r, "GenericError", "Capability 'oob' not available");
		else
			qmp_error(r, "GenericError",
				  "Parameter 'enable[%zu]' does not accept value '%s'", i, cap);
		return;
	}
	srv.cur_negotiated = true;
}

static void cmd_query_commands(const struct json *args, struct qmp_reply *r)
{
	struct sbuf b = { 0 };
	size_t i;

	if (!qmp_args_check(r, args, NULL))
		return;
	sb_addc(&b, '[');
	for (i = 0; i < NBUILTINS + ncommands; i++) {
		sb_adds(&b, i ? ", {\"name\": " : "{\"name\": ");
		json_print_str(&b, i < NBUILTINS ? builtins[i].name : commands[i - NBUILTINS].name);
		sb_addc(&b, '}');
	}
	sb_addc(&b, ']');
	qmp_return(r, "%s", b.p);
	sb_free(&b);
}

static void cmd_query_version(const struct json *args, struct qmp_reply *r)
{
	if (qmp_args_check(r, args, NULL))
		qmp_return(r, "%s", QMP_VERSION);
}

void qmp_register(const char *name, qmp_fn fn)
{
	size_t i;

	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < NBUILTINS; i++)
		if (!strcmp(builtins[i].name, name))
			break;
	if (srv.running || i < NBUILTINS) {
		/* the table is read unlocked while serving; built-ins are the protocol's own */
		fprintf(stderr, "hvx-run: qmp: command '%s' not registered (%s)\n", name,
			srv.running ? "server already running" : "built in");
		pthread_mutex_unlock(&srv.lock);
		return;
	}
	for (i = 0; i < ncommands && strcmp(commands[i].name, name); i++)
		;
	if (i == ncommands) {
		commands = xrealloc(commands, (ncommands + 1) * sizeof(*commands));
		commands[ncommands++].name = xstrdup(name);
	}
	commands[i].fn = fn;
	pthread_mutex_unlock(&srv.lock);
}

void qmp_event(const char *name, const char *data_fmt, ...)
{
	struct json *data = NULL;
	struct sbuf msg = { 0 };
	bool attention = false;
	struct timespec ts;
	char why[160], *text;
	va_list ap;
	int i;

	if (data_fmt) {
		va_start(ap, data_fmt);
		text = xvasprintf(data_fmt, ap);
		va_end(ap);
		data = json_parse_text(text, why, sizeof(why));
		if (json_type(data) != JSON_OBJECT) {
			fprintf(stderr, "hvx-run: qmp: event %s dropped, bad data (%s): %s\n",
				name, data ? "not an object" : why, text);
			json_free(data);
			free(text);
			return;
		}
		free(text);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	sb_adds(&msg, "{\"event\": ");
	json_print_str(&msg, name);
	if (data) {
		sb_adds(&msg, ", \"data\": ");
		json_print(&msg, data);
	}
	sb_printf(&msg, ", \"timestamp\": {\"seconds\": %lld, \"microseconds\": %ld}}\r\n",
		  (long long)ts.tv_sec, ts.tv_nsec / 1000);
	json_free(data);

	pthread_mutex_lock(&srv.lock);
	if (srv.running && !srv.stopping) {
		for (i = 0; i < QMP_MAX_CLIENTS; i++) {
			struct client *c = &srv.cl[i];

			if (c->used && c->negotiated && !c->closing)
				attention |= client_queue(c, msg.p, msg.len);
		}
		if (attention)
			wake();
	}
	pthread_mutex_unlock(&srv.lock);
	sb_free(&msg);
}

/* Lock held. */
static void socket_unlink(void)
{
	struct stat st;

	if (srv.path[0] && !lstat(srv.path, &st) && st.st_dev == srv.dev && st.st_ino == srv.ino)
		unlink(srv.path);
	srv.path[0] = 0;
}

/* bind() found @sa's path taken: 0 once a dead server's socket file is removed, else -1. */
static int socket_stale(const struct sockaddr_un *sa, const char **why)
{
	struct stat st;
	int probe, r, err;

	if (lstat(sa->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;	/* gone meanwhile */
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*why = "the socket path exists and is not a socket";
		return -1;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		*why = strerror(errno);
		return -1;
	}
	r = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	close(probe);
	if (!r || err == EAGAIN || err == EINPROGRESS) {
		/* EAGAIN: listening, with a full backlog */
		*why = "another program is listening on the socket";
		return -1;
	}
	if (err != ECONNREFUSED) {
		*why = strerror(err);
		return -1;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}

int qmp_start(const char *path, const char **why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1, pipefd[2] = { -1, -1 }, err;
	const char *dummy;
	sigset_t all, old;
	struct stat st;

	if (!why)
		why = &dummy;
	if (!path || !*path) {
		*why = "no socket path";
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*why = "socket path too long";
		return -1;
	}
	strcpy(sa.sun_path, path);
	pthread_mutex_lock(&srv.lock);
	if (srv.running) {
		*why = "the QMP server is already running";
		goto fail;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = strerror(errno);
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EADDRINUSE) {
			*why = strerror(errno);
			goto fail;
		}
		if (socket_stale(&sa, why) < 0)
			goto fail;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			*why = strerror(errno);
			goto fail;
		}
	}
	if (lstat(path, &st) < 0 || listen(fd, QMP_MAX_CLIENTS) < 0 ||
	    pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
		*why = strerror(errno);
		unlink(path);
		goto fail;
	}
	srv.listen_fd = fd;
	srv.wake_rd = pipefd[0];
	srv.wake_wr = pipefd[1];
	srv.dev = st.st_dev;
	srv.ino = st.st_ino;
	strcpy(srv.path, path);
	srv.running = true;
	srv.stopping = srv.self_stop = false;
	/* signals are for the VMM's other threads; poll here is never interrupted */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&srv.thread, NULL, serve, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		*why = strerror(err);
		socket_unlink();
		srv.running = false;
		srv.listen_fd = srv.wake_rd = srv.wake_wr = -1;
		goto fail;
	}
	pthread_setname_np(srv.thread, "hvx-qmp");
	pthread_mutex_unlock(&srv.lock);
	return 0;
fail:
	pthread_mutex_unlock(&srv.lock);
	if (fd >= 0)
		close(fd);
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	return -1;
}

void qmp_stop(void)
{
	struct timespec ts;
	pthread_t t;
	bool self;

	pthread_mutex_lock(&srv.lock);
	if (!srv.running || srv.stopping) {
		pthread_mutex_unlock(&srv.lock);
		return;
	}
	srv.stopping = true;
	t = srv.thread;
	self = pthread_equal(t, pthread_self());
	srv.self_stop = self;	/* from a handler: the thread ends when it returns */
	socket_unlink();
	wake();
	pthread_mutex_unlock(&srv.lock);
	if (self)
		return;
	/* a handler may be stuck waiting on the thread that is exiting: do not wait forever */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(t, NULL, &ts))
		pthread_detach(t);
}

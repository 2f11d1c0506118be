/* SPDX-License-Identifier: GPL-2.0 */
/* control/qmp.h - the QMP server's interface: parsed requests, replies, commands, events. */
#ifndef HVX_RUN_QMP_H
#define HVX_RUN_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A parsed JSON value (read-only for handlers).  Values live until the handler returns;
 * strings are valid UTF-8 and never contain NUL (the parser refuses \u0000).
 */
enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_REAL, JSON_STRING, JSON_ARRAY, JSON_OBJECT };
struct json;
/* JSON_NULL also for a NULL pointer, so check json_get()'s result for absence first. */
enum json_type json_type(const struct json *v);
/* NULL if absent or @obj is not an object (or is NULL); keys are unique (duplicates refused). */
const struct json *json_get(const struct json *obj, const char *key);
/* NULL unless a string */
const char *json_string(const struct json *v);
/* false unless a bool */
bool json_bool(const struct json *v, bool *out);
/* false unless an integer (reals such as 1.0 are not) */
bool json_int(const struct json *v, int64_t *out);
/* 0 unless an array */
size_t json_array_len(const struct json *v);
/* NULL past the end or unless an array */
const struct json *json_array_at(const struct json *v, size_t i);
/* Object members in order, for handlers that reject unknown arguments. */
size_t json_object_len(const struct json *v);
const char *json_object_key(const struct json *v, size_t i);

/* The reply a handler builds: either a return value or an error. */
struct qmp_reply;
/*
 * Return VALUE: a JSON text made with printf-style formatting; the handler is responsible for
 * valid JSON; use qmp_json_str() to quote strings.  Not calling either function returns {}.
 * The text is checked and reprinted (as ASCII) before it is sent: invalid JSON becomes a
 * GenericError to the client and a line on stderr.  An error set by qmp_error() wins over
 * any return value; of several calls to the same function the last one counts.
 */
void qmp_return(struct qmp_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qmp_error(struct qmp_reply *r, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A quoted, escaped JSON string for @s ("null" for NULL; bytes that are not UTF-8 become
 * U+FFFD), in one of 8 buffers per thread used in turn: valid until the same thread's 8th
 * following call, so up to 8 may appear in one qmp_return().  Freed when the thread exits.
 */
const char *qmp_json_str(const char *s);

/*
 * Argument checking, answering QEMU's errors itself; each returns false after setting the error:
 * qmp_args_check(r, args, "uri", "detach", NULL): args may be NULL (no arguments); any member not
 *   in the list -> GenericError "Parameter 'X' is unexpected".
 * qmp_arg_str(r, args, "uri", true, &s): required missing -> GenericError "Parameter 'uri' is
 *   missing"; wrong type -> GenericError "Invalid parameter type for 'uri', expected: string".
 *   Optional absent: *s = NULL, true.
 * qmp_arg_int / qmp_arg_bool likewise ("expected: integer" / "expected: boolean"); *present
 *   (may be NULL) says whether it was given; absent leaves *out as it was (preset a default).
 */
bool qmp_args_check(struct qmp_reply *r, const struct json *args, ...) __attribute__((sentinel));
bool qmp_arg_str(struct qmp_reply *r, const struct json *args, const char *name, bool required,
		 const char **out);
bool qmp_arg_int(struct qmp_reply *r, const struct json *args, const char *name, bool required,
		 bool *present, int64_t *out);
bool qmp_arg_bool(struct qmp_reply *r, const struct json *args, const char *name, bool required,
		  bool *present, bool *out);

/* @args is NULL when the request had no "arguments" member. */
typedef void (*qmp_fn)(const struct json *args, struct qmp_reply *r);
/* Before qmp_start(); registering a name again replaces its handler. */
void qmp_register(const char *name, qmp_fn fn);
/*
 * Listen on @path and serve on a thread of its own ("hvx-qmp"); 0, or -1 with *why set to a
 * one-line reason (static string or strerror text).  A socket file nobody listens on is
 * replaced; one somebody listens on is left alone (and -1).
 */
int qmp_start(const char *path, const char **why);
/*
 * Send an event to every negotiated client; @data_fmt NULL means no "data" member, else a
 * printf-formatted JSON object text. Callable from any thread, also from inside a handler.
 */
void qmp_event(const char *name, const char *data_fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Close every client and the socket, remove the socket file. Idempotent; callable at exit.
 * From inside a handler it removes the file at once and the server ends when the handler returns.
 */
void qmp_stop(void);
/* Handlers may call this to close the connection after their reply is sent (used by "quit"). */
void qmp_reply_then_close(struct qmp_reply *r);

#endif /* HVX_RUN_QMP_H */

/*
 * common.h - error codes, clock and structured logging shared by every module.
 *
 * Error convention: functions return PT_OK (0) or a negative PT_E* code;
 * pt_strerror() names it. Pointer-returning functions return NULL and say why
 * through an out-parameter or the log.
 *
 * Logging: one line per event on stderr, key=value pairs:
 *   ts=2026-11-22T15:44:25Z level=info event=http_request path=/webhooks/at-ussd status=200
 * Never pass a full NIK, phone number, password, token or resident free text to
 * pt_log(); mask first (pt_phone_mask, pt_nik_mask) or log a length.
 */
#ifndef PT_COMMON_H
#define PT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PT_OK 0
enum pt_err {
	PT_EINVAL = -1,    /* invalid argument or value */
	PT_ENOMEM = -2,    /* out of memory */
	PT_ETOOBIG = -3,   /* input exceeds a hard cap */
	PT_EBADREQ = -4,   /* malformed request: missing field, bad form/JSON */
	PT_ENOTFOUND = -5, /* no such thing */
	PT_EDB = -6,       /* database error */
	PT_EIO = -7,       /* I/O or network error */
	PT_EAUTH = -8,     /* signature/secret/address check failed */
	PT_ECHECK = -9,    /* check digit or structure invalid */
	PT_ERETRY = -10,   /* temporary failure, try again */
	PT_EPERM = -11,    /* permanent failure, do not retry */
	PT_EEXIST = -12,   /* already exists (duplicate) */
	PT_ECONFIG = -13,  /* configuration error */
	PT_ESTATE = -14,   /* operation not allowed in the current state */
};

#define PT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Name of an error code, e.g. "PT_EBADREQ (malformed request)". Static string. */
const char *pt_strerror(int err);

/* Wall-clock time in milliseconds since the Unix epoch. Tests can pin it with
 * pt_clock_set(); the environment variable PINTU_NOW_MS (decimal) pins it too,
 * and PINTU_CLOCK_OFFSET_FILE (a file holding an offset in ms, re-read when it
 * changes) moves a running server's clock forward for integration tests. */
int64_t pt_now_ms(void);
/* Pin the clock to ms (0 returns to the real clock). Not thread-safe against
 * concurrent readers of a changing value; meant for tests and the simulator. */
void pt_clock_set(int64_t ms);

enum pt_log_level { PT_LOG_DEBUG = 0, PT_LOG_INFO = 1, PT_LOG_WARN = 2, PT_LOG_ERROR = 3 };

/* Minimum level printed (default PT_LOG_INFO; PINTU_LOG=debug|info|warn|error). */
void pt_log_set_level(enum pt_log_level level);
/* Write one structured line: "ts=.. level=.. event=<event> " followed by the
 * formatted key=value text. Values with spaces must be quoted by the caller. */
void pt_log(enum pt_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copy at most cap-1 bytes of src into dst, always NUL-terminated.
 * Returns the length of src (so truncation shows as >= cap). */
size_t pt_strlcpy(char *dst, const char *src, size_t cap);
/* v in decimal into out (at least 21 bytes), NUL-terminated; returns the
 * length. For hot paths where snprintf("%lld") showed in profiles. */
size_t pt_i64_dec(int64_t v, char *out);

/* ms since the epoch as "2026-11-22T15:44:25Z" (UTC, ISO 8601) in out (cap >= 21). */
void pt_iso_utc(int64_t ms, char *out, size_t cap);

#endif

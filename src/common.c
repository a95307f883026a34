/*
 * common.c - error names, the clock and the structured logger.
 *
 * The logger writes whole lines with a single fputs under the stdio lock so lines
 * from different threads never interleave. Each line is capped at 1024 bytes.
 */
#include "pintu/common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int64_t pinned_ms;
static _Atomic int log_level = -1;

const char *pt_strerror(int err)
{
	switch (err) {
	case PT_OK: return "PT_OK (success)";
	case PT_EINVAL: return "PT_EINVAL (invalid value)";
	case PT_ENOMEM: return "PT_ENOMEM (out of memory)";
	case PT_ETOOBIG: return "PT_ETOOBIG (input too large)";
	case PT_EBADREQ: return "PT_EBADREQ (malformed request)";
	case PT_ENOTFOUND: return "PT_ENOTFOUND (not found)";
	case PT_EDB: return "PT_EDB (database error)";
	case PT_EIO: return "PT_EIO (I/O error)";
	case PT_EAUTH: return "PT_EAUTH (not authorised)";
	case PT_ECHECK: return "PT_ECHECK (check failed)";
	case PT_ERETRY: return "PT_ERETRY (temporary failure)";
	case PT_EPERM: return "PT_EPERM (permanent failure)";
	case PT_EEXIST: return "PT_EEXIST (already exists)";
	case PT_ECONFIG: return "PT_ECONFIG (configuration error)";
	case PT_ESTATE: return "PT_ESTATE (not allowed in this state)";
	default: return "PT_E? (unknown error)";
	}
}

/* Tests move a running server's clock: PINTU_CLOCK_OFFSET_FILE names a file
 * holding a decimal offset in ms added to the real clock (re-read when its
 * modification time changes). */
static char env_offset_file[512];

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t clock_offset_ms(void)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static struct timespec seen;
	static int64_t offset;
	struct stat sb;
	pthread_mutex_lock(&mu);
	if (stat(env_offset_file, &sb) == 0 &&
	    (sb.st_mtim.tv_sec != seen.tv_sec || sb.st_mtim.tv_nsec != seen.tv_nsec)) {
		FILE *fp = fopen(env_offset_file, "r");
		long long v = 0;
		if (fp && fscanf(fp, "%lld", &v) == 1) {
			offset = v;
			seen = sb.st_mtim;
		}
		if (fp)
			fclose(fp);
	}
	int64_t o = offset;
	pthread_mutex_unlock(&mu);
	return o;
}

int64_t pt_now_ms(void)
{
	int64_t p = atomic_load(&pinned_ms);
	if (p != 0)
		return p;
	static _Atomic int env_checked;
	static int64_t env_ms;
	if (!atomic_load(&env_checked)) {
		const char *e = getenv("PINTU_NOW_MS");
		env_ms = e ? strtoll(e, NULL, 10) : 0;
		const char *f = getenv("PINTU_CLOCK_OFFSET_FILE");
		if (f)
			pt_strlcpy(env_offset_file, f, sizeof(env_offset_file));
		atomic_store(&env_checked, 1);
	}
	if (env_ms != 0)
		return env_ms;
	if (env_offset_file[0])
		return real_ms() + clock_offset_ms();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pt_clock_set(int64_t ms)
{
	atomic_store(&pinned_ms, ms);
}

void pt_log_set_level(enum pt_log_level level)
{
	atomic_store(&log_level, (int)level);
}

static int current_level(void)
{
	int l = atomic_load(&log_level);
	if (l >= 0)
		return l;
	const char *e = getenv("PINTU_LOG");
	l = PT_LOG_INFO;
	if (e) {
		if (strcasecmp(e, "debug") == 0)
			l = PT_LOG_DEBUG;
		else if (strcasecmp(e, "warn") == 0)
			l = PT_LOG_WARN;
		else if (strcasecmp(e, "error") == 0)
			l = PT_LOG_ERROR;
	}
	atomic_store(&log_level, l);
	return l;
}

void pt_log(enum pt_log_level level, const char *event, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	if ((int)level < current_level())
		return;
	char line[1024];
	time_t now = (time_t)(pt_now_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02dZ level=%s event=%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, names[level], event);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len] = '\n';
	line[len + 1] = '\0';
	fputs(line, stderr);
}

size_t pt_i64_dec(int64_t v, char *out)
{
	char tmp[21];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	out[len] = '\0';
	return len;
}

size_t pt_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);
	if (cap == 0)
		return n;
	size_t c = n < cap - 1 ? n : cap - 1;
	memcpy(dst, src, c);
	dst[c] = '\0';
	return n;
}

void pt_iso_utc(int64_t ms, char *out, size_t cap)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	if (gmtime_r(&sec, &tm) == NULL) {
		pt_strlcpy(out, "1970-01-01T00:00:00Z", cap);
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * config.c - load and validate the deployment configuration.
 *
 * The file is one JSON object. Validation is strict and every message names the
 * key's path, so an office admin can fix a typo without reading code:
 *   "office.short_code: must be a string"
 *   "channels[2].type: unknown channel type \"foo\" (known: africastalking-ussd, ...)"
 *   "areas[1].kelurahan[3]: unknown key \"kode_pos\""
 * Keys starting with "_" are comments. Defaults are listed in
 * docs/configuration.md and applied before reading, so a minimal file works.
 * Channel objects are passed to their adapter's configure(), which validates
 * the adapter-specific keys. The built-in demo is gateway/pintu.example.json,
 * compiled in by gateway/embed.sh.
 */
#include "pintu/config.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pintu/common.h"

extern const char pt_demo_config_json[];

#define CONFIG_MAX_BYTES (4 * 1024 * 1024)

struct ctx {
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const char *path, const char *msg)
{
	snprintf(c->err, c->errlen, "%s: %s", path, msg);
	return PT_ECONFIG;
}

/* Every key of obj must be in allowed (NULL-terminated) or start with '_'. */
static int check_keys(struct ctx *c, const cJSON *obj, const char *path,
		      const char *const *allowed)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		if (it->string[0] == '_')
			continue;
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, it->string) == 0)
				ok = 1;
		if (!ok) {
			char msg[160];
			snprintf(msg, sizeof(msg), "unknown key \"%.64s\"", it->string);
			return fail(c, path, msg);
		}
	}
	return PT_OK;
}

/* Optional string key -> out (cap). Required when req. */
static int get_str(struct ctx *c, const cJSON *obj, const char *path, const char *key, char *out,
		   size_t cap, int req)
{
	char p[256];
	snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		if (req)
			return fail(c, p, "missing (required)");
		return PT_OK;
	}
	if (!cJSON_IsString(v))
		return fail(c, p, "must be a string");
	if (strlen(v->valuestring) >= cap) {
		char msg[64];
		snprintf(msg, sizeof(msg), "too long (at most %zu characters)", cap - 1);
		return fail(c, p, msg);
	}
	if (req && v->valuestring[0] == '\0')
		return fail(c, p, "must not be empty");
	pt_strlcpy(out, v->valuestring, cap);
	return PT_OK;
}

static int get_num(struct ctx *c, const cJSON *obj, const char *path, const char *key, double lo,
		   double hi, double *out)
{
	char p[256];
	snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return PT_OK;
	if (!cJSON_IsNumber(v))
		return fail(c, p, "must be a number");
	if (v->valuedouble < lo || v->valuedouble > hi) {
		char msg[96];
		snprintf(msg, sizeof(msg), "must be between %g and %g", lo, hi);
		return fail(c, p, msg);
	}
	*out = v->valuedouble;
	return PT_OK;
}

static const cJSON *get_obj(struct ctx *c, const cJSON *obj, const char *path, const char *key,
			    int *rc)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*rc = PT_OK;
	if (v && !cJSON_IsObject(v)) {
		char p[256];
		snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
		*rc = fail(c, p, "must be an object");
		return NULL;
	}
	return v;
}

static int tz_offset(const char *tz)
{
	static const struct {
		const char *name;
		int min;
	} zones[] = {
		{ "Asia/Jakarta", 420 },   { "Asia/Pontianak", 420 }, { "Asia/Makassar", 480 },
		{ "Asia/Jayapura", 540 },  { "UTC", 0 },
	};
	for (size_t i = 0; i < PT_ARRAY_LEN(zones); i++)
		if (strcmp(zones[i].name, tz) == 0)
			return zones[i].min;
	return -10000;
}

static int parse_office(struct ctx *c, struct pt_config *cfg, const cJSON *o)
{
	static const char *const keys[] = { "name",    "short_name", "short_code",
					    "ussd_code", "phone",    "address",
					    "timezone", "utc_offset_minutes", NULL };
	int rc;
	if (!o)
		return fail(c, "office", "missing (required)");
	if ((rc = check_keys(c, o, "office", keys)) < 0)
		return rc;
	if ((rc = get_str(c, o, "office", "name", cfg->office.name, sizeof(cfg->office.name), 1)) < 0 ||
	    (rc = get_str(c, o, "office", "short_name", cfg->office.short_name,
			  sizeof(cfg->office.short_name), 0)) < 0 ||
	    (rc = get_str(c, o, "office", "short_code", cfg->office.short_code,
			  sizeof(cfg->office.short_code), 1)) < 0 ||
	    (rc = get_str(c, o, "office", "ussd_code", cfg->office.ussd_code,
			  sizeof(cfg->office.ussd_code), 0)) < 0 ||
	    (rc = get_str(c, o, "office", "phone", cfg->office.phone, sizeof(cfg->office.phone), 0)) <
		    0 ||
	    (rc = get_str(c, o, "office", "address", cfg->office.address,
			  sizeof(cfg->office.address), 0)) < 0 ||
	    (rc = get_str(c, o, "office", "timezone", cfg->office.timezone,
			  sizeof(cfg->office.timezone), 0)) < 0)
		return rc;
	if (cfg->office.short_name[0] == '\0')
		pt_strlcpy(cfg->office.short_name, cfg->office.name, sizeof(cfg->office.short_name));
	double off = -10000;
	if ((rc = get_num(c, o, "office", "utc_offset_minutes", -720, 840, &off)) < 0)
		return rc;
	if (off > -10000) {
		cfg->office.utc_offset_min = (int)off;
	} else {
		int m = tz_offset(cfg->office.timezone);
		if (m == -10000)
			return fail(c, "office.timezone",
				    "unknown time zone; use Asia/Jakarta, Asia/Pontianak, "
				    "Asia/Makassar, Asia/Jayapura or set office.utc_offset_minutes");
		cfg->office.utc_offset_min = m;
	}
	return PT_OK;
}

static int parse_programs(struct ctx *c, struct pt_config *cfg, const cJSON *arr)
{
	static const char *const keys[] = { "code", "name", "name_en", "info", "info_en", NULL };
	if (!arr || !cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return fail(c, "programs", "must be a non-empty array");
	int n = cJSON_GetArraySize(arr);
	if (n > 64)
		return fail(c, "programs", "at most 64 programs");
	cfg->programs = calloc((size_t)n, sizeof(*cfg->programs));
	if (!cfg->programs)
		return PT_ENOMEM;
	const cJSON *it;
	int i = 0, rc;
	cJSON_ArrayForEach(it, arr)
	{
		char p[64];
		snprintf(p, sizeof(p), "programs[%d]", i);
		struct pt_program *pr = &cfg->programs[i];
		if (!cJSON_IsObject(it))
			return fail(c, p, "must be an object");
		if ((rc = check_keys(c, it, p, keys)) < 0 ||
		    (rc = get_str(c, it, p, "code", pr->code, sizeof(pr->code), 1)) < 0 ||
		    (rc = get_str(c, it, p, "name", pr->name, sizeof(pr->name), 1)) < 0 ||
		    (rc = get_str(c, it, p, "name_en", pr->name_en, sizeof(pr->name_en), 0)) < 0 ||
		    (rc = get_str(c, it, p, "info", pr->info, sizeof(pr->info), 1)) < 0 ||
		    (rc = get_str(c, it, p, "info_en", pr->info_en, sizeof(pr->info_en), 0)) < 0)
			return rc;
		for (int j = 0; j < i; j++)
			if (strcasecmp(cfg->programs[j].code, pr->code) == 0)
				return fail(c, p, "duplicate program code");
		i++;
	}
	cfg->nprograms = n;
	return PT_OK;
}

static int parse_areas(struct ctx *c, struct pt_config *cfg, const cJSON *arr)
{
	static const char *const akeys[] = { "kecamatan", "kelurahan", NULL };
	static const char *const kkeys[] = { "name", "puskesos", NULL };
	if (!arr || !cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return fail(c, "areas", "must be a non-empty array");
	int n = cJSON_GetArraySize(arr);
	if (n > 200)
		return fail(c, "areas", "at most 200 kecamatan");
	cfg->areas = calloc((size_t)n, sizeof(*cfg->areas));
	if (!cfg->areas)
		return PT_ENOMEM;
	cfg->nareas = 0;
	const cJSON *it;
	int rc;
	cJSON_ArrayForEach(it, arr)
	{
		char p[64];
		int i = cfg->nareas;
		snprintf(p, sizeof(p), "areas[%d]", i);
		struct pt_kecamatan *k = &cfg->areas[i];
		if (!cJSON_IsObject(it))
			return fail(c, p, "must be an object");
		if ((rc = check_keys(c, it, p, akeys)) < 0 ||
		    (rc = get_str(c, it, p, "kecamatan", k->name, sizeof(k->name), 1)) < 0)
			return rc;
		cfg->nareas++;
		const cJSON *kl = cJSON_GetObjectItemCaseSensitive(it, "kelurahan");
		char kp[96];
		snprintf(kp, sizeof(kp), "%s.kelurahan", p);
		if (!kl || !cJSON_IsArray(kl) || cJSON_GetArraySize(kl) == 0)
			return fail(c, kp, "must be a non-empty array");
		int m = cJSON_GetArraySize(kl);
		if (m > 500)
			return fail(c, kp, "at most 500 kelurahan");
		k->kel = calloc((size_t)m, sizeof(*k->kel));
		if (!k->kel)
			return PT_ENOMEM;
		const cJSON *kv;
		cJSON_ArrayForEach(kv, kl)
		{
			char ep[128];
			snprintf(ep, sizeof(ep), "%s[%d]", kp, k->nkel);
			struct pt_kelurahan *kel = &k->kel[k->nkel];
			if (!cJSON_IsObject(kv))
				return fail(c, ep, "must be an object");
			if ((rc = check_keys(c, kv, ep, kkeys)) < 0 ||
			    (rc = get_str(c, kv, ep, "name", kel->name, sizeof(kel->name), 1)) < 0 ||
			    (rc = get_str(c, kv, ep, "puskesos", kel->puskesos, sizeof(kel->puskesos),
					  0)) < 0)
				return rc;
			k->nkel++;
		}
	}
	return PT_OK;
}

static int parse_cidr(const char *s, struct pt_cidr *out)
{
	char buf[64];
	if (pt_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return PT_EINVAL;
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || prefix < 0)
			return PT_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		if (prefix > 32)
			return PT_EINVAL;
		out->prefix = prefix < 0 ? 32 : (int)prefix;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		if (prefix > 128)
			return PT_EINVAL;
		out->prefix = prefix < 0 ? 128 : (int)prefix;
	} else {
		return PT_EINVAL;
	}
	return PT_OK;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int pt_config_addr_allowed(const struct pt_channel *ch, const char *addr)
{
	if (ch->nallow == 0)
		return 1;
	uint8_t a4[4], a6[16];
	int is4 = inet_pton(AF_INET, addr, a4) == 1;
	int is6 = !is4 && inet_pton(AF_INET6, addr, a6) == 1;
	if (is6) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a6, mapped, 12) == 0) { /* ::ffff:a.b.c.d */
			memcpy(a4, a6 + 12, 4);
			is4 = 1;
		}
	}
	for (int i = 0; i < ch->nallow; i++) {
		const struct pt_cidr *cd = &ch->allow[i];
		if (cd->family == AF_INET && is4 && prefix_match(a4, cd->addr, cd->prefix))
			return 1;
		if (cd->family == AF_INET6 && is6 && prefix_match(a6, cd->addr, cd->prefix))
			return 1;
	}
	return 0;
}

/* Sending rate when a channel sets no rate_per_s: the providers' documented
 * limits (WhatsApp Cloud API about 80 messages/s per number, Telegram about 30
 * messages/s per bot); 0 (no limit) where the provider or gateway queues. */
static double default_rate(const char *type)
{
	if (strcmp(type, "whatsapp") == 0)
		return 80;
	if (strcmp(type, "telegram") == 0)
		return 30;
	return 0;
}

static int parse_channel(struct ctx *c, struct pt_config *cfg, const cJSON *o, int i)
{
	char p[64];
	snprintf(p, sizeof(p), "channels[%d]", i);
	struct pt_channel *ch = &cfg->channels[i];
	char type[64] = "";
	int rc;
	if (!cJSON_IsObject(o))
		return fail(c, p, "must be an object");
	if ((rc = get_str(c, o, p, "name", ch->name, sizeof(ch->name), 1)) < 0 ||
	    (rc = get_str(c, o, p, "type", type, sizeof(type), 1)) < 0 ||
	    (rc = get_str(c, o, p, "sms_channel", ch->sms_channel, sizeof(ch->sms_channel), 0)) < 0)
		return rc;
	char np[96];
	snprintf(np, sizeof(np), "%s.name", p);
	for (const char *s = ch->name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return fail(c, np, "use lower-case letters, digits, '-' and '_' only");
	for (int j = 0; j < i; j++)
		if (strcmp(cfg->channels[j].name, ch->name) == 0)
			return fail(c, np, "duplicate channel name");
	ch->adapter = pt_adapter_find(type);
	if (!ch->adapter) {
		char msg[512];
		size_t off = (size_t)snprintf(msg, sizeof(msg), "type: unknown channel type \"%.64s\" (known:",
					      type);
		for (const struct pt_adapter *const *a = pt_adapter_all(); *a && off < sizeof(msg); a++)
			off += (size_t)snprintf(msg + off, sizeof(msg) - off, " %s", (*a)->type);
		if (off < sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off, ")");
		char tp[96];
		snprintf(tp, sizeof(tp), "%s.type", p);
		return fail(c, tp, msg + 6);
	}
	double rate = default_rate(type);
	if ((rc = get_num(c, o, p, "rate_per_s", 0, 100000, &rate)) < 0)
		return rc;
	ch->rate_per_s = rate;
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
	if (en && !cJSON_IsBool(en)) {
		char ep[96];
		snprintf(ep, sizeof(ep), "%s.enabled", p);
		return fail(c, ep, "must be true or false");
	}
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(o, "allow_from");
	if (allow) {
		char ap[96];
		snprintf(ap, sizeof(ap), "%s.allow_from", p);
		if (!cJSON_IsArray(allow))
			return fail(c, ap, "must be an array of addresses or CIDRs");
		const cJSON *a;
		cJSON_ArrayForEach(a, allow)
		{
			char ep[128];
			snprintf(ep, sizeof(ep), "%s[%d]", ap, ch->nallow);
			if (ch->nallow >= PT_ALLOW_MAX)
				return fail(c, ap, "at most 16 entries");
			if (!cJSON_IsString(a) || parse_cidr(a->valuestring, &ch->allow[ch->nallow]) < 0)
				return fail(c, ep, "not an IPv4/IPv6 address or CIDR");
			ch->nallow++;
		}
	}
	char err[400] = "";
	rc = ch->adapter->configure(o, p, &ch->conf, err, sizeof(err));
	if (rc < 0) {
		snprintf(c->err, c->errlen, "%s", err[0] ? err : p);
		return PT_ECONFIG;
	}
	return PT_OK;
}

static int parse_channels(struct ctx *c, struct pt_config *cfg, const cJSON *arr)
{
	if (!arr || !cJSON_IsArray(arr))
		return fail(c, "channels", "must be an array");
	int n = cJSON_GetArraySize(arr);
	if (n > 64)
		return fail(c, "channels", "at most 64 channels");
	cfg->channels = calloc((size_t)(n ? n : 1), sizeof(*cfg->channels));
	if (!cfg->channels)
		return PT_ENOMEM;
	int i = 0, rc;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(it, "enabled");
		if (cJSON_IsFalse(en))
			continue;
		if ((rc = parse_channel(c, cfg, it, i)) < 0) {
			cfg->nchannels = i + 1; /* free what configure built */
			return rc;
		}
		i++;
		cfg->nchannels = i;
	}
	/* sms_channel references must name an SMS channel that can send. */
	for (i = 0; i < cfg->nchannels; i++) {
		struct pt_channel *ch = &cfg->channels[i];
		if (!ch->sms_channel[0])
			continue;
		char p[96];
		snprintf(p, sizeof(p), "channels[%d].sms_channel", i);
		const struct pt_channel *s = pt_config_channel(cfg, ch->sms_channel);
		if (!s)
			return fail(c, p, "names no configured channel");
		if (s->adapter->kind != PT_CHAN_SMS || !s->adapter->build_send)
			return fail(c, p, "must name an SMS channel that can send");
	}
	return PT_OK;
}

static void defaults(struct pt_config *cfg)
{
	pt_strlcpy(cfg->listen, "127.0.0.1:8080", sizeof(cfg->listen));
	pt_strlcpy(cfg->db, "var/pintu.db", sizeof(cfg->db));
	pt_strlcpy(cfg->dialogs, "dialogs", sizeof(cfg->dialogs));
	pt_strlcpy(cfg->office.timezone, "Asia/Jakarta", sizeof(cfg->office.timezone));
	cfg->ussd_resume_ms = 30 * 60000;
	cfg->sms_expiry_ms = 60 * 60000;
	cfg->max_body = 65536;
	cfg->conn_timeout_s = 15;
	cfg->max_conns = 1024;
	cfg->messages_per_minute = 20;
	cfg->sender.max_attempts = 8;
	cfg->sender.base_backoff_ms = 2000;
	cfg->sender.max_backoff_ms = 600000;
	cfg->sender.timeout_ms = 10000;
}

static int parse_root(struct ctx *c, struct pt_config *cfg, const cJSON *root)
{
	static const char *const keys[] = { "office", "listen",  "db",     "dialogs",  "sessions",
					    "limits", "sender",  "programs", "areas", "channels",
					    "staff", "service_levels", "broadcasts", NULL };
	static const char *const skeys[] = { "ussd_resume_minutes", "sms_expiry_minutes", NULL };
	static const char *const lkeys[] = { "max_body_bytes", "connection_timeout_s",
					     "max_connections", "messages_per_minute", "event_loop", NULL };
	static const char *const sdkeys[] = { "max_attempts", "base_backoff_ms", "max_backoff_ms",
					      "timeout_ms", NULL };
	int rc;
	double v;
	if (!cJSON_IsObject(root))
		return fail(c, "(top level)", "must be a JSON object");
	if ((rc = check_keys(c, root, "", keys)) < 0)
		return rc;
	if ((rc = parse_office(c, cfg, cJSON_GetObjectItemCaseSensitive(root, "office"))) < 0 ||
	    (rc = get_str(c, root, "", "listen", cfg->listen, sizeof(cfg->listen), 0)) < 0 ||
	    (rc = get_str(c, root, "", "db", cfg->db, sizeof(cfg->db), 0)) < 0 ||
	    (rc = get_str(c, root, "", "dialogs", cfg->dialogs, sizeof(cfg->dialogs), 0)) < 0)
		return rc;
	const cJSON *o = get_obj(c, root, "", "sessions", &rc);
	if (rc < 0)
		return rc;
	if (o) {
		if ((rc = check_keys(c, o, "sessions", skeys)) < 0)
			return rc;
		v = -1;
		if ((rc = get_num(c, o, "sessions", "ussd_resume_minutes", 0, 1440, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->ussd_resume_ms = (int64_t)(v * 60000);
		v = -1;
		if ((rc = get_num(c, o, "sessions", "sms_expiry_minutes", 1, 10080, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->sms_expiry_ms = (int64_t)(v * 60000);
	}
	o = get_obj(c, root, "", "limits", &rc);
	if (rc < 0)
		return rc;
	if (o) {
		if ((rc = check_keys(c, o, "limits", lkeys)) < 0)
			return rc;
		v = -1;
		if ((rc = get_num(c, o, "limits", "max_body_bytes", 1024, 16 * 1024 * 1024, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->max_body = (size_t)v;
		v = -1;
		if ((rc = get_num(c, o, "limits", "connection_timeout_s", 1, 3600, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->conn_timeout_s = (unsigned)v;
		v = -1;
		if ((rc = get_num(c, o, "limits", "max_connections", 16, 100000, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->max_conns = (unsigned)v;
		char loop[16] = "";
		if ((rc = get_str(c, o, "limits", "event_loop", loop, sizeof(loop), 0)) < 0)
			return rc;
		if (strcmp(loop, "poll") == 0)
			cfg->event_loop = PT_LOOP_POLL;
		else if (strcmp(loop, "epoll") == 0)
			cfg->event_loop = PT_LOOP_EPOLL;
		else if (loop[0] == '\0' || strcmp(loop, "auto") == 0)
			cfg->event_loop = PT_LOOP_AUTO;
		else
			return fail(c, "limits.event_loop", "must be \"auto\", \"poll\" or \"epoll\"");
		v = -1;
		if ((rc = get_num(c, o, "limits", "messages_per_minute", 0, 100000, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->messages_per_minute = (unsigned)v;
	}
	o = get_obj(c, root, "", "sender", &rc);
	if (rc < 0)
		return rc;
	if (o) {
		if ((rc = check_keys(c, o, "sender", sdkeys)) < 0)
			return rc;
		v = -1;
		if ((rc = get_num(c, o, "sender", "max_attempts", 1, 100, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->sender.max_attempts = (int)v;
		v = -1;
		if ((rc = get_num(c, o, "sender", "base_backoff_ms", 1, 3600000, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->sender.base_backoff_ms = (int64_t)v;
		v = -1;
		if ((rc = get_num(c, o, "sender", "max_backoff_ms", 1, 86400000, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->sender.max_backoff_ms = (int64_t)v;
		v = -1;
		if ((rc = get_num(c, o, "sender", "timeout_ms", 100, 600000, &v)) < 0)
			return rc;
		if (v >= 0)
			cfg->sender.timeout_ms = (long)v;
	}
	if ((rc = parse_programs(c, cfg, cJSON_GetObjectItemCaseSensitive(root, "programs"))) < 0 ||
	    (rc = parse_areas(c, cfg, cJSON_GetObjectItemCaseSensitive(root, "areas"))) < 0 ||
	    (rc = parse_channels(c, cfg, cJSON_GetObjectItemCaseSensitive(root, "channels"))) < 0)
		return rc;
	return PT_OK;
}

/* Sections other modules own: validated by them, kept for them. */
static int keep_sections(struct pt_config *cfg, cJSON *root, char *err, size_t errlen,
			 const char *source)
{
	static const struct {
		const char *key;
		int (*check)(const cJSON *section, char *err, size_t errlen);
	} owners[PT_CFG_NSECTIONS] = {
		[PT_CFG_STAFF] = { "staff", pt_auth_check_config },
		[PT_CFG_SERVICE_LEVELS] = { "service_levels", pt_proc_check_config },
		[PT_CFG_BROADCASTS] = { "broadcasts", pt_broadcast_check_config },
	};
	for (int i = 0; i < PT_CFG_NSECTIONS; i++) {
		cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, owners[i].key);
		if (!sec)
			continue;
		char inner[400] = "";
		if (!cJSON_IsObject(sec)) {
			snprintf(err, errlen, "%s: %s: must be an object", source, owners[i].key);
			return PT_ECONFIG;
		}
		if (owners[i].check(sec, inner, sizeof(inner)) < 0) {
			snprintf(err, errlen, "%s: %s", source, inner[0] ? inner : owners[i].key);
			return PT_ECONFIG;
		}
		cfg->sections[i] = cJSON_Duplicate(sec, 1);
		if (!cfg->sections[i]) {
			snprintf(err, errlen, "out of memory");
			return PT_ENOMEM;
		}
	}
	return PT_OK;
}

struct pt_config *pt_config_parse(const char *json, size_t len, const char *source, char *err,
				  size_t errlen)
{
	struct ctx c = { err, errlen };
	struct pt_config *cfg = calloc(1, sizeof(*cfg));
	cJSON *root = NULL;
	if (!cfg) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pt_strlcpy(cfg->source, source, sizeof(cfg->source));
	defaults(cfg);
	const char *end = NULL;
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	while (root && end && end < json + len && (*end == ' ' || *end == '\n' || *end == '\r' ||
						   *end == '\t' || *end == '\0'))
		end++;
	if (root && end && end < json + len) { /* trailing garbage after the object */
		cJSON_Delete(root);
		root = NULL;
	}
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;
		for (const char *s = json; at && s < at && s < json + len; s++)
			if (*s == '\n')
				line++;
		snprintf(err, errlen, "%s: not valid JSON (near line %d)", source, line);
		goto fail;
	}
	char inner[400] = "";
	c.err = inner;
	c.errlen = sizeof(inner);
	if (parse_root(&c, cfg, root) < 0) {
		snprintf(err, errlen, "%s: %s", source, inner[0] ? inner : "out of memory");
		goto fail;
	}
	if (keep_sections(cfg, root, err, errlen, source) < 0)
		goto fail;
	cJSON_Delete(root);
	return cfg;
fail:
	cJSON_Delete(root);
	pt_config_free(cfg);
	return NULL;
}

struct pt_config *pt_config_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	fclose(f);
	if (n > CONFIG_MAX_BYTES) {
		free(buf);
		snprintf(err, errlen, "%s: larger than 4 MiB", path);
		return NULL;
	}
	struct pt_config *cfg = pt_config_parse(buf, n, path, err, errlen);
	free(buf);
	return cfg;
}

struct pt_config *pt_config_demo(char *err, size_t errlen)
{
	return pt_config_parse(pt_demo_config_json, strlen(pt_demo_config_json), "built-in demo", err,
			       errlen);
}

void pt_config_free(struct pt_config *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nchannels; i++)
		if (c->channels[i].conf && c->channels[i].adapter && c->channels[i].adapter->free_conf)
			c->channels[i].adapter->free_conf(c->channels[i].conf);
	free(c->channels);
	for (int i = 0; i < c->nareas; i++)
		free(c->areas[i].kel);
	free(c->areas);
	free(c->programs);
	for (int i = 0; i < PT_CFG_NSECTIONS; i++)
		cJSON_Delete(c->sections[i]);
	free(c);
}

const struct pt_channel *pt_config_channel(const struct pt_config *c, const char *name)
{
	for (int i = 0; i < c->nchannels; i++)
		if (strcmp(c->channels[i].name, name) == 0)
			return &c->channels[i];
	return NULL;
}

const struct pt_program *pt_config_program(const struct pt_config *c, const char *code)
{
	for (int i = 0; i < c->nprograms; i++)
		if (strcasecmp(c->programs[i].code, code) == 0)
			return &c->programs[i];
	return NULL;
}

const struct pt_kecamatan *pt_config_kecamatan(const struct pt_config *c, const char *name)
{
	for (int i = 0; i < c->nareas; i++)
		if (strcasecmp(c->areas[i].name, name) == 0)
			return &c->areas[i];
	return NULL;
}

const struct pt_kelurahan *pt_config_kelurahan(const struct pt_config *c,
					       const struct pt_kecamatan *k, const char *name,
					       const struct pt_kecamatan **kec_out)
{
	for (int i = 0; i < c->nareas; i++) {
		const struct pt_kecamatan *kk = &c->areas[i];
		if (k && kk != k)
			continue;
		for (int j = 0; j < kk->nkel; j++)
			if (strcasecmp(kk->kel[j].name, name) == 0) {
				if (kec_out)
					*kec_out = kk;
				return &kk->kel[j];
			}
	}
	return NULL;
}

void pt_config_local_date(const struct pt_config *c, int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + (time_t)c->office.utc_offset_min * 60;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, cap, "%02d/%02d/%04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

/*
 * adapter_util.h - helpers shared by the adapters (internal, not installed).
 *
 * Three groups:
 *  - configuration: typed, path-naming reads of a channel's JSON object
 *    ("channels[2].fields.text: must be a string"), the unknown-key check and
 *    secrets given either inline (X) or through an environment variable (X_env);
 *  - requests: a field source over a form body, a flat JSON body and the query
 *    string, with capped, validated reads of ids, phone numbers and texts;
 *  - output: a bounded append buffer with URL and JSON escaping, and small
 *    helpers to classify provider answers.
 *
 * Nothing here keeps global state; every output buffer is capped and every
 * overflow is reported (PT_ETOOBIG), never silently truncated.
 */
#ifndef PT_ADAPTER_UTIL_H
#define PT_ADAPTER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/form.h"
#include "pintu/msg.h"

/* Longest raw phone number we look at before normalising. */
#define PT_ADU_PHONE_RAW_MAX 64
/* Largest JSON body an adapter parses. */
#define PT_ADU_JSON_MAX (64 * 1024)

/* Write a formatted message to err (when err and errlen are usable). */
void pt_adu_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- configuration ---- */

/* Check every key of obj against allowed (NULL-terminated). Keys starting
 * with '_' are always allowed; when channel is non-zero the common channel keys
 * (name, type, allow_from, sms_channel, rate_per_s, enabled) are allowed too.
 * PT_ECONFIG "path.key: unknown key" otherwise. */
int pt_adu_conf_keys(const cJSON *obj, const char *path, const char *const *allowed, int channel,
		     char *err, size_t errlen);

/* Read string key into out (cap bytes). Absent: def is copied (NULL def and
 * required != 0 is an error "path.key: missing"; NULL def otherwise gives "").
 * Not a string, too long, or empty while required: PT_ECONFIG naming the path. */
int pt_adu_conf_str(const cJSON *obj, const char *path, const char *key, const char *def,
		    int required, char *out, size_t cap, char *err, size_t errlen);

/* A secret given as key and/or key_env (the variable named by key_env wins when
 * set and non-empty). Neither yielding a value is an error naming both keys
 * (and the variable) when required, else out is "". */
int pt_adu_conf_secret(const cJSON *obj, const char *path, const char *key, int required,
		       char *out, size_t cap, char *err, size_t errlen);

/* key must be one of values (NULL-terminated); *out is its index, def when absent. */
int pt_adu_conf_enum(const cJSON *obj, const char *path, const char *key,
		     const char *const *values, int def, int *out, char *err, size_t errlen);

/* Optional object under key: *out is NULL when absent; not an object is an error. */
int pt_adu_conf_obj(const cJSON *obj, const char *path, const char *key, const cJSON **out,
		    char *err, size_t errlen);

/* ---- requests ---- */

enum pt_adu_body { PT_ADU_BODY_NONE = 0, PT_ADU_BODY_FORM = 1, PT_ADU_BODY_JSON = 2 };

/* Where fields come from: the parsed body, then (when use_query) the query. */
struct pt_adu_src {
	struct pt_form form;
	int have_form;
	cJSON *json;
	const struct pt_form *query;
	int use_query;
	char num[8][48]; /* JSON numbers/booleans rendered as text */
	unsigned nnum;
};

/* Parse req's body as kind (an empty body is no body) after checking its
 * content type ("expected form body", "expected JSON body": PT_EBADREQ).
 * Always pair with pt_adu_src_close(), also after an error. */
int pt_adu_src_open(struct pt_adu_src *s, const struct pt_http_req *req, enum pt_adu_body kind,
		    int use_query, char *err, size_t errlen);
void pt_adu_src_close(struct pt_adu_src *s);

/* Raw value of name (body first, then query), or NULL. JSON strings, numbers
 * and booleans are returned as text; objects, arrays and null are absent. */
const char *pt_adu_src_get(struct pt_adu_src *s, const char *name, size_t *len);

/* An identifier-like field (no control bytes) into out. Missing or empty:
 * PT_EBADREQ "missing field <name>" when required, else "". Too long: PT_ETOOBIG. */
int pt_adu_get_id(struct pt_adu_src *s, const char *name, int required, char *out, size_t cap,
		  char *err, size_t errlen);
/* A phone number, normalised to E.164 ("invalid <name>" when implausible). */
int pt_adu_get_phone(struct pt_adu_src *s, const char *name, int required, char *out, size_t cap,
		     char *err, size_t errlen);
/* A resident text, sanitised UTF-8. Raw or sanitised length >= cap: PT_ETOOBIG. */
int pt_adu_get_text(struct pt_adu_src *s, const char *name, int required, char *out, size_t cap,
		    size_t *outlen, char *err, size_t errlen);

/* Sanitise len bytes into out; PT_ETOOBIG when the result does not fit. */
int pt_adu_text(const char *in, size_t len, char *out, size_t cap, size_t *outlen);
/* Copy a value into an id-like buffer: PT_ETOOBIG when too long, PT_EBADREQ on
 * control bytes. */
int pt_adu_copy_id(const char *v, size_t len, char *out, size_t cap);

/* Milliseconds since the epoch from "1700000000" (s), "1700000000123" (ms),
 * "2026-11-22 15:25:38", "2026-11-22T15:25:38Z" or "2026-11-22+15:25:38"
 * (UTC). 0 when unparseable. */
int64_t pt_adu_parse_time(const char *s, size_t len);

/* Media type of a Content-Type header equals media (case-insensitive, parameters ignored). */
int pt_adu_ctype_is(const char *ctype, const char *media);

/* ---- output ---- */

struct pt_adu_buf {
	char *p;
	size_t cap;
	size_t len;
	int overflow;
};

void pt_adu_buf_init(struct pt_adu_buf *b, char *p, size_t cap);
void pt_adu_buf_add(struct pt_adu_buf *b, const char *s, size_t len);
void pt_adu_buf_str(struct pt_adu_buf *b, const char *s);
/* Percent-encode (plus: space as '+'). */
void pt_adu_buf_url(struct pt_adu_buf *b, const char *s, size_t len, int plus);
/* JSON string escaping, without the surrounding quotes. */
void pt_adu_buf_json(struct pt_adu_buf *b, const char *s, size_t len);
/* PT_OK, or PT_ETOOBIG when anything did not fit. The text is always NUL-terminated. */
int pt_adu_buf_done(const struct pt_adu_buf *b);

/* A 200 response with body prefix + text; PT_ETOOBIG if it would not fit. */
int pt_adu_resp_text(struct pt_http_resp *out, const char *ctype, const char *prefix,
		     const struct pt_reply *reply);

/* Reply text length, never beyond its buffer. */
size_t pt_adu_reply_len(const struct pt_reply *reply);

/* Append a "Name: value" header to an outbound request. */
int pt_adu_add_header(struct pt_outreq *out, const char *name, const char *value);

/* PT_SEND_RETRY for no answer (<= 0), 408, 429 and 5xx; PT_SEND_OK for 2xx;
 * PT_SEND_FAIL otherwise. */
int pt_adu_http_class(long status);

/* Printable excerpt of a provider's answer for error texts (at most 80 bytes). */
void pt_adu_excerpt(const char *body, size_t len, char *out, size_t cap);

/* Follow a dotted path ("data.messages.0.id") in a JSON document. */
const cJSON *pt_adu_json_path(const cJSON *root, const char *path);
/* A JSON string, number or boolean as text into out. PT_ENOTFOUND for other types. */
int pt_adu_json_scalar(const cJSON *item, char *out, size_t cap);

/* A provider's delivery-status word and what it means for us. */
struct pt_adu_dlr_name {
	const char *name;
	enum pt_dlr dlr;
};
/* The dlr of status in map (case-insensitive), PT_DLR_NONE when absent. */
enum pt_dlr pt_adu_dlr_lookup(const struct pt_adu_dlr_name *map, size_t n, const char *status);

/* free_conf for configurations holding secrets: zero them, then free. */
void pt_adu_free_wiped(void *conf, size_t size);

/* The adapters, for the registry. */
extern const struct pt_adapter pt_adapter_africastalking_ussd;
extern const struct pt_adapter pt_adapter_africastalking_sms;
extern const struct pt_adapter pt_adapter_kannel;
extern const struct pt_adapter pt_adapter_generic_ussd;
extern const struct pt_adapter pt_adapter_generic_sms;

#endif

/*
 * config.h - the deployment configuration: one JSON file (documented key by key
 * in docs/configuration.md; gateway/pintu.example.json is the demo, compiled in).
 *
 * Loading is strict: an unknown key, a wrong type or a missing required value is
 * an error that names the key's path ("channels[2].type: unknown channel type
 * \"foo\""). Keys starting with "_" are comments and ignored. Channel objects are
 * validated by their adapter's configure().
 */
#ifndef PT_CONFIG_H
#define PT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "pintu/adapter.h"
#include "pintu/outbox.h"

struct pt_kelurahan {
	char name[64];
	char puskesos[256]; /* where the Puskesos is; "" = this kelurahan has none */
};

struct pt_kecamatan {
	char name[64];
	struct pt_kelurahan *kel;
	int nkel;
};

struct pt_program {
	char code[24];
	char name[128], name_en[128];
	char info[512], info_en[512];
};

struct pt_cidr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;
};

#define PT_ALLOW_MAX 16

struct pt_channel {
	char name[64];
	const struct pt_adapter *adapter;
	void *conf;              /* the adapter's private configuration */
	char sms_channel[64];    /* USSD: the SMS channel for confirmations ("" = none) */
	double rate_per_s;       /* sending rate limit, 0 = unlimited */
	struct pt_cidr allow[PT_ALLOW_MAX];
	int nallow;              /* 0 = any address */
};

/* Sections owned and validated by other modules (kept as JSON; each module
 * parses its own at start): "staff" (src/auth.c), "service_levels"
 * (src/procedure.c), "broadcasts" (src/broadcast.c). */
enum pt_config_section { PT_CFG_STAFF, PT_CFG_SERVICE_LEVELS, PT_CFG_BROADCASTS, PT_CFG_NSECTIONS };
struct cJSON;
/* The validators config.c calls while loading (section NULL when absent is
 * not called). Return PT_OK, or PT_ECONFIG with the message in err naming the
 * key path ("service_levels.holidays[2]: not a date (YYYY-MM-DD)"). */
int pt_auth_check_config(const struct cJSON *section, char *err, size_t errlen);
int pt_proc_check_config(const struct cJSON *section, char *err, size_t errlen);
int pt_broadcast_check_config(const struct cJSON *section, char *err, size_t errlen);

struct pt_config {
	char source[512];        /* file name, or "built-in demo" */
	struct cJSON *sections[PT_CFG_NSECTIONS]; /* NULL when absent */
	struct {
		char name[128], short_name[64], short_code[32], ussd_code[32];
		char phone[64], address[256], timezone[64];
		int utc_offset_min;
	} office;
	char listen[128];        /* "127.0.0.1:8080" */
	char db[512];
	char dialogs[512];
	int64_t ussd_resume_ms, sms_expiry_ms;
	size_t max_body;
	unsigned conn_timeout_s, max_conns;
	/* libmicrohttpd's event loop: poll() or epoll (see pt_config_use_epoll) */
	enum { PT_LOOP_AUTO, PT_LOOP_POLL, PT_LOOP_EPOLL } event_loop;
	unsigned messages_per_minute; /* per resident; over it messages are stored, not processed (0 = off) */
	struct pt_sender_opts sender;
	struct pt_program *programs;
	int nprograms;
	struct pt_kecamatan *areas;
	int nareas;
	struct pt_channel *channels;
	int nchannels;
};

/* Parse JSON text; source names it in messages. On error NULL, message in err. */
struct pt_config *pt_config_parse(const char *json, size_t len, const char *source, char *err,
				  size_t errlen);
/* Read and parse a file. */
struct pt_config *pt_config_load(const char *path, char *err, size_t errlen);
/* The built-in demo (gateway/pintu.example.json compiled in). */
struct pt_config *pt_config_demo(char *err, size_t errlen);
void pt_config_free(struct pt_config *c);

/* Channel by name, or NULL. */
const struct pt_channel *pt_config_channel(const struct pt_config *c, const char *name);
/* Program by code (case-insensitive), kecamatan by name, kelurahan by name
 * (within kecamatan k, or anywhere when k is NULL; *kec_out gets its kecamatan). */
const struct pt_program *pt_config_program(const struct pt_config *c, const char *code);
const struct pt_kecamatan *pt_config_kecamatan(const struct pt_config *c, const char *name);
const struct pt_kelurahan *pt_config_kelurahan(const struct pt_config *c,
					       const struct pt_kecamatan *k, const char *name,
					       const struct pt_kecamatan **kec_out);

/* 1 when addr (textual IPv4/IPv6) is allowed by the channel's allow_from list. */
int pt_config_addr_allowed(const struct pt_channel *ch, const char *addr);

/* Format ms as the office's local date "dd/mm/yyyy" (out >= 11 bytes). */
void pt_config_local_date(const struct pt_config *c, int64_t ms, char *out, size_t cap);

#endif

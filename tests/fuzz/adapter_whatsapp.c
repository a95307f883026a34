/*
 * fuzz/adapter_whatsapp.c - libFuzzer harness for the "whatsapp" adapter:
 * parse_batch and parse (GET handshake and signed POST events), render,
 * build_send and parse_send on arbitrary input, under the configurations
 * below. The app secret is "fuzz-secret" in both, and the verify token
 * "fuzz-verify", so seeds reach the JSON parsing and the handshake.
 *
 * The shared driver (adapter_driver.h) runs render, build_send and
 * parse_send. Its message check predates PT_MSG_VERIFY, so the parse entry
 * points are driven here: byte 0 as in the driver (bits 0-1 configuration,
 * bit 4 GET, bits 5-7 entry point; 0-3 parse), the rest "query\nheader\nbody".
 * Modes 0 and 1 replace the header with the body's correct
 * X-Hub-Signature-256, so the JSON parser is reached; modes 2 and 3 use the
 * header as given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/crypto.h"
#include "pintu/form.h"

#define FZ_TYPE "whatsapp"

static const char *const fz_confs[] = {
	"{\"type\":\"whatsapp\",\"verify_token\":\"fuzz-verify\",\"app_secret_env\":\"PT_FUZZ_SECRET\","
	"\"access_token\":\"EAAfuzz\",\"phone_number_id\":\"106540352242922\"}",
	"{\"type\":\"whatsapp\",\"verify_token\":\"fuzz-verify\",\"app_secret\":\"fuzz-secret\","
	"\"access_token_env\":\"PT_FUZZ_SECRET\",\"phone_number_id\":\"42\",\"api_base\":"
	"\"http://127.0.0.1:9099/\",\"api_version\":\"v19.0\"}",
};

#define LLVMFuzzerTestOneInput fz_driver_one
#include "adapter_driver.h"
#undef LLVMFuzzerTestOneInput

#define WA_FZ_MAX 8

/* Every item: strings terminated, text_len right, types as the contract says. */
static void wa_fz_check(const struct pt_msg *m, int n, int max)
{
	if (n < 0 || n > max)
		abort();
	for (int i = 0; i < n; i++) {
		fz_check_str(m[i].provider_id, sizeof(m[i].provider_id));
		fz_check_str(m[i].from, sizeof(m[i].from));
		fz_check_str(m[i].to, sizeof(m[i].to));
		fz_check_str(m[i].text, sizeof(m[i].text));
		fz_check_str(m[i].dlr_reason, sizeof(m[i].dlr_reason));
		if (m[i].text_len != strlen(m[i].text))
			abort();
		if (m[i].type == PT_MSG_VERIFY) {
			if (n != 1 || m[i].text_len == 0 || m[i].text_len > 128)
				abort();
		} else if (m[i].type == PT_MSG_TEXT) {
			if (m[i].from[0] != '+' || !m[i].provider_id[0])
				abort();
		} else if (m[i].type != PT_MSG_DLR) {
			abort();
		}
	}
}

static int wa_fz_rc_ok(int rc)
{
	return rc == PT_OK || rc == PT_EBADREQ || rc == PT_ETOOBIG || rc == PT_ENOMEM ||
	       rc == PT_EAUTH;
}

static void wa_fz_parse(unsigned sel, const char *data, size_t size)
{
	const struct pt_adapter *a = pt_adapter_find(FZ_TYPE);
	const void *conf = fz_conf(sel & 3);
	char *buf = malloc(size + 1);
	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *q = buf, *hv = NULL, *body = NULL;
	char *nl = memchr(q, '\n', size);
	if (nl) {
		*nl = '\0';
		hv = nl + 1;
		char *nl2 = memchr(hv, '\n', size - (size_t)(hv - buf));
		if (nl2) {
			*nl2 = '\0';
			body = nl2 + 1;
		}
	}
	size_t blen = body ? size - (size_t)(body - buf) : 0;
	char sig[96];
	if (((sel >> 5) & 7) <= 1) {
		uint8_t mac[PT_SHA256_LEN];
		char hex[PT_SHA256_LEN * 2 + 1];
		pt_crypto_hmac_sha256("fuzz-secret", 11, body ? body : "", blen, mac);
		pt_crypto_hex(mac, sizeof(mac), hex, sizeof(hex));
		snprintf(sig, sizeof(sig), "sha256=%s", hex);
		hv = sig;
	}
	fz_hval = hv;
	struct pt_form query;
	memset(&query, 0, sizeof(query));
	if (pt_form_parse(&query, q, strlen(q)) != PT_OK) {
		pt_form_clear(&query);
		free(buf);
		return;
	}
	struct pt_http_req req = {
		.method = (sel & 16) ? "GET" : "POST",
		.path = "/webhooks/fuzz",
		.query = &query,
		.raw_query = q,
		.content_type = (sel & 4) ? NULL : "application/json",
		.body = body ? body : "",
		.body_len = blen,
		.remote_addr = "127.0.0.1",
		.header = fz_header,
		.hctx = NULL,
	};
	char err[256];
	struct pt_msg *m = malloc(sizeof(*m) * WA_FZ_MAX);
	if (m) {
		int n = -1;
		int max = 1 + (int)((sel >> 3) & 1) * (WA_FZ_MAX - 1);
		int rc = a->parse_batch(conf, &req, m, max, &n, err, sizeof(err));
		if (!wa_fz_rc_ok(rc))
			abort();
		if (rc == PT_OK)
			wa_fz_check(m, n, max);
		else if (n != 0)
			abort();
		rc = a->parse(conf, &req, m, err, sizeof(err));
		if (!wa_fz_rc_ok(rc))
			abort();
		if (rc == PT_OK)
			wa_fz_check(m, 1, 1);
		free(m);
	}
	pt_form_clear(&query);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 70000)
		return 0;
	unsigned sel = data[0];
	if (((sel >> 5) & 7) <= 3) {
		wa_fz_parse(sel, (const char *)data + 1, size - 1);
		return 0;
	}
	return fz_driver_one(data, size);
}

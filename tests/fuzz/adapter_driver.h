/*
 * adapter_driver.h - the libFuzzer driver shared by every adapter_<type>.c
 * harness. Include it after defining FZ_TYPE (the adapter's type name) and
 * fz_confs[] (the channel configurations to exercise).
 */
#ifndef PT_FUZZ_ADAPTER_DRIVER_H
#define PT_FUZZ_ADAPTER_DRIVER_H

/* ---- the driver (the same in every adapter_<type>.c harness) ----
 *
 * Input: byte 0 picks the configuration, the entry point and the content type;
 * the rest is "query\nheader-value\nbody". Invariants: every return code is one
 * the contract allows; on success every string field is NUL-terminated inside
 * its buffer, text_len matches, a resident's number is E.164; rendered bodies
 * and send requests stay inside their buffers and are NUL-terminated.
 */
static const char *fz_hval;

static const char *fz_header(const void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return fz_hval;
}

static void fz_check_str(const char *s, size_t cap)
{
	if (strnlen(s, cap) >= cap)
		abort();
}

static void fz_check_msg(const struct pt_msg *m)
{
	fz_check_str(m->provider_id, sizeof(m->provider_id));
	fz_check_str(m->session_id, sizeof(m->session_id));
	fz_check_str(m->from, sizeof(m->from));
	fz_check_str(m->to, sizeof(m->to));
	fz_check_str(m->service_code, sizeof(m->service_code));
	fz_check_str(m->text, sizeof(m->text));
	fz_check_str(m->dlr_reason, sizeof(m->dlr_reason));
	if (m->text_len != strlen(m->text))
		abort();
	if (m->type != PT_MSG_DLR && m->type != PT_MSG_VERIFY && m->from[0] != '+' &&
	    strncmp(m->from, "tg:", 3) != 0)
		abort();
	if (m->type < PT_MSG_TEXT || m->type > PT_MSG_VERIFY)
		abort();
}

static const void *fz_conf(size_t i)
{
	static void *confs[PT_ARRAY_LEN(fz_confs)];
	static int done;
	if (!done) {
		const struct pt_adapter *a = pt_adapter_find(FZ_TYPE);
		char err[256];
		if (!a)
			abort();
		setenv("PT_FUZZ_SECRET", "fuzz-secret", 1);
		for (size_t k = 0; k < PT_ARRAY_LEN(fz_confs); k++) {
			cJSON *j = cJSON_Parse(fz_confs[k]);
			if (!j || a->configure(j, "channels[0]", &confs[k], err, sizeof(err)) != PT_OK)
				abort();
			cJSON_Delete(j);
		}
		done = 1;
	}
	return confs[i % PT_ARRAY_LEN(fz_confs)];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ctypes[] = {
		"application/x-www-form-urlencoded", "application/json", "text/plain; charset=\"UTF-8\"",
		NULL,
	};
	const struct pt_adapter *a = pt_adapter_find(FZ_TYPE);
	if (size < 1 || size > 70000)
		return 0;
	unsigned sel = data[0];
	const void *conf = fz_conf(sel & 3);
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	size_t n = size - 1;
	char *q = buf, *hv = NULL, *body = NULL;
	char *nl = memchr(q, '\n', n);
	if (nl) {
		*nl = '\0';
		hv = nl + 1;
		char *nl2 = memchr(hv, '\n', n - (size_t)(hv - buf));
		if (nl2) {
			*nl2 = '\0';
			body = nl2 + 1;
		}
	}
	size_t blen = body ? n - (size_t)(body - buf) : 0;
	fz_hval = hv;

	struct pt_form query;
	memset(&query, 0, sizeof(query));
	if (pt_form_parse(&query, q, strlen(q)) != PT_OK) {
		pt_form_clear(&query);
		free(buf);
		return 0;
	}
	struct pt_http_req req = {
		.method = (sel & 16) ? "GET" : "POST",
		.path = "/webhooks/fuzz",
		.query = &query,
		.content_type = ctypes[(sel >> 2) & 3],
		.body = body ? body : "",
		.body_len = blen,
		.remote_addr = "127.0.0.1",
		.header = fz_header,
		.hctx = NULL,
	};
	char err[256];
	struct pt_msg m;
	int mode = (sel >> 5) & 7;
	if (mode <= 2 || (mode == 3 && !a->parse_status)) {
		int rc = a->parse(conf, &req, &m, err, sizeof(err));
		if (rc == PT_OK)
			fz_check_msg(&m);
		else if (rc != PT_EBADREQ && rc != PT_ETOOBIG && rc != PT_ENOMEM && rc != PT_EAUTH)
			abort();
	} else if (mode == 3) {
		int rc = a->parse_status(conf, &req, &m, err, sizeof(err));
		if (rc == PT_OK)
			fz_check_msg(&m);
		else if (rc != PT_EBADREQ && rc != PT_ETOOBIG && rc != PT_ENOMEM && rc != PT_EAUTH)
			abort();
	} else if (mode == 4 || (!a->build_send && mode >= 5)) {
		struct pt_reply rep;
		struct pt_http_resp resp;
		memset(&rep, 0, sizeof(rep));
		rep.has_text = blen > 0 || (sel & 1);
		rep.end = (sel >> 1) & 1;
		rep.text_len = blen < sizeof(rep.text) ? blen : sizeof(rep.text) - 1;
		if (body)
			memcpy(rep.text, body, rep.text_len);
		int rc = a->render(conf, &rep, &resp);
		if (rc == PT_OK) {
			if (resp.status != 200 || resp.body_len >= sizeof(resp.body) ||
			    resp.body[resp.body_len] != '\0')
				abort();
		} else if (rc != PT_ETOOBIG) {
			abort();
		}
	} else if (mode == 5) {
		struct pt_outmsg om;
		struct pt_outreq *o = malloc(sizeof(*o));
		memset(&om, 0, sizeof(om));
		om.id = (int64_t)size;
		snprintf(om.to, sizeof(om.to), "+6281234567890");
		om.text = body ? body : "";
		om.text_len = blen;
		int rc = o ? a->build_send(conf, &om, o) : PT_OK;
		if (o && rc == PT_OK) {
			fz_check_str(o->url, sizeof(o->url));
			fz_check_str(o->method, sizeof(o->method));
			if (o->body_len >= sizeof(o->body) || o->nheaders > PT_OUTREQ_HEADERS)
				abort();
		} else if (o && rc != PT_ETOOBIG && rc != PT_ECONFIG) {
			abort();
		}
		free(o);
	} else {
		char pid[PT_ID_MAX];
		long status = ((long)(sel & 7)) * 100 + (long)(hv ? strlen(hv) % 30 : 0);
		int rc = a->parse_send(conf, status, body, blen, pid, sizeof(pid), err, sizeof(err));
		if (rc != PT_SEND_OK && rc != PT_SEND_RETRY && rc != PT_SEND_FAIL)
			abort();
		fz_check_str(pid, sizeof(pid));
	}
	pt_form_clear(&query);
	free(buf);
	return 0;
}

#endif

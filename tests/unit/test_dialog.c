/*
 * test_dialog.c - the dialog engine against the shipped dialogs/ and a fake
 * host: lists (programs, the 5 kecamatan, kelurahan; Bukit Batu has long names
 * so its USSD menu must page), office variables and actions that record calls.
 *
 * Every screen rendered by every test goes through step(), which checks the
 * channel rules: USSD <= 182 characters, SMS pure GSM-7, never "Puskesmas".
 * Each step also round-trips the session through JSON, as the host does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/common.h"
#include "pintu/dialog.h"
#include "pintu/text.h"
#include "test.h"

/* ---- fake host ---- */

struct fake {
	int64_t now;
	int calls_create;
	int calls_lookup;
	int calls_verify;
	int calls_match;
	char last_action[64];
	struct pt_session ticket_vars; /* session copy at create_ticket */
	const char *fail_action;       /* return PT_EDB from this action */
	int lookup_other_number;       /* status_lookup answers need_nik4 */
	int no_next_date;
};

static struct fake F;

static const struct {
	const char *key, *id, *en;
} programs[] = {
	{"PKH", "PKH (Program Keluarga Harapan)", "PKH (family cash transfer)"},
	{"BPNT", "BPNT / Sembako", "BPNT / Sembako (food aid)"},
	{"PBI", "PBI-JK / KIS", "PBI-JK / KIS (health insurance)"},
	{"PIP", "PIP / KIP", "PIP / KIP (school aid)"},
	{"RASTRA", "Rastra (bantuan beras)", "Rastra (rice aid)"},
	{"KUBE", "KUBE (usaha bersama)", "KUBE (joint business)"},
	{"LAINNYA", "Lainnya / tidak tahu", "Other / don't know"},
};

static const char *const kecamatan[] = {"Pahandut", "Sabangau", "Jekan Raya", "Bukit Batu",
					"Rakumpit"};
static const char *const kel_pahandut[] = {"Pahandut", "Panarung", "Langkai", NULL};
static const char *const kel_sabangau[] = {"Kalampangan", "Kereng Bangkirai", "Sabaru", NULL};
static const char *const kel_jekan[] = {"Menteng", "Palangka", "Petuk Katimpun", NULL};
static const char *const kel_bukit_batu[] = {
	"Marang Hulu Seberang Sungai Kahayan", "Tumbang Tahai Ujung Jalan Tjilik Riwut",
	"Tangkiling Atas Dekat Bukit Batu Lama", "Habaring Hurung Seberang Timur Jauh",
	"Banturung Hilir Kampung Baru Sekali", "Sei Gohong Dalam Pinggir Danau Besar",
	"Kanarakan Lama Ujung Kampung Sungai", "Bukit Tunggal Kedua Belakang Pasar Lama",
	NULL};
static const char *const kel_rakumpit[] = {"Pager", "Gaung Baru", "Mungku Baru", NULL};

static const char *const *kel_of(const char *kec)
{
	static const char *const *const all[] = {kel_pahandut, kel_sabangau, kel_jekan,
						  kel_bukit_batu, kel_rakumpit};
	for (int i = 0; i < 5; i++)
		if (kec && strcmp(kec, kecamatan[i]) == 0)
			return all[i];
	return NULL;
}

static void item(struct pt_list_item *it, const char *key, const char *id, const char *en)
{
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->label_id, sizeof(it->label_id), "%s", id);
	snprintf(it->label_en, sizeof(it->label_en), "%s", en ? en : "");
}

static int fake_list(void *ctx, const char *name, const struct pt_session *s,
		     struct pt_list_item *items, int max)
{
	(void)ctx;
	int n = 0;
	if (strcmp(name, "programs") == 0) {
		for (size_t i = 0; i < PT_ARRAY_LEN(programs) && n < max; i++)
			item(&items[n++], programs[i].key, programs[i].id, programs[i].en);
	} else if (strcmp(name, "kecamatan") == 0) {
		for (int i = 0; i < 5 && n < max; i++)
			item(&items[n++], kecamatan[i], kecamatan[i], NULL);
	} else if (strcmp(name, "kelurahan") == 0) {
		const char *const *k = kel_of(pt_session_get(s, "kecamatan"));
		for (; k && *k && n < max; k++)
			item(&items[n++], *k, *k, NULL);
	} else {
		return PT_ENOTFOUND;
	}
	return n;
}

static const char *fake_var(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "office_name") == 0)
		return "Dinas Sosial Kota Palangka Raya";
	if (strcmp(name, "short_code") == 0)
		return "1708";
	if (strcmp(name, "office_phone") == 0)
		return "0536-3221234";
	if (strcmp(name, "office_address") == 0)
		return "Jl. Tjilik Riwut Km 5, Palangka Raya";
	return NULL;
}

static int fake_action(void *ctx, const char *name, struct pt_session *s, char *outcome,
		       size_t outcap)
{
	(void)ctx;
	snprintf(F.last_action, sizeof(F.last_action), "%s", name);
	if (F.fail_action && strcmp(F.fail_action, name) == 0)
		return PT_EDB;
	if (strcmp(name, "create_ticket") == 0) {
		F.calls_create++;
		F.ticket_vars = *s;
		pt_session_set(s, "ticket_number", "4821-0934");
		pt_session_set(s, "ticket_digits", "48210934");
		snprintf(outcome, outcap, "ok");
	} else if (strcmp(name, "status_lookup") == 0) {
		F.calls_lookup++;
		const char *in = pt_session_get(s, "ticket_input");
		char d[9];
		if (!in || pt_ticket_parse(in, strlen(in), d) != PT_OK) {
			snprintf(outcome, outcap, "invalid");
		} else if (strcmp(d, "48210934") != 0) {
			snprintf(outcome, outcap, "not_found");
		} else if (F.lookup_other_number) {
			snprintf(outcome, outcap, "need_nik4");
		} else {
			pt_session_set(s, "ticket_number", "4821-0934");
			pt_session_set(s, "status_label", "Dirujuk ke pengelola program PKH");
			pt_session_set(s, "status_date", "20/11/2026");
			if (!F.no_next_date)
				pt_session_set(s, "next_date", "14/12/2026");
			snprintf(outcome, outcap, "ok");
		}
	} else if (strcmp(name, "status_verify_nik4") == 0) {
		F.calls_verify++;
		const char *n4 = pt_session_get(s, "nik4");
		if (n4 && strcmp(n4, "0003") == 0) {
			pt_session_set(s, "ticket_number", "4821-0934");
			pt_session_set(s, "status_label", "Sedang ditelaah");
			pt_session_set(s, "status_date", "20/11/2026");
			snprintf(outcome, outcap, "ok");
		} else {
			snprintf(outcome, outcap, "wrong");
		}
	} else if (strcmp(name, "match_kelurahan") == 0) {
		F.calls_match++;
		const char *in = pt_session_get(s, "kelurahan_input");
		snprintf(outcome, outcap, "not_found");
		for (int k = 0; k < 5 && in; k++) {
			for (const char *const *kl = kel_of(kecamatan[k]); *kl; kl++) {
				if (strcasecmp(in, *kl) == 0) {
					pt_session_set(s, "kelurahan", *kl);
					pt_session_set(s, "kecamatan", kecamatan[k]);
					snprintf(outcome, outcap, "found");
				}
			}
		}
	} else if (strcmp(name, "program_info") == 0) {
		const char *p = pt_session_get(s, "program");
		char info[300];
		snprintf(info, sizeof(info),
			 "%s: bantuan tunai bersyarat untuk keluarga miskin dengan ibu hamil, anak "
			 "sekolah, lansia atau disabilitas berat. Disalurkan bertahap lewat bank/Pos.",
			 p ? p : "?");
		pt_session_set(s, "program_name", p ? p : "?");
		pt_session_set(s, "program_info", info);
		snprintf(outcome, outcap, "ok");
	} else if (strcmp(name, "puskesos_lookup") == 0) {
		const char *kel = pt_session_get(s, "kelurahan");
		if (kel && strcmp(kel, "Petuk Katimpun") == 0) {
			snprintf(outcome, outcap, "office");
		} else {
			pt_session_set(s, "puskesos_name", "Puskesos Menteng");
			pt_session_set(s, "puskesos_address", "Kantor Kelurahan Menteng, Jl. G. Obos");
			snprintf(outcome, outcap, "puskesos");
		}
	} else if (strncmp(name, "subscribe", 9) == 0) {
		/* subscriptions (src/subscriptions.c): never asked, kelurahan unknown */
		snprintf(outcome, outcap, "%s",
			 strcmp(name, "subscribe_check") == 0  ? "asked"
			 : strcmp(name, "subscribe_area") == 0 ? "unknown"
							       : "ok");
	} else {
		return PT_ENOTFOUND;
	}
	return PT_OK;
}

/* ---- driver ---- */

static struct pt_dialogs *D;
static struct pt_dialog_out OUT;
static int LAST_RC;
static int screens_checked;

static struct pt_dialog_env env_for(enum pt_chan_kind chan)
{
	struct pt_dialog_env e = {
		.chan = chan,
		.ctx = &F,
		.now_ms = F.now,
		.ussd_resume_ms = 30 * 60 * 1000,
		.sms_expiry_ms = 60 * 60 * 1000,
		.list = fake_list,
		.action = fake_action,
		.var = fake_var,
	};
	return e;
}

static void check_screen(enum pt_chan_kind chan, const char *input)
{
	screens_checked++;
	PT_CHECK(OUT.len == strlen(OUT.text));
	if (chan == PT_CHAN_USSD) {
		size_t n = pt_utf8_count(OUT.text, OUT.len);
		if (n > PT_USSD_SCREEN_MAX)
			fprintf(stderr, "USSD screen of %zu chars after \"%s\":\n%s\n", n, input,
				OUT.text);
		PT_CHECK(n <= PT_USSD_SCREEN_MAX);
	}
	if (chan == PT_CHAN_SMS)
		PT_CHECK(pt_gsm7_first_bad(OUT.text, OUT.len) == -1);
	PT_CHECK(strstr(OUT.text, "Puskesmas") == NULL);
	PT_CHECK(strstr(OUT.text, "{") == NULL);
	PT_CHECK(OUT.len > 0);
}

/* One step, then a JSON round trip of the session like the host does. */
static const char *step_first(struct pt_session *s, enum pt_chan_kind chan, const char *input,
			      int first)
{
	struct pt_dialog_env e = env_for(chan);
	LAST_RC = pt_dialog_step(D, &e, s, input, strlen(input), first, &OUT);
	if (getenv("PT_TEST_VERBOSE"))
		printf("--- %s%s > %s\n%s\n[%zu chars%s]\n", chan == PT_CHAN_USSD ? "USSD" : "SMS",
		       first ? " (first)" : "", input, OUT.text, pt_utf8_count(OUT.text, OUT.len),
		       OUT.end ? ", END" : "");
	check_screen(chan, input);
	char json[24000];
	int n = pt_session_to_json(s, json, sizeof(json));
	PT_CHECK(n > 0);
	struct pt_session back;
	PT_CHECK_INT(pt_session_from_json(&back, json, (size_t)n), PT_OK);
	*s = back;
	return OUT.text;
}

static const char *ussd(struct pt_session *s, const char *input)
{
	return step_first(s, PT_CHAN_USSD, input, 0);
}

static const char *ussd_start(struct pt_session *s)
{
	return step_first(s, PT_CHAN_USSD, "", 1);
}

static const char *sms(struct pt_session *s, const char *input)
{
	return step_first(s, PT_CHAN_SMS, input, 0);
}

static int has(const char *hay, const char *needle)
{
	int ok = strstr(hay, needle) != NULL;
	if (!ok)
		fprintf(stderr, "  expected \"%s\" in:\n%s\n", needle, hay);
	return ok;
}

static void reset_fake(void)
{
	memset(&F, 0, sizeof(F));
	F.now = 1764000000000LL;
}

/* ---- loading ---- */

struct problems {
	int n;
	char lines[64][320];
};

static void collect(void *ctx, const char *file, const char *node, const char *field,
		    const char *msg)
{
	struct problems *p = ctx;
	if (p->n < 64)
		snprintf(p->lines[p->n], sizeof(p->lines[0]), "%s: node \"%s\": field \"%s\": %s", file,
			 node, field, msg);
	p->n++;
}

static int reported(const struct problems *p, const char *needle)
{
	for (int i = 0; i < p->n && i < 64; i++)
		if (strstr(p->lines[i], needle))
			return 1;
	fprintf(stderr, "  problem not reported: %s\n", needle);
	return 0;
}

PT_TEST(test_load_shipped)
{
	struct problems p = {0};
	int n = -1;
	D = pt_dialogs_load("dialogs", collect, &p, &n);
	for (int i = 0; i < p.n && i < 64; i++)
		fprintf(stderr, "  %s\n", p.lines[i]);
	PT_CHECK(D != NULL);
	PT_CHECK_INT(n, 0);
	/* no "Puskesmas" (a health clinic) anywhere in the shipped wording */
	const char *files[] = {"main.json", "complaint.json", "status.json", "info.json",
			       "flow.json"};
	for (size_t i = 0; i < PT_ARRAY_LEN(files); i++) {
		char path[256], buf[65536];
		snprintf(path, sizeof(path), "dialogs/%s", files[i]);
		FILE *f = fopen(path, "rb");
		PT_CHECK(f != NULL);
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		PT_CHECK(len > 0 && strstr(buf, "Puskesmas") == NULL && strstr(buf, "puskesmas") == NULL);
		PT_CHECK(strstr(buf, "\xE2\x80\xA6") == NULL); /* no ellipsis character */
	}
}

PT_TEST(test_load_broken)
{
	struct problems p = {0};
	int n = 0;
	struct pt_dialogs *b = pt_dialogs_load("tests/unit/dialogs/broken", collect, &p, &n);
	PT_CHECK(b == NULL);
	PT_CHECK(n == p.n && n >= 12);
	PT_CHECK(reported(&p, "complaint.json: node \"nik\": field \"next\": target "
			      "\"complaint.kecamatn\" does not exist"));
	PT_CHECK(reported(&p, "complaint.json: node \"nik\": field \"sms.next\": target "
			      "\"complaint.also_missing\" does not exist"));
	PT_CHECK(reported(&p, "complaint.json: node \"nik\": field \"pattern\": does not compile"));
	PT_CHECK(reported(&p, "complaint.json: node \"nik\": field \"validate\": unknown check"));
	PT_CHECK(reported(&p, "complaint.json: node \"start\": field \"options\": missing"));
	PT_CHECK(reported(&p, "complaint.json: node \"done\": field \"text.id\": unknown variable "
			      "\"ticket_nomor\""));
	PT_CHECK(reported(&p, "complaint.json: node \"done\": field \"text.id\": {?nik} is never "
			      "closed"));
	PT_CHECK(reported(&p, "complaint.json: node \"act\": field \"outcomes.no\": target "
			      "\"complaint.gone\" does not exist"));
	PT_CHECK(reported(&p, "main.json: node \"menu\": field \"text.id\": unknown variable "
			      "\"no_such_var\""));
	PT_CHECK(reported(&p, "main.json: node \"menu\": field \"colour\": unknown field"));
	PT_CHECK(reported(&p, "main.json: node \"menu\": field \"options[0].text.id\": missing"));
	PT_CHECK(reported(&p, "main.json: node \"menu\": field \"options[1].key\""));
	PT_CHECK(reported(&p, "main.json: node \"weird\": field \"kind\": unknown kind \"dance\""));
	PT_CHECK(reported(&p, "main.json: node \"\": field \"keywords[0].target\": target "
			      "\"main.nowhere\" does not exist"));
	PT_CHECK(reported(&p, "syntax.json: node \"\": field \"\": invalid JSON near line 1"));
	/* an inherited text is checked once, not again for the ussd variant */
	int unknown = 0;
	for (int i = 0; i < p.n && i < 64; i++)
		unknown += strstr(p.lines[i], "\"ticket_nomor\"") != NULL;
	PT_CHECK_INT(unknown, 1);
	/* the office variable is declared, so it is not reported */
	for (int i = 0; i < p.n && i < 64; i++)
		PT_CHECK(strstr(p.lines[i], "\"office_name\"") == NULL);

	n = 0;
	PT_CHECK(pt_dialogs_load("tests/unit/dialogs/no_such_dir", NULL, NULL, &n) == NULL);
	PT_CHECK(n >= 1);
}

/* ---- USSD complaint ---- */

static int option_number(const char *screen, const char *label)
{
	/* find the line "<n> <label...>" */
	const char *p = screen;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		int num = 0;
		size_t i = 0;
		while (i < len && p[i] >= '0' && p[i] <= '9')
			num = num * 10 + (p[i++] - '0');
		if (i > 0 && i < len && p[i] == ' ' && strncmp(p + i + 1, label, strlen(label)) == 0)
			return num;
		p = eol ? eol + 1 : NULL;
	}
	return -1;
}

PT_TEST(test_ussd_complaint_self)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	const char *t = ussd_start(&s);
	PT_CHECK(has(t, "Layanan Pengaduan Dinas Sosial Kota Palangka Raya\n1 Sampaikan pengaduan\n"
			"2 Cek status pengaduan\n3 Info program bantuan\n4 Alur layanan & Puskesos\n"
			"5 Info via SMS\n9 English\n0 Keluar"));
	PT_CHECK_INT(OUT.end, 0);
	t = ussd(&s, "1");
	PT_CHECK(has(t, "1 Saya sendiri/keluarga"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "1 Kepesertaan/data (tidak terdaftar, dicoret, data salah)"));
	PT_CHECK(has(t, "2 Bantuan tidak diterima/terlambat/kurang"));
	t = ussd(&s, "2");
	PT_CHECK(has(t, "Program bantuan:"));
	PT_CHECK(has(t, "1 PKH (Program Keluarga Harapan)"));
	PT_CHECK(has(t, "7 Lainnya / tidak tahu"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Masukkan NIK (16 angka) sesuai KTP/KK. Ketik 0 jika tidak tahu."));
	t = ussd(&s, "6271014107900003");
	PT_CHECK(has(t, "Pilih kecamatan:\n1 Pahandut\n2 Sabangau"));
	t = ussd(&s, "2");
	PT_CHECK(has(t, "2 Kereng Bangkirai"));
	t = ussd(&s, "2");
	PT_CHECK(has(t, "Ceritakan singkat masalahnya (maks 160 huruf)."));
	t = ussd(&s, "Bantuan PKH tahap 3 belum cair padahal tetangga sudah menerima sejak bulan "
		     "lalu, mohon dicek datanya karena nama saya masih terdaftar di DTKS kelurahan "
		     "dan kartu KKS saya masih aktif.");
	PT_CHECK(has(t, "Data Anda dijaga kerahasiaannya dan hanya dipakai untuk menangani "
			"pengaduan ini. Setuju?\n1 Ya\n2 Tidak"));
	PT_CHECK_STR(s.node, "complaint.consent");
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Periksa:\nBantuan tidak diterima/terlambat, PKH"));
	PT_CHECK(has(t, "NIK 6271********0003"));
	PT_CHECK(has(t, "Kel. Kereng Bangkirai\n\"Bantuan PKH tahap 3 belum cair"));
	PT_CHECK(has(t, "...\"")); /* the description was shortened to fit */
	PT_CHECK(strstr(t, "\xE2\x80\xA6") == NULL);
	PT_CHECK(strstr(t, "6271014107900003") == NULL);
	PT_CHECK(has(t, "1 Kirim\n2 Batal"));
	t = ussd(&s, "1");
	PT_CHECK_INT(LAST_RC, PT_OK);
	PT_CHECK_STR(t, "Terima kasih, pengaduan Anda kami terima. Nomor pengaduan: 4821-0934. Cek "
			"status: SMS CEK 48210934 ke 1708.");
	PT_CHECK_INT(OUT.end, 1);
	PT_CHECK_INT(F.calls_create, 1);
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "subject"), "self");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "type"), "penyaluran");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "program"), "PKH");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "nik"), "6271014107900003");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "kecamatan"), "Sabangau");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "kelurahan"), "Kereng Bangkirai");
	const char *desc = pt_session_get(&F.ticket_vars, "description");
	PT_CHECK(desc && pt_utf8_count(desc, strlen(desc)) == 160);
	/* idle afterwards, vars cleared, language kept */
	PT_CHECK_STR(s.node, "");
	PT_CHECK_INT(s.nvars, 0);
	PT_CHECK_STR(s.lang, "id");
	PT_CHECK(s.updated_ms == F.now);
}

PT_TEST(test_ussd_report_other)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	ussd_start(&s);
	ussd(&s, "1");
	const char *t = ussd(&s, "2");
	PT_CHECK(has(t, "1 Lansia terlantar"));
	PT_CHECK(has(t, "7 Lainnya"));
	t = ussd(&s, "5");
	PT_CHECK(has(t, "Jelaskan lokasi orang tersebut (alamat/patokan)."));
	PT_CHECK(strstr(t, "NIK") == NULL);
	t = ussd(&s, "Depan pasar Kahayan, dekat pos ojek");
	PT_CHECK(has(t, "Pilih kecamatan:"));
	ussd(&s, "3");
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Ceritakan singkat"));
	ussd(&s, "Bapak tua tidur di emperan toko sejak seminggu");
	t = ussd(&s, "1");
	PT_CHECK(has(t, "ODGJ (gangguan jiwa)"));
	PT_CHECK(has(t, "Depan pasar Kahayan, dekat pos ojek\nKel. Menteng"));
	PT_CHECK(strstr(t, "NIK") == NULL);
	ussd(&s, "1");
	PT_CHECK_INT(OUT.end, 1);
	PT_CHECK_INT(F.calls_create, 1);
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "subject"), "other");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "type"), "odgj");
	PT_CHECK(pt_session_get(&F.ticket_vars, "nik") == NULL);
	PT_CHECK(pt_session_get(&F.ticket_vars, "program") == NULL);
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "kelurahan"), "Menteng");
}

PT_TEST(test_no_consent_and_cancel_summary)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	ussd_start(&s);
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "4");
	ussd(&s, "7");
	ussd(&s, "0"); /* NIK unknown */
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "Minta info jadwal pencairan");
	const char *t = ussd(&s, "2");
	PT_CHECK(has(t, "tidak dikirim"));
	PT_CHECK_INT(OUT.end, 1);
	PT_CHECK_INT(F.calls_create, 0);
	PT_CHECK_STR(s.node, "");
}

/* ---- SMS complaint ---- */

PT_TEST(test_sms_aduan_with_text)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	const char *t = sms(&s, "aduan: Bantuan PKH belum cair 3 bulan");
	PT_CHECK(has(t, "Pengaduan untuk siapa?\n1 Saya sendiri/keluarga"));
	PT_CHECK_STR(pt_session_get(&s, "description"), "Bantuan PKH belum cair 3 bulan");
	sms(&s, "1");
	sms(&s, "2.");
	t = sms(&s, " 1 ");
	PT_CHECK(has(t, "Masukkan NIK"));
	t = sms(&s, "6271 0141 0790 0003");
	PT_CHECK(has(t, "Ketik nama kelurahan"));
	t = sms(&s, "Kalampangn");
	PT_CHECK(has(t, "Maaf, kelurahan tidak ditemukan.\nKetik nama kelurahan"));
	PT_CHECK_INT(s.retries, 1);
	t = sms(&s, "kalampangan");
	PT_CHECK(has(t, "Maksud Anda Kelurahan Kalampangan, Kec. Sabangau?\n1 Ya\n2 Bukan"));
	t = sms(&s, "ya");
	/* the description was given with ADUAN: not asked again */
	PT_CHECK(has(t, "Setuju?"));
	t = sms(&s, "1");
	PT_CHECK(has(t, "\"Bantuan PKH belum cair 3 bulan\""));
	t = sms(&s, "1");
	PT_CHECK(has(t, "Nomor pengaduan: 4821-0934"));
	PT_CHECK_INT(F.calls_create, 1);
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "description"), "Bantuan PKH belum cair 3 bulan");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "kelurahan"), "Kalampangan");
	PT_CHECK_STR(pt_session_get(&F.ticket_vars, "nik"), "6271014107900003");
	PT_CHECK_STR(s.node, "");
}

PT_TEST(test_sms_kelurahan_list_and_free_text)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	sms(&s, "LAPOR");
	sms(&s, "2");
	sms(&s, "1");
	sms(&s, "dekat jembatan");
	const char *t = sms(&s, "0");
	PT_CHECK(has(t, "Pilih kecamatan:\n1 Pahandut"));
	t = sms(&s, "4");
	/* SMS shows the whole list, no paging */
	PT_CHECK(has(t, "8 Bukit Tunggal Kedua Belakang Pasar Lama\n0 Kembali"));
	PT_CHECK(strstr(t, "98 ") == NULL);
	t = sms(&s, "8");
	PT_CHECK(has(t, "Ceritakan singkat"));
	/* a description that starts with a keyword stays a description */
	t = sms(&s, "Status anak ini tidak jelas, tidur di jalan");
	PT_CHECK(has(t, "Setuju?"));
	PT_CHECK_STR(pt_session_get(&s, "description"), "Status anak ini tidak jelas, tidur di jalan");
	/* emoji and curly quotes in resident text are made GSM-7 safe */
	pt_session_set(&s, "description", "Tolong \xE2\x80\x9C" "cepat\xE2\x80\x9D \xF0\x9F\x99\x8F");
	t = sms(&s, "1");
	PT_CHECK(has(t, "\"Tolong \"cepat\" ?\""));
}

/* ---- invalid input, retries, NIK ---- */

PT_TEST(test_invalid_and_retries)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	sms(&s, "halo");
	const char *t = sms(&s, "7");
	PT_CHECK(has(t, "Maaf, pilihan tidak dikenali. Balas dengan angka yang tersedia, atau ketik "
			"MENU.\nLayanan Pengaduan"));
	PT_CHECK(has(t, "1 Sampaikan pengaduan"));
	PT_CHECK_STR(s.node, "main.menu");
	sms(&s, "abc");
	sms(&s, "55");
	PT_CHECK_INT(s.retries, 3);
	t = sms(&s, "x");
	PT_CHECK_STR(t, "Maaf, terlalu banyak kesalahan. Silakan coba lagi nanti.");
	PT_CHECK_INT(OUT.end, 1);
	PT_CHECK_STR(s.node, "");

	/* USSD: short error, header squeezed but options intact */
	pt_session_init(&s);
	ussd_start(&s);
	t = ussd(&s, "8");
	PT_CHECK(has(t, "Maaf, pilihan tidak dikenali."));
	PT_CHECK(has(t, "1 Sampaikan pengaduan"));
	PT_CHECK(has(t, "0 Keluar"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Pengaduan untuk siapa?"));
	PT_CHECK_INT(s.retries, 0);
}

PT_TEST(test_nik_validation)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	ussd_start(&s);
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "2");
	const char *t = ussd(&s, "12345");
	PT_CHECK(has(t, "NIK tidak valid. NIK berisi 16 angka sesuai KTP/KK.\nMasukkan NIK (16 angka)"));
	PT_CHECK_STR(s.node, "complaint.nik");
	t = ussd(&s, "6271019999990003"); /* impossible birth date */
	PT_CHECK(has(t, "NIK tidak valid"));
	t = ussd(&s, "6271010000000000");
	PT_CHECK(has(t, "NIK tidak valid"));
	PT_CHECK_INT(s.retries, 3);
	t = ussd(&s, "0");
	PT_CHECK(has(t, "Pilih kecamatan:"));
	PT_CHECK(pt_session_get(&s, "nik") == NULL);
	PT_CHECK_INT(s.retries, 0);

	/* four wrong NIKs end the session politely */
	pt_session_init(&s);
	ussd_start(&s);
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "2");
	ussd(&s, "1");
	ussd(&s, "2");
	ussd(&s, "3");
	t = ussd(&s, "4");
	PT_CHECK_STR(t, "Maaf, terlalu banyak kesalahan. Silakan coba lagi nanti.");
	PT_CHECK_INT(OUT.end, 1);
}

/* ---- paging ---- */

PT_TEST(test_ussd_paging)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	ussd_start(&s);
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "1");
	ussd(&s, "0");
	const char *t = ussd(&s, "4"); /* Bukit Batu: 8 long names */
	PT_CHECK(has(t, "Pilih kelurahan:\n1 Marang Hulu"));
	PT_CHECK(has(t, "\n98 Berikutnya\n0 Kembali"));
	PT_CHECK(option_number(t, "Bukit Tunggal Kedua") < 0);
	PT_CHECK_INT(s.page, 0);
	int seen[9] = {0};
	int pages = 0;
	for (;;) {
		pages++;
		for (int i = 1; i <= 8; i++) {
			const char *const *k = kel_of("Bukit Batu");
			int num = option_number(t, k[i - 1]);
			if (num >= 0) {
				PT_CHECK_INT(num, i); /* numbers stay stable across pages */
				seen[i]++;
			}
		}
		if (!strstr(t, "98 Berikutnya"))
			break;
		t = ussd(&s, "98");
		PT_CHECK(has(t, "0 Kembali"));
		PT_CHECK(pages < 8);
	}
	PT_CHECK(pages >= 2);
	for (int i = 1; i <= 8; i++)
		PT_CHECK_INT(seen[i], 1); /* every item shown exactly once */
	PT_CHECK_INT(s.page, pages - 1);
	t = ussd(&s, "98"); /* no next page: invalid */
	PT_CHECK(has(t, "Maaf, pilihan tidak dikenali."));
	t = ussd(&s, "0");
	PT_CHECK_INT(s.page, pages - 2);
	while (s.page > 0)
		t = ussd(&s, "0");
	PT_CHECK(has(t, "1 Marang Hulu"));
	/* a number from another page is accepted */
	t = ussd(&s, "8");
	PT_CHECK(has(t, "Ceritakan singkat"));
	PT_CHECK_STR(pt_session_get(&s, "kelurahan"), "Bukit Tunggal Kedua Belakang Pasar Lama");
}

/* ---- resume and expiry ---- */

static void walk_to_description(struct pt_session *s)
{
	ussd_start(s);
	ussd(s, "1");
	ussd(s, "1");
	ussd(s, "2");
	ussd(s, "1");
	ussd(s, "6271014107900003");
	ussd(s, "1");
	ussd(s, "1");
}

PT_TEST(test_ussd_resume)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	walk_to_description(&s);
	PT_CHECK_STR(s.node, "complaint.description");
	/* the call drops; the resident dials again 10 minutes later */
	F.now += 10 * 60 * 1000;
	const char *t = ussd_start(&s);
	PT_CHECK(has(t, "Lanjutkan pengaduan sebelumnya?\n1 Ya\n2 Mulai baru"));
	PT_CHECK_INT(OUT.end, 0);
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Ceritakan singkat masalahnya"));
	PT_CHECK_STR(s.node, "complaint.description");
	PT_CHECK_STR(pt_session_get(&s, "program"), "PKH");
	PT_CHECK(pt_session_get(&s, "_resume") == NULL);

	/* offer again, choose to start over: vars cleared, language kept */
	F.now += 60 * 1000;
	memcpy(s.lang, "en", 3);
	t = ussd_start(&s);
	PT_CHECK(has(t, "Continue your previous complaint?"));
	t = ussd(&s, "2");
	PT_CHECK(has(t, "1 Submit a complaint"));
	PT_CHECK_INT(s.nvars, 0);
	PT_CHECK_STR(s.lang, "en");

	/* after the resume window: straight to the main menu */
	pt_session_init(&s);
	walk_to_description(&s);
	F.now += 31 * 60 * 1000;
	t = ussd_start(&s);
	PT_CHECK(has(t, "Layanan Pengaduan"));
	PT_CHECK(strstr(t, "Lanjutkan") == NULL);
	PT_CHECK_INT(s.nvars, 0);

	/* not offered for a non-resumable node (status check) */
	pt_session_init(&s);
	ussd_start(&s);
	ussd(&s, "2");
	F.now += 60 * 1000;
	t = ussd_start(&s);
	PT_CHECK(has(t, "Layanan Pengaduan"));
}

PT_TEST(test_sms_expiry)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	sms(&s, "ADUAN");
	sms(&s, "1");
	PT_CHECK_STR(s.node, "complaint.type_self");
	F.now += 61 * 60 * 1000;
	const char *t = sms(&s, "2");
	PT_CHECK(has(t, "Sesi sebelumnya berakhir karena tidak ada balasan.\nLayanan Pengaduan"));
	PT_CHECK_STR(s.node, "main.menu");
	/* expiry then a keyword: notice + the keyword's screen */
	F.now += 61 * 60 * 1000;
	t = sms(&s, "cek 4821-0934");
	PT_CHECK(has(t, "Sesi sebelumnya berakhir"));
	PT_CHECK(has(t, "Pengaduan 4821-0934: Dirujuk"));
	/* within the window: no notice */
	sms(&s, "MENU");
	F.now += 59 * 60 * 1000;
	t = sms(&s, "1");
	PT_CHECK(strstr(t, "berakhir") == NULL);
	PT_CHECK(has(t, "Pengaduan untuk siapa?"));
}

/* ---- language, BATAL, MENU ---- */

PT_TEST(test_language_switch)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	ussd_start(&s);
	const char *t = ussd(&s, "9");
	PT_CHECK_STR(s.lang, "en");
	PT_CHECK(has(t, "Dinas Sosial Kota Palangka Raya Complaints\n1 Submit a complaint"));
	PT_CHECK(has(t, "9 Bahasa Indonesia"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Who is the complaint about?"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Membership/data"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "1 PKH (family cash transfer)"));
	t = ussd(&s, "x");
	PT_CHECK(has(t, "Sorry, choice not recognised."));
	/* back to Indonesian via the main menu */
	pt_session_init(&s);
	memcpy(s.lang, "en", 3);
	sms(&s, "menu");
	t = sms(&s, "9");
	PT_CHECK_STR(s.lang, "id");
	PT_CHECK(has(t, "9 English"));
}

PT_TEST(test_batal_and_menu)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	sms(&s, "ADUAN beras tidak datang");
	sms(&s, "1");
	const char *t = sms(&s, "batal");
	PT_CHECK_STR(t, "Pengaduan dibatalkan. Ketik MENU untuk mulai lagi.");
	PT_CHECK_STR(s.node, "");
	PT_CHECK_INT(s.nvars, 0);
	sms(&s, "Aduan");
	sms(&s, "1");
	t = sms(&s, " Menu. ");
	PT_CHECK(has(t, "Layanan Pengaduan"));
	PT_CHECK_STR(s.node, "main.menu");
	PT_CHECK_INT(s.nvars, 0);
	/* USSD: 0 at the main menu exits */
	pt_session_init(&s);
	ussd_start(&s);
	t = ussd(&s, "0");
	PT_CHECK(has(t, "Terima kasih"));
	PT_CHECK_INT(OUT.end, 1);
	PT_CHECK_STR(s.node, "");
	/* keywords mean nothing on USSD */
	ussd_start(&s);
	t = ussd(&s, "MENU");
	PT_CHECK(has(t, "Maaf, pilihan tidak dikenali."));
}

/* ---- status ---- */

PT_TEST(test_status)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	const char *t = sms(&s, "CEK 4821-0934");
	PT_CHECK_STR(t, "Pengaduan 4821-0934: Dirujuk ke pengelola program PKH. Perubahan terakhir "
			"20/11/2026. Kabar berikutnya paling lambat 14/12/2026. Info: Dinas Sosial "
			"Kota Palangka Raya 0536-3221234.");
	PT_CHECK_STR(s.node, "");
	t = sms(&s, "status 48210934");
	PT_CHECK(has(t, "Pengaduan 4821-0934: Dirujuk"));
	t = sms(&s, "CEK4821-0934");
	PT_CHECK(has(t, "Pengaduan 4821-0934: Dirujuk"));
	PT_CHECK_STR(F.last_action, "status_lookup");
	F.no_next_date = 1;
	t = sms(&s, "Cek: 4821 0934");
	PT_CHECK(has(t, "Perubahan terakhir 20/11/2026. Info:"));
	PT_CHECK(strstr(t, "paling lambat") == NULL);
	F.no_next_date = 0;
	t = sms(&s, "cek");
	PT_CHECK(has(t, "Masukkan nomor pengaduan (8 angka)."));
	t = sms(&s, "4821-0943"); /* two swapped digits: invalid, never someone else's */
	PT_CHECK(has(t, "Nomor pengaduan tidak valid"));
	PT_CHECK_STR(s.node, "status.ask");
	t = sms(&s, "4821-0934");
	PT_CHECK(has(t, "Pengaduan 4821-0934: Dirujuk"));
	/* keyword with a mistyped number: the lookup says invalid, asked again */
	int lookups = F.calls_lookup;
	t = sms(&s, "CEK 4821-0937"); /* wrong check digit */
	PT_CHECK_INT(F.calls_lookup, lookups + 1);
	PT_CHECK(has(t, "Nomor pengaduan tidak valid. Periksa lagi 8 angkanya.\nMasukkan nomor"));
	PT_CHECK_STR(s.node, "status.ask");
	/* a valid number that does not exist */
	char other[9] = "1234567";
	other[7] = (char)('0' + pt_damm(other, 7));
	other[8] = '\0';
	t = sms(&s, other);
	PT_CHECK(has(t, "tidak ditemukan"));
	/* asked from another phone: last 4 NIK digits */
	F.lookup_other_number = 1;
	pt_session_init(&s);
	ussd_start(&s);
	t = ussd(&s, "2");
	PT_CHECK(has(t, "Masukkan nomor pengaduan"));
	t = ussd(&s, "48210934");
	PT_CHECK(has(t, "Untuk keamanan, masukkan 4 angka terakhir NIK pelapor."));
	t = ussd(&s, "12");
	PT_CHECK(has(t, "Masukkan 4 angka."));
	t = ussd(&s, "9999");
	PT_CHECK_STR(t, "Maaf, data tidak cocok.");
	PT_CHECK_INT(OUT.end, 1);
	ussd_start(&s);
	ussd(&s, "2");
	ussd(&s, "48210934");
	t = ussd(&s, "0003");
	PT_CHECK(has(t, "Pengaduan 4821-0934: Sedang ditelaah"));
	PT_CHECK_INT(F.calls_verify, 2);
}

/* ---- info and flow ---- */

PT_TEST(test_info)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	const char *t = sms(&s, "INFO PKH");
	PT_CHECK(has(t, "PKH: bantuan tunai bersyarat"));
	PT_CHECK(has(t, "Ketik INFO untuk program lain"));
	PT_CHECK_STR(s.node, "");
	t = sms(&s, "info");
	PT_CHECK(has(t, "Info program bantuan:\n1 PKH (Program Keluarga Harapan)"));
	t = sms(&s, "info sembako");
	PT_CHECK(has(t, "BPNT: bantuan"));
	t = sms(&s, "Info: kis");
	PT_CHECK(has(t, "PBI: bantuan"));
	t = sms(&s, "INFO zzzz"); /* unknown program: the list */
	PT_CHECK(has(t, "Info program bantuan:\n1 PKH"));
	/* USSD: menu 3, program info with 0 Kembali back to the list */
	pt_session_init(&s);
	ussd_start(&s);
	t = ussd(&s, "3");
	PT_CHECK(has(t, "Info program bantuan:"));
	t = ussd(&s, "1");
	PT_CHECK(has(t, "PKH: bantuan tunai bersyarat"));
	PT_CHECK(has(t, "\n0 Kembali"));
	t = ussd(&s, "0");
	PT_CHECK(has(t, "Info program bantuan:"));
	t = ussd(&s, "0");
	PT_CHECK(has(t, "Layanan Pengaduan"));
}

PT_TEST(test_flow_puskesos)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	ussd_start(&s);
	const char *t = ussd(&s, "4");
	PT_CHECK(has(t, "Diterima > Terdaftar > Ditelaah > Ditangani/Dirujuk > Selesai"));
	ussd(&s, "1");
	ussd(&s, "3");
	t = ussd(&s, "1");
	PT_CHECK_STR(t, "Puskesos Kel. Menteng: Kantor Kelurahan Menteng, Jl. G. Obos");
	PT_CHECK_INT(OUT.end, 1);
	ussd_start(&s);
	ussd(&s, "4");
	ussd(&s, "1");
	ussd(&s, "3");
	t = ussd(&s, "3");
	PT_CHECK_STR(t, "Kel. Petuk Katimpun belum memiliki Puskesos. Silakan hubungi Dinas Sosial "
			"Kota Palangka Raya, Jl. Tjilik Riwut Km 5, Palangka Raya, telp 0536-3221234.");
}

/* ---- errors ---- */

PT_TEST(test_action_error)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	walk_to_description(&s);
	ussd(&s, "Bantuan belum cair");
	ussd(&s, "1");
	PT_CHECK_STR(s.node, "complaint.summary");
	int64_t before = s.updated_ms;
	int nvars = s.nvars;
	F.fail_action = "create_ticket";
	F.now += 1000;
	const char *t = ussd(&s, "1");
	PT_CHECK_INT(LAST_RC, PT_EDB);
	PT_CHECK_STR(t, "Maaf, terjadi gangguan. Silakan coba lagi nanti.");
	PT_CHECK_INT(OUT.end, 1);
	PT_CHECK_STR(s.node, "complaint.summary");
	PT_CHECK_INT(s.nvars, nvars);
	PT_CHECK(s.updated_ms == before);
	PT_CHECK(pt_session_get(&s, "ticket_number") == NULL);
	F.fail_action = NULL;
	t = ussd(&s, "1");
	PT_CHECK(has(t, "Nomor pengaduan: 4821-0934"));
}

/* ---- sessions ---- */

PT_TEST(test_session_json)
{
	struct pt_session s, b;
	pt_session_init(&s);
	memcpy(s.node, "complaint.nik", 14);
	memcpy(s.lang, "en", 3);
	s.retries = 2;
	s.page = 1;
	s.updated_ms = 1764000000123LL;
	PT_CHECK_INT(pt_session_set(&s, "description", "Dia bilang \"tunggu\" \\ lalu\npergi\t\x01"),
		     PT_OK);
	PT_CHECK_INT(pt_session_set(&s, "location", "Jl. Kenari \xE2\x80\x94 dekat masjid \xF0\x9F\x95\x8C"),
		     PT_OK);
	PT_CHECK_INT(pt_session_set(&s, "kelurahan", "Kalampangan"), PT_OK);
	PT_CHECK_INT(pt_session_set(&s, "kelurahan", "Sabaru"), PT_OK);
	PT_CHECK_INT(s.nvars, 3);
	char json[24000];
	int n = pt_session_to_json(&s, json, sizeof(json));
	PT_CHECK(n > 0 && (size_t)n == strlen(json));
	PT_CHECK(strstr(json, "\\\"tunggu\\\"") != NULL);
	PT_CHECK(strstr(json, "\\u0001") != NULL);
	PT_CHECK_INT(pt_session_from_json(&b, json, (size_t)n), PT_OK);
	PT_CHECK_STR(b.node, "complaint.nik");
	PT_CHECK_STR(b.lang, "en");
	PT_CHECK_INT(b.retries, 2);
	PT_CHECK_INT(b.page, 1);
	PT_CHECK(b.updated_ms == 1764000000123LL);
	PT_CHECK_STR(pt_session_get(&b, "description"), "Dia bilang \"tunggu\" \\ lalu\npergi\t\x01");
	PT_CHECK_STR(pt_session_get(&b, "location"),
		     "Jl. Kenari \xE2\x80\x94 dekat masjid \xF0\x9F\x95\x8C");
	PT_CHECK_STR(pt_session_get(&b, "kelurahan"), "Sabaru");
	pt_session_unset(&b, "description");
	PT_CHECK(pt_session_get(&b, "description") == NULL);
	PT_CHECK_INT(b.nvars, 2);
	/* caps */
	PT_CHECK_INT(pt_session_to_json(&s, json, 20), PT_ETOOBIG);
	char big[PT_VAR_VAL_MAX + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	PT_CHECK_INT(pt_session_set(&s, "x", big), PT_ETOOBIG);
	pt_session_init(&b);
	for (int i = 0; i < PT_VARS_MAX; i++) {
		char k[16];
		snprintf(k, sizeof(k), "v%d", i);
		PT_CHECK_INT(pt_session_set(&b, k, "1"), PT_OK);
	}
	PT_CHECK_INT(pt_session_set(&b, "one_more", "1"), PT_ETOOBIG);
	/* the parser copies runs of plain characters at once: the longest value
	 * that fits, with an escape at its very end, and one character more */
	{
		static char doc[2 * PT_VAR_VAL_MAX];
		char want[PT_VAR_VAL_MAX];
		memset(want, 'b', PT_VAR_VAL_MAX - 2);
		want[PT_VAR_VAL_MAX - 2] = '"';
		want[PT_VAR_VAL_MAX - 1] = '\0';
		snprintf(doc, sizeof(doc), "{\"node\":\"n\",\"vars\":{\"k\":\"%.*s\\\"\"}}",
			 PT_VAR_VAL_MAX - 2, want);
		PT_CHECK_INT(pt_session_from_json(&b, doc, strlen(doc)), PT_OK);
		PT_CHECK_STR(pt_session_get(&b, "k"), want);
		snprintf(doc, sizeof(doc), "{\"node\":\"n\",\"vars\":{\"k\":\"b%.*s\\\"\"}}",
			 PT_VAR_VAL_MAX - 2, want);
		PT_CHECK_INT(pt_session_from_json(&b, doc, strlen(doc)), PT_EINVAL);
		/* plain characters only: 511 fit, 512 do not */
		memset(want, 'c', PT_VAR_VAL_MAX - 1);
		snprintf(doc, sizeof(doc), "{\"node\":\"n\",\"vars\":{\"k\":\"%s\"}}", want);
		PT_CHECK_INT(pt_session_from_json(&b, doc, strlen(doc)), PT_OK);
		PT_CHECK_INT((int)strlen(pt_session_get(&b, "k")), PT_VAR_VAL_MAX - 1);
		snprintf(doc, sizeof(doc), "{\"node\":\"n\",\"vars\":{\"k\":\"c%s\"}}", want);
		PT_CHECK_INT(pt_session_from_json(&b, doc, strlen(doc)), PT_EINVAL);
	}
	/* garbage */
	const char *bad[] = {"", "[]", "{\"node\":5}", "{\"vars\":{\"a\":1}}", "{\"node\":\"x\"",
			     "{\"lang\":\"english\"}"};
	for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
		PT_CHECK_INT(pt_session_from_json(&b, bad[i], strlen(bad[i])), PT_EINVAL);
		PT_CHECK_STR(b.node, "");
		PT_CHECK_INT(b.nvars, 0);
	}
}

PT_TEST(test_chat_channel)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	/* chat uses the SMS variants: keywords, free-text kelurahan, info as an end */
	const char *t = step_first(&s, PT_CHAN_CHAT, "info pkh", 0);
	PT_CHECK(has(t, "PKH: bantuan"));
	PT_CHECK(has(t, "Ketik INFO"));
	PT_CHECK_INT(OUT.end, 1);
	step_first(&s, PT_CHAN_CHAT, "aduan", 0);
	step_first(&s, PT_CHAN_CHAT, "2", 0);
	step_first(&s, PT_CHAN_CHAT, "1", 0);
	t = step_first(&s, PT_CHAN_CHAT, "di pasar", 0);
	PT_CHECK(has(t, "Ketik nama kelurahan"));
}

/* A chat keyboard button sends the whole option line. */
PT_TEST(test_chat_buttons)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	const char *t = step_first(&s, PT_CHAN_CHAT, "menu", 0);
	PT_CHECK(has(t, "1 Sampaikan pengaduan"));
	t = step_first(&s, PT_CHAN_CHAT, "1 Sampaikan pengaduan", 0);
	PT_CHECK(has(t, "Pengaduan untuk siapa?"));
	/* a number with the label of another option is not a choice */
	t = step_first(&s, PT_CHAN_CHAT, "1 Orang lain yang butuh bantuan", 0);
	PT_CHECK(has(t, "pilihan tidak dikenali"));
	t = step_first(&s, PT_CHAN_CHAT, "2 orang lain yang butuh bantuan", 0);
	PT_CHECK(has(t, "Siapa yang dibantu?"));
}

PT_TEST(test_stale_node)
{
	reset_fake();
	struct pt_session s;
	pt_session_init(&s);
	memcpy(s.node, "gone.node", 10);
	s.updated_ms = F.now;
	const char *t = sms(&s, "1");
	PT_CHECK(has(t, "Layanan Pengaduan"));
	PT_CHECK_STR(s.node, "main.menu");
}

int main(void)
{
	pt_log_set_level(PT_LOG_ERROR + 1);
	PT_RUN(test_load_shipped);
	if (!D)
		return PT_DONE();
	PT_RUN(test_load_broken);
	PT_RUN(test_ussd_complaint_self);
	PT_RUN(test_ussd_report_other);
	PT_RUN(test_no_consent_and_cancel_summary);
	PT_RUN(test_sms_aduan_with_text);
	PT_RUN(test_sms_kelurahan_list_and_free_text);
	PT_RUN(test_invalid_and_retries);
	PT_RUN(test_nik_validation);
	PT_RUN(test_ussd_paging);
	PT_RUN(test_ussd_resume);
	PT_RUN(test_sms_expiry);
	PT_RUN(test_language_switch);
	PT_RUN(test_batal_and_menu);
	PT_RUN(test_status);
	PT_RUN(test_info);
	PT_RUN(test_flow_puskesos);
	PT_RUN(test_action_error);
	PT_RUN(test_session_json);
	PT_RUN(test_chat_channel);
	PT_RUN(test_chat_buttons);
	PT_RUN(test_stale_node);
	pt_dialogs_free(D);
	printf("screens checked: %d\n", screens_checked);
	return PT_DONE();
}

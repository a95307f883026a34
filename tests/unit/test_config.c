/* test_config.c - configuration loading: the demo, defaults, errors naming paths. */
#include <stdlib.h>
#include <string.h>

#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/http.h"
#include "test.h"

static const char *minimal =
	"{\"office\":{\"name\":\"Dinas Sosial X\",\"short_code\":\"1708\"},"
	"\"programs\":[{\"code\":\"PKH\",\"name\":\"PKH\",\"info\":\"i\"}],"
	"\"areas\":[{\"kecamatan\":\"A\",\"kelurahan\":[{\"name\":\"B\"}]}],"
	"\"channels\":[]}";

/* Parse src after replacing the first occurrence of from with to; expect an
 * error containing want. */
static void expect_error(const char *from, const char *to, const char *want)
{
	char buf[4096], err[512] = "";
	const char *p = strstr(minimal, from);
	PT_CHECK(p != NULL);
	if (!p)
		return;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - minimal), minimal, to, p + strlen(from));
	struct pt_config *c = pt_config_parse(buf, strlen(buf), "t.json", err, sizeof(err));
	PT_CHECK(c == NULL);
	if (!strstr(err, want))
		fprintf(stderr, "  error was: %s (wanted %s)\n", err, want);
	PT_CHECK(strstr(err, want) != NULL);
	pt_config_free(c);
}

PT_TEST(demo_config)
{
	char err[512] = "";
	struct pt_config *c = pt_config_demo(err, sizeof(err));
	if (!c)
		fprintf(stderr, "  demo error: %s\n", err);
	PT_CHECK(c != NULL);
	if (!c)
		return;
	PT_CHECK_STR(c->office.name, "Dinas Sosial Kota Palangka Raya");
	PT_CHECK_INT(c->nareas, 5);
	int nkel = 0, npusk = 0;
	for (int i = 0; i < c->nareas; i++)
		for (int j = 0; j < c->areas[i].nkel; j++) {
			nkel++;
			npusk += c->areas[i].kel[j].puskesos[0] != '\0';
		}
	PT_CHECK_INT(nkel, 30);
	PT_CHECK_INT(npusk, 22);
	PT_CHECK(pt_config_channel(c, "at-ussd") != NULL);
	PT_CHECK(pt_config_channel(c, "at-sms") != NULL);
	PT_CHECK(pt_config_channel(c, "kannel") != NULL);
	PT_CHECK(pt_config_channel(c, "nope") == NULL);
	PT_CHECK_INT(c->office.utc_offset_min, 420);
	PT_CHECK(pt_config_program(c, "pkh") != NULL);
	const struct pt_kecamatan *k = NULL;
	const struct pt_kelurahan *kel = pt_config_kelurahan(c, NULL, "Petuk Katimpun", &k);
	PT_CHECK(kel != NULL && kel->puskesos[0] == '\0');
	PT_CHECK(k != NULL && strcmp(k->name, "Jekan Raya") == 0);
	const struct pt_channel *u = pt_config_channel(c, "at-ussd");
	PT_CHECK(pt_config_addr_allowed(u, "127.0.0.1"));
	PT_CHECK(pt_config_addr_allowed(u, "::1"));
	PT_CHECK(pt_config_addr_allowed(u, "::ffff:127.0.0.1"));
	PT_CHECK(!pt_config_addr_allowed(u, "10.1.2.3"));
	char d[16];
	pt_config_local_date(c, 1795017600000LL /* 2026-11-18T16:00Z = 23:00 WIB */, d, sizeof(d));
	PT_CHECK_STR(d, "18/11/2026");
	pt_config_local_date(c, 1795024800000LL /* 18:00Z = 01:00 WIB next day */, d, sizeof(d));
	PT_CHECK_STR(d, "19/11/2026");
	pt_config_free(c);
}

PT_TEST(minimal_defaults)
{
	char err[512] = "";
	struct pt_config *c = pt_config_parse(minimal, strlen(minimal), "t.json", err, sizeof(err));
	PT_CHECK(c != NULL);
	if (!c)
		return;
	PT_CHECK_STR(c->listen, "127.0.0.1:8080");
	PT_CHECK_STR(c->db, "var/pintu.db");
	PT_CHECK_INT(c->ussd_resume_ms, 30 * 60000);
	PT_CHECK_INT(c->max_body, 65536);
	PT_CHECK_STR(c->office.short_name, "Dinas Sosial X");
	pt_config_free(c);
}

PT_TEST(errors_name_paths)
{
	expect_error("\"short_code\":\"1708\"", "\"short_code\":1708", "office.short_code: must be a string");
	expect_error("\"short_code\":\"1708\"", "\"short_code\":\"1708\",\"colour\":1",
		     "office: unknown key \"colour\"");
	expect_error("{\"name\":\"B\"}", "{\"name\":\"B\",\"kode_pos\":\"x\"}",
		     "areas[0].kelurahan[0]: unknown key \"kode_pos\"");
	expect_error("\"channels\":[]", "\"channels\":[{\"name\":\"x\",\"type\":\"foo\"}]",
		     "channels[0].type: unknown channel type \"foo\"");
	expect_error("\"channels\":[]",
		     "\"channels\":[{\"name\":\"u\",\"type\":\"africastalking-ussd\",\"sms_channel\":\"zz\"}]",
		     "channels[0].sms_channel: names no configured channel");
	expect_error("\"channels\":[]",
		     "\"channels\":[{\"name\":\"u\",\"type\":\"africastalking-ussd\",\"allow_from\":[\"300.1.1.1\"]}]",
		     "channels[0].allow_from[0]");
	expect_error("\"programs\":[", "\"limits\":{\"max_body_bytes\":\"big\"},\"programs\":[",
		     "limits.max_body_bytes: must be a number");
	expect_error("{\"office\"", "{\"offices\":1,\"office\"", "unknown key \"offices\"");
	expect_error("\"info\":\"i\"", "\"info\":\"i\"}]", "not valid JSON");
	expect_error("\"channels\":[]", "\"channels\":[{\"name\":\"U!\",\"type\":\"kannel\"}]",
		     "channels[0].name: use lower-case");
}

/* minimal with a "limits" object; NULL (and err) when it does not parse */
static struct pt_config *with_limits(const char *limits, char *err, size_t errlen)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "{\"limits\":%s,%s", limits, minimal + 1);
	return pt_config_parse(buf, strlen(buf), "t.json", err, errlen);
}

PT_TEST(event_loop)
{
	static const struct {
		const char *limits;
		int epoll;
	} cases[] = {
		{ "{}", 0 },                                          /* auto, 1024 connections */
		{ "{\"max_connections\":4096}", 0 },                  /* auto at the limit */
		{ "{\"max_connections\":4097}", 1 },                  /* auto past it */
		{ "{\"event_loop\":\"auto\",\"max_connections\":20000}", 1 },
		{ "{\"event_loop\":\"poll\",\"max_connections\":20000}", 0 },
		{ "{\"event_loop\":\"epoll\"}", 1 },
	};
	char err[512];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		struct pt_config *c = with_limits(cases[i].limits, err, sizeof(err));
		if (!c)
			fprintf(stderr, "  %s: %s\n", cases[i].limits, err);
		PT_CHECK(c != NULL);
		if (!c)
			continue;
		PT_CHECK_INT(pt_http_use_epoll(c), cases[i].epoll);
		pt_config_free(c);
	}
	struct pt_config *c = with_limits("{\"event_loop\":\"select\"}", err, sizeof(err));
	PT_CHECK(c == NULL);
	PT_CHECK(strstr(err, "limits.event_loop: must be \"auto\", \"poll\" or \"epoll\"") != NULL);
	pt_config_free(c);
	c = with_limits("{\"event_loop\":1}", err, sizeof(err));
	PT_CHECK(c == NULL);
	PT_CHECK(strstr(err, "limits.event_loop: must be a string") != NULL);
	pt_config_free(c);
}

PT_TEST(default_rates)
{
	char buf[2048], err[512] = "";
	const char *p = strstr(minimal, "\"channels\":[]");
	snprintf(buf, sizeof(buf), "%.*s\"channels\":[{\"name\":\"tg\",\"type\":\"telegram\","
		 "\"bot_token\":\"1:a\",\"secret_token\":\"s\"},{\"name\":\"tg2\",\"type\":"
		 "\"telegram\",\"bot_token\":\"1:a\",\"secret_token\":\"s\",\"rate_per_s\":5},"
		 "{\"name\":\"k\",\"type\":\"kannel\"}]}",
		 (int)(p - minimal), minimal);
	struct pt_config *c = pt_config_parse(buf, strlen(buf), "t.json", err, sizeof(err));
	if (!c)
		fprintf(stderr, "  error: %s\n", err);
	PT_CHECK(c != NULL);
	if (!c)
		return;
	PT_CHECK(pt_config_channel(c, "tg")->rate_per_s == 30);  /* Telegram's documented limit */
	PT_CHECK(pt_config_channel(c, "tg2")->rate_per_s == 5);  /* configured */
	PT_CHECK(pt_config_channel(c, "k")->rate_per_s == 0);    /* Kannel queues itself */
	pt_config_free(c);
}

int main(void)
{
	PT_RUN(demo_config);
	PT_RUN(minimal_defaults);
	PT_RUN(errors_name_paths);
	PT_RUN(event_loop);
	PT_RUN(default_rates);
	return PT_DONE();
}

/*
 * cmd_subscribers.c - `pintu subscribers`: broadcast subscriptions in bulk.
 *
 *   pintu subscribers import FILE.csv [--source NAME] [--channel NAME]
 *   pintu subscribers export [--program P] [--kelurahan K]
 *   pintu subscribers count [--program P] [--kelurahan K]
 *   (each with --config FILE, --db FILE, --help)
 *
 * import reads a CSV with a header (phone,programs,kelurahan,lang,channel; only
 * phone is required) in one transaction and prints a report: imported N,
 * updated N, rejected N with each rejected row's line number and reason.
 * Numbers that said STOP are never resubscribed by an import. export writes
 * the active subscribers as CSV with FULL numbers to stdout (for staff; a
 * warning goes to stderr, nothing to the log). An audit row (actor "cli")
 * records each import. Exit 0 done (rows may be rejected), 1 failed, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/subscriptions.h"

static const char usage[] =
	"usage: pintu subscribers import FILE.csv [--source NAME] [--channel NAME]\n"
	"       pintu subscribers export [--program P] [--kelurahan K]\n"
	"       pintu subscribers count [--program P] [--kelurahan K]\n"
	"\n"
	"Residents subscribed to Dinas Sosial broadcasts (see docs/subscriptions.md).\n"
	"import   FILE.csv with a header line; columns (any order, only phone required):\n"
	"           phone      0812..., 62812... or +62812...\n"
	"           programs   codes separated by spaces, ';' or '+' (quote commas);\n"
	"                      empty or \"all\" = all programs\n"
	"           kelurahan  a kelurahan of the configuration (empty = unknown)\n"
	"           lang       id (default) or en\n"
	"           channel    the channel to send on (default --channel, else the\n"
	"                      first SMS channel)\n"
	"         Existing subscribers are updated; numbers that said STOP are\n"
	"         rejected, never resubscribed. Prints a report of rejected rows.\n"
	"         --source NAME  recorded as the subscription's source (default import)\n"
	"export   active subscribers as CSV (the import's columns) on stdout, with\n"
	"         FULL phone numbers: handle the file as personal data.\n"
	"count    the number of active subscribers (with the filters).\n"
	"  --config FILE  take the database path and areas from this configuration\n"
	"  --db FILE      the database (default: the configuration's, var/pintu.db)\n";

struct opts {
	const char *config, *db, *source, *channel, *program, *kelurahan;
	const char *args[2];
	int nargs, help;
};

static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o->help = 1;
			return 0;
		}
		if (!strcmp(a, "--config"))
			slot = &o->config;
		else if (!strcmp(a, "--db"))
			slot = &o->db;
		else if (!strcmp(a, "--source"))
			slot = &o->source;
		else if (!strcmp(a, "--channel"))
			slot = &o->channel;
		else if (!strcmp(a, "--program"))
			slot = &o->program;
		else if (!strcmp(a, "--kelurahan"))
			slot = &o->kelurahan;
		if (slot) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pintu subscribers: %s needs a value\n", a);
				return -1;
			}
			*slot = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1]) {
			fprintf(stderr, "pintu subscribers: unknown option %s\n", a);
			return -1;
		}
		if (o->nargs >= 2) {
			fprintf(stderr, "pintu subscribers: unexpected argument \"%s\"\n", a);
			return -1;
		}
		o->args[o->nargs++] = a;
	}
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "pintu subscribers: cannot open %s\n", path);
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			if (cap > PT_SUBS_CSV_MAX) {
				fprintf(stderr, "pintu subscribers: %s is larger than %u bytes\n", path,
					PT_SUBS_CSV_MAX);
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "pintu subscribers: cannot read %s\n", path);
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

struct import_job {
	const struct pt_config *cfg;
	const char *csv, *source, *channel;
	size_t len;
	struct pt_subs_report rep;
	int rc;
};

static int import_run(sqlite3 *db, void *arg)
{
	struct import_job *j = arg;
	j->rc = pt_subs_import_csv(db, j->cfg, j->csv, j->len, j->source, j->channel, pt_now_ms(),
				   &j->rep);
	if (j->rc < 0)
		return j->rc == PT_EBADREQ || j->rc == PT_ETOOBIG ? PT_OK : j->rc;
	struct pt_staff who;
	memset(&who, 0, sizeof(who));
	pt_strlcpy(who.username, "cli", sizeof(who.username));
	pt_strlcpy(who.name, "command line", sizeof(who.name));
	who.role = PT_ROLE_ADMIN;
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"imported\":%d,\"updated\":%d,\"rejected\":%d}",
		 j->rep.imported, j->rep.updated, j->rep.rejected);
	return pt_audit(db, &who, "subscribers.import", "subscribers", detail);
}

static const char *first_sms_channel(const struct pt_config *cfg)
{
	for (int i = 0; i < cfg->nchannels; i++)
		if (cfg->channels[i].adapter && cfg->channels[i].adapter->kind == PT_CHAN_SMS)
			return cfg->channels[i].name;
	return "";
}

static int cmd_import(const struct opts *o, const struct pt_config *cfg, struct pt_store *st)
{
	if (o->channel && !pt_config_channel(cfg, o->channel)) {
		fprintf(stderr, "pintu subscribers: --channel %s: no such channel in %s\n", o->channel,
			cfg->source);
		return 2;
	}
	struct import_job *j = calloc(1, sizeof(*j));
	if (!j)
		return 1;
	j->csv = read_file(o->args[1], &j->len);
	if (!j->csv) {
		free(j);
		return 1;
	}
	j->cfg = cfg;
	j->source = o->source && o->source[0] ? o->source : "import";
	j->channel = o->channel ? o->channel : first_sms_channel(cfg);
	int rc = pt_store_exec(st, import_run, j);
	int exit_code = 0;
	if (rc < 0) {
		fprintf(stderr, "pintu subscribers: import failed: %s (nothing was imported)\n",
			pt_strerror(rc));
		exit_code = 1;
	} else if (j->rc == PT_EBADREQ || j->rc == PT_ETOOBIG) {
		fprintf(stderr, "pintu subscribers: %s: %s (nothing was imported)\n", o->args[1],
			j->rep.error);
		exit_code = 1;
	} else {
		printf("imported %d\nupdated %d\nrejected %d\n", j->rep.imported, j->rep.updated,
		       j->rep.rejected);
		for (int i = 0; i < j->rep.nrejects; i++)
			printf("  line %d: %s\n", j->rep.rejects[i].line, j->rep.rejects[i].reason);
		if (j->rep.rejected > j->rep.nrejects)
			printf("  ... and %d more rejected rows\n", j->rep.rejected - j->rep.nrejects);
	}
	free((void *)j->csv);
	free(j);
	return exit_code;
}

struct read_job {
	const struct opts *o;
	int64_t count;
	int export_csv;
};

static int read_run(sqlite3 *db, void *arg)
{
	struct read_job *j = arg;
	if (j->export_csv)
		return pt_subs_export_csv(db, j->o->program, j->o->kelurahan, stdout);
	struct pt_segment seg = { .program = j->o->program, .kelurahan = j->o->kelurahan };
	return pt_subs_count(db, &seg, &j->count);
}

/* `pintu subscribers ...` (see the top of this file). */
int pt_cmd_subscribers(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (o.help) {
		fputs(usage, stdout);
		return 0;
	}
	const char *sub = o.nargs > 0 ? o.args[0] : NULL;
	int import = sub && !strcmp(sub, "import");
	int export_csv = sub && !strcmp(sub, "export");
	int count = sub && !strcmp(sub, "count");
	if (!import && !export_csv && !count) {
		if (sub)
			fprintf(stderr, "pintu subscribers: unknown subcommand \"%s\"\n", sub);
		fputs(usage, stderr);
		return 2;
	}
	if (import && o.nargs != 2) {
		fprintf(stderr, "pintu subscribers import: give the CSV file (or - for stdin)\n");
		return 2;
	}
	if (!import && o.nargs != 1) {
		fprintf(stderr, "pintu subscribers %s: unexpected argument \"%s\"\n", sub, o.args[1]);
		return 2;
	}
	if (!import && (o.source || o.channel)) {
		fprintf(stderr, "pintu subscribers %s: --source/--channel are for import\n", sub);
		return 2;
	}
	if (import && (o.program || o.kelurahan)) {
		fprintf(stderr, "pintu subscribers import: --program/--kelurahan are for export/count\n");
		return 2;
	}
	struct pt_config *cfg = pt_cli_config(o.config, o.db);
	if (!cfg)
		return 1;
	struct pt_store *st = pt_cli_store(cfg);
	if (!st) {
		pt_config_free(cfg);
		return 1;
	}
	int rc;
	if (import) {
		rc = cmd_import(&o, cfg, st);
	} else {
		struct read_job j = { .o = &o, .export_csv = export_csv };
		if (export_csv && pt_config_program(cfg, o.program ? o.program : "") == NULL &&
		    o.program) {
			fprintf(stderr, "pintu subscribers export: --program %s: unknown program\n",
				o.program);
			rc = 2;
		} else {
			if (export_csv)
				fprintf(stderr, "pintu subscribers: WARNING: the export holds FULL phone "
						"numbers (personal data); store and share it with care\n");
			int e = pt_store_exec(st, read_run, &j);
			if (e < 0) {
				fprintf(stderr, "pintu subscribers %s: %s\n", sub, pt_strerror(e));
				rc = 1;
			} else {
				if (count)
					printf("%lld\n", (long long)j.count);
				rc = fflush(stdout) == 0 ? 0 : 1;
			}
		}
	}
	pt_store_close(st);
	pt_config_free(cfg);
	return rc;
}

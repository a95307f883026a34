/*
 * bare.c - the benchmark's baseline: a bare libmicrohttpd server that answers
 * every POST with a fixed USSD menu screen, without parsing, storage or dialogs.
 *
 * It uses the same server shape as Pintu's HTTP layer (internal polling thread
 * pool of 2 threads, epoll), reads each request body completely (discarding it,
 * capped at BARE_BODY_MAX bytes by counting) and answers 200 text/plain. The
 * ratio Pintu/bare in tests/bench/run.sh shows what the gateway's work costs on
 * top of the HTTP server itself.
 *
 * Usage: bare PORT   (binds 127.0.0.1:PORT, prints "listening on ..." on stdout,
 *                     exits cleanly on SIGTERM/SIGINT)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#define BARE_BODY_MAX (64 * 1024)
#define BARE_THREADS 2

static const char bare_screen[] =
	"CON Layanan Pengaduan Dinas Sosial Kota Palangka Raya\n"
	"1 Sampaikan pengaduan\n"
	"2 Cek status pengaduan\n"
	"3 Info program bantuan\n"
	"4 Alur layanan & Puskesos\n"
	"9 English\n"
	"0 Keluar";

static volatile sig_atomic_t bare_stop;

static void bare_on_signal(int sig)
{
	(void)sig;
	bare_stop = 1;
}

/* Per-request state: the number of body bytes read so far. */
struct bare_req {
	size_t body_len;
};

static enum MHD_Result bare_answer(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct bare_req *rq = *con_cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;

	(void)cls;
	(void)url;
	(void)version;
	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		(void)upload_data;
		rq->body_len += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") != 0)
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	else if (rq->body_len > BARE_BODY_MAX)
		status = MHD_HTTP_CONTENT_TOO_LARGE;
	resp = MHD_create_response_from_buffer(sizeof(bare_screen) - 1, (void *)bare_screen,
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void bare_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	struct sockaddr_in addr;
	struct sigaction sa;
	long port;
	char *end = NULL;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	errno = 0;
	port = strtol(argv[1], &end, 10);
	if (errno != 0 || end == argv[1] || *end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "bare: bad port %s\n", argv[1]);
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bare_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
			     (uint16_t)port, NULL, NULL, bare_answer, NULL,
			     MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)BARE_THREADS,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)15,
			     MHD_OPTION_NOTIFY_COMPLETED, bare_completed, NULL,
			     MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bare: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	printf("listening on http://127.0.0.1:%ld\n", port);
	fflush(stdout);
	while (!bare_stop)
		pause();
	MHD_stop_daemon(d);
	return 0;
}

/*
 * ternlab-wanem: a user-space WAN emulator for the lab (this kernel has no netem).
 * Forwards every frame between two interfaces through the impairment engine
 * (wanem_engine.h), changed at run time over a unix control socket (wanem_ctl.h).
 * One thread: poll on both packet sockets, the control socket and a signalfd, with the
 * timeout set to the engine's next release time.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "wanem_command.h"
#include "wanem_ctl.h"
#include "wanem_engine.h"
#include "wanem_frame.h"
#include "wanem_io.h"

#define WANEM_CAPACITY_DEFAULT 16384
/* Receive batches per port per loop turn, so one busy side cannot starve the other. */
#define WANEM_RX_ROUNDS 4

struct wanem_app {
	struct wanem *engine;
	struct wanem_pool pool;
	struct wanem_port port[WANEM_DIR_COUNT]; /* [A_TO_B] is if-a: frames from it go A->B */
	struct wanem_ctl ctl;
	int sig_fd;
	bool stop;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ternlab-wanem --if-a IF --if-b IF --control PATH [--seed N] [--capacity N]\n"
	    "                     [--log-level LEVEL] [COMMAND WORDS...]\n"
	    "       ternlab-wanem --control PATH --send 'WORDS'\n"
	    "\n"
	    "Forwards frames between IF and IF, applying the impairments of COMMAND WORDS\n"
	    "(e.g. delay=40ms jitter=5ms loss=2%% burst-loss=p:1%%,r:30%% rate=20mbit queue=1000,\n"
	    "outage, drop-syn-data, clear, show; after a-to-b: or b-to-a: words change that direction only);\n"
	    "see docs/ternlab.md. --send sends WORDS to a running\n"
	    "emulator and prints its answer.\n");
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A whole decimal number in [min, max]; -EINVAL otherwise. */
static int
parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Appends to a reply buffer, cutting at its end. */
static void jprintf(char *buf, size_t size, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
jprintf(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < size - *off ? (size_t)n : size - *off - 1;
}

/* The counters of one direction as JSON members, without braces. */
static void
show_counters(char *buf, size_t size, size_t *off, const struct wanem_counters *c)
{
	jprintf(buf, size, off,
	    "\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_packets\":%" PRIu64
	    ",\"tx_bytes\":%" PRIu64 ",\"queue_packets\":%u,\"queue_bytes\":%" PRIu64
	    ",\"drop_bytes\":%" PRIu64 ",\"drops\":{",
	    c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes, c->queue_packets,
	    c->queue_bytes, c->drop_bytes);
	for (int v = WANEM_QUEUED + 1; v < WANEM_VERDICT_COUNT; v++)
		jprintf(buf, size, off, "%s\"%s\":%" PRIu64, v == WANEM_QUEUED + 1 ? "" : ",",
		    wanem_verdict_name((enum wanem_verdict)v), c->drops[v]);
	jprintf(buf, size, off, "}");
}

/* One direction's parameters as a JSON object. */
static void
show_params(char *buf, size_t size, size_t *off, const struct wanem_params *p)
{
	jprintf(buf, size, off,
	    "{\"delay_ns\":%" PRIu64 ",\"jitter_ns\":%" PRIu64
	    ",\"jitter_dist\":\"%s\",\"loss_ppm\":%u,\"burst_p_ppm\":%u,\"burst_r_ppm\":%u,"
	    "\"burst_h_ppm\":%u,\"rate_bps\":%" PRIu64 ",\"rate_burst_bytes\":%u,"
	    "\"queue_packets\":%u,\"queue_bytes\":%" PRIu64 ",\"outage\":%s,\"drop_syn_data\":%s}",
	    p->delay_ns, p->jitter_ns, p->jitter_dist == WANEM_JITTER_NORMAL ? "normal" : "uniform",
	    p->loss_ppm, p->burst_p_ppm, p->burst_r_ppm, p->burst_h_ppm, p->rate_bps,
	    p->rate_burst_bytes, p->queue_packets, p->queue_bytes, p->outage ? "true" : "false",
	    p->drop_syn_data ? "true" : "false");
}

/*
 * The JSON answer of `show`: the link's words, "params" (those of both directions when
 * they agree, else null), then per direction its own words, parameters and counters,
 * and the port counters.
 */
static void
show_format(const struct wanem_app *app, char *buf, size_t size)
{
	static const char *const dir_names[WANEM_DIR_COUNT] = {"a_to_b", "b_to_a"};
	struct wanem_params p[WANEM_DIR_COUNT];
	char text[WANEM_LINK_TEXT_MAX];
	size_t off = 0;

	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		wanem_get_dir(app->engine, (enum wanem_dir)d, &p[d]);
	wanem_link_format(p, text, sizeof(text));
	jprintf(buf, size, &off, "{\"command\":\"%s\",\"params\":", text);
	if (wanem_params_equal(&p[0], &p[1]))
		show_params(buf, size, &off, &p[0]);
	else
		jprintf(buf, size, &off, "null");
	jprintf(buf, size, &off, ",\"capacity\":%u", wanem_capacity(app->engine));
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		struct wanem_counters c;

		wanem_params_format(&p[d], text, sizeof(text));
		jprintf(buf, size, &off, ",\"%s\":{\"command\":\"%s\",\"params\":", dir_names[d],
		    text);
		show_params(buf, size, &off, &p[d]);
		jprintf(buf, size, &off, ",");
		wanem_counters_get(app->engine, (enum wanem_dir)d, &c);
		show_counters(buf, size, &off, &c);
		jprintf(buf, size, &off, "}");
	}
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		const struct wanem_port *port = &app->port[d];

		jprintf(buf, size, &off,
		    ",\"if_%c\":{\"name\":\"%s\",\"rx_truncated\":%" PRIu64
		    ",\"tx_dropped\":%" PRIu64 ",\"rx_errors\":%" PRIu64 "}",
		    d == 0 ? 'a' : 'b', port->name, port->rx_truncated, port->tx_dropped,
		    port->rx_errors);
	}
	jprintf(buf, size, &off, "}");
}

/* Parses and applies one command line; writes "ok", "error: ..." or the show JSON. */
static int
app_command(struct wanem_app *app, const char *line, char *reply, size_t size)
{
	struct wanem_params cur[WANEM_DIR_COUNT];
	struct wanem_command cmd;
	char err[WANEM_COMMAND_ERROR_MAX], text[WANEM_LINK_TEXT_MAX];
	int rc;

	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		wanem_get_dir(app->engine, (enum wanem_dir)d, &cur[d]);
	rc = wanem_command_parse(line, strlen(line), cur, &cmd, err, sizeof(err));
	if (rc < 0) {
		snprintf(reply, size, "error: %s", err);
		return rc;
	}
	if (cmd.kind == WANEM_COMMAND_SHOW) {
		show_format(app, reply, size);
		return 0;
	}
	rc = wanem_set_dirs(app->engine, cmd.params);
	if (rc == -ERANGE) {
		uint32_t q = cmd.params[0].queue_packets > cmd.params[1].queue_packets ?
		    cmd.params[0].queue_packets :
		    cmd.params[1].queue_packets;

		snprintf(reply, size, "error: queue=%u: more than the capacity %u (see --capacity)",
		    q, wanem_capacity(app->engine));
		return rc;
	}
	if (rc < 0) {
		snprintf(reply, size, "error: parameters out of range");
		return rc;
	}
	wanem_link_format(cmd.params, text, sizeof(text));
	log_info("impairments now: %s", text);
	snprintf(reply, size, "ok");
	return 0;
}

static void
app_on_control(const char *line, char *reply, size_t size, void *arg)
{
	app_command(arg, line, reply, size);
}

/* Sends every packet that is due in direction d. */
static void
app_release(struct wanem_app *app, enum wanem_dir d, uint64_t now)
{
	uint32_t refs[WANEM_IO_BATCH], lens[WANEM_IO_BATCH];
	struct wanem_port *out = &app->port[d == WANEM_DIR_A_TO_B ? 1 : 0];
	size_t n;

	do {
		n = wanem_dequeue_ready(app->engine, d, now, refs, lens, WANEM_IO_BATCH);
		if (n > 0)
			wanem_port_send(out, &app->pool, refs, lens, n);
	} while (n == WANEM_IO_BATCH);
}

/* Receives what is waiting on the port of direction d and offers it to the engine. */
static void
app_receive(struct wanem_app *app, enum wanem_dir d)
{
	uint32_t refs[WANEM_IO_BATCH], lens[WANEM_IO_BATCH];

	for (int round = 0; round < WANEM_RX_ROUNDS; round++) {
		size_t n = wanem_port_recv(&app->port[d], &app->pool, refs, lens, WANEM_IO_BATCH);
		uint64_t now = now_ns();

		for (size_t i = 0; i < n; i++) {
			uint32_t flags =
			    wanem_frame_is_tcp_syn_data(wanem_pool_frame(&app->pool, refs[i]),
			        lens[i]) ?
			    WANEM_FRAME_TCP_SYN_DATA :
			    0;

			if (wanem_enqueue_flags(app->engine, d, refs[i], lens[i], flags, now) !=
			    WANEM_QUEUED)
				wanem_pool_put(&app->pool, refs[i]);
		}
		/* Frames with no delay go out in the same turn, in one batch. */
		app_release(app, d, now);
		if (n < WANEM_IO_BATCH)
			break;
	}
}

static int
app_run(struct wanem_app *app)
{
	struct pollfd pfd[3 + 1 + WANEM_CTL_CLIENTS];

	while (!app->stop) {
		uint64_t now = now_ns(), deadline = UINT64_MAX;
		struct timespec ts, *tsp = NULL;
		size_t nctl;
		int rc;

		for (int d = 0; d < WANEM_DIR_COUNT; d++) {
			uint64_t t;

			app_release(app, (enum wanem_dir)d, now);
			t = wanem_next_deadline(app->engine, (enum wanem_dir)d);
			deadline = t < deadline ? t : deadline;
		}
		if (deadline != UINT64_MAX) {
			uint64_t wait = deadline > now ? deadline - now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			tsp = &ts;
		}
		pfd[0] = (struct pollfd){.fd = app->port[0].fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = app->port[1].fd, .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = app->sig_fd, .events = POLLIN};
		nctl = wanem_ctl_pollfds(&app->ctl, &pfd[3]);
		rc = ppoll(pfd, 3 + nctl, tsp, NULL);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(-errno, "poll failed");
		}
		if (pfd[0].revents & POLLIN)
			app_receive(app, WANEM_DIR_A_TO_B);
		if (pfd[1].revents & POLLIN)
			app_receive(app, WANEM_DIR_B_TO_A);
		if ((pfd[0].revents | pfd[1].revents) & (POLLERR | POLLHUP | POLLNVAL))
			return log_error_errno(-ENETDOWN, "an interface went away");
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(app->sig_fd, &si, sizeof(si)) == sizeof(si))
				log_info("signal %u: stopping", si.ssi_signo);
			app->stop = true;
		}
		wanem_ctl_serve(&app->ctl, &pfd[3], nctl, app_on_control, app);
	}
	return 0;
}

/* Client mode: --control PATH --send WORDS. Exit status 0 on "ok"/show, 1 on error. */
static int
client_main(const char *path, const char *words)
{
	char reply[WANEM_CTL_REPLY_MAX];
	int rc = wanem_ctl_request(path, words, reply, sizeof(reply), 5000);

	if (rc < 0) {
		fprintf(stderr, "ternlab-wanem: cannot reach the emulator at %s: %s%s\n", path,
		    strerror(-rc),
		    rc == -ENOENT || rc == -ECONNREFUSED ? " (is ternlab-wanem running?)" : "");
		return 2;
	}
	if (strncmp(reply, "error:", 6) == 0) {
		fprintf(stderr, "ternlab-wanem: %s\n", reply);
		return 1;
	}
	printf("%s\n", reply);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"if-a", required_argument, NULL, 'a'},
	    {"if-b", required_argument, NULL, 'b'},
	    {"control", required_argument, NULL, 'c'},
	    {"seed", required_argument, NULL, 's'},
	    {"capacity", required_argument, NULL, 'n'},
	    {"send", required_argument, NULL, 'S'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *if_a = NULL, *if_b = NULL, *control = NULL, *send_words = NULL;
	uint64_t seed = 0, capacity = WANEM_CAPACITY_DEFAULT;
	bool have_seed = false;
	struct wanem_app app;
	struct wanem_config cfg;
	struct wanem_params cur[WANEM_DIR_COUNT];
	char words[WANEM_CTL_LINE_MAX], reply[WANEM_CTL_REPLY_MAX], text[WANEM_LINK_TEXT_MAX];
	size_t words_len = 0;
	sigset_t sigs;
	enum log_level level;
	int opt, rc, status = 1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if_a = optarg;
			break;
		case 'b':
			if_b = optarg;
			break;
		case 'c':
			control = optarg;
			break;
		case 'S':
			send_words = optarg;
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &seed) < 0) {
				fprintf(stderr,
				    "ternlab-wanem: --seed %s: expected a whole number\n", optarg);
				return 2;
			}
			have_seed = true;
			break;
		case 'n':
			if (parse_u64(optarg, 1, WANEM_CAPACITY_MAX, &capacity) < 0) {
				fprintf(stderr,
				    "ternlab-wanem: --capacity %s: expected a number of packets "
				    "from 1 to %u\n",
				    optarg, WANEM_CAPACITY_MAX);
				return 2;
			}
			break;
		case 'l':
			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr,
				    "ternlab-wanem: --log-level %s: use error, warning, info or "
				    "debug\n",
				    optarg);
				return 2;
			}
			log_set_level(level);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (optopt != 0)
				fprintf(stderr,
				    "ternlab-wanem: option -%c: unknown or missing its value\n",
				    optopt);
			else
				fprintf(stderr,
				    "ternlab-wanem: %s: unknown option or missing its value\n",
				    argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (control == NULL) {
		fprintf(stderr, "ternlab-wanem: --control PATH is required\n");
		usage(stderr);
		return 2;
	}
	if (send_words != NULL) {
		if (if_a != NULL || if_b != NULL || have_seed || optind < argc) {
			fprintf(stderr,
			    "ternlab-wanem: --send takes only --control and its words\n");
			return 2;
		}
		return client_main(control, send_words);
	}
	if (if_a == NULL || if_b == NULL) {
		fprintf(stderr, "ternlab-wanem: %s is required\n",
		    if_a == NULL ? "--if-a" : "--if-b");
		usage(stderr);
		return 2;
	}
	if (strcmp(if_a, if_b) == 0) {
		fprintf(stderr, "ternlab-wanem: --if-a and --if-b must differ\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (words_len + l + 2 > sizeof(words)) {
			fprintf(stderr, "ternlab-wanem: initial command longer than %zu bytes\n",
			    sizeof(words) - 1);
			return 2;
		}
		memcpy(words + words_len, argv[i], l);
		words_len += l;
		words[words_len++] = ' ';
	}
	words[words_len] = '\0';
	if (!have_seed)
		seed = now_ns();

	memset(&app, 0, sizeof(app));
	app.sig_fd = -1;
	app.port[0].fd = app.port[1].fd = -1;
	app.ctl.listen_fd = -1;
	for (int i = 0; i < WANEM_CTL_CLIENTS; i++)
		app.ctl.clients[i].fd = -1;
	cfg.capacity = (uint32_t)capacity;
	cfg.seed = seed;
	rc = wanem_new(&cfg, &app.engine);
	if (rc < 0) {
		log_error_errno(rc, "cannot allocate the engine for %u packets", cfg.capacity);
		goto out;
	}
	if (words_len > 0 && app_command(&app, words, reply, sizeof(reply)) < 0) {
		fprintf(stderr, "ternlab-wanem: %s\n", reply);
		status = 2;
		goto out;
	}
	/* Every buffer the engine can hold in both directions, plus a batch in flight each. */
	rc = wanem_pool_init(&app.pool, 2 * cfg.capacity + 2 * WANEM_IO_BATCH);
	if (rc < 0) {
		log_error_errno(rc, "cannot allocate %u frame buffers", 2 * cfg.capacity);
		goto out;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	app.sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (app.sig_fd < 0) {
		log_error_errno(-errno, "signalfd");
		goto out;
	}
	/* Release times are in nanoseconds; the default 50 us timer slack would blur them. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (wanem_port_open(&app.port[0], if_a) < 0 || wanem_port_open(&app.port[1], if_b) < 0)
		goto out;
	if (wanem_ctl_open(&app.ctl, control) < 0)
		goto out;
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		wanem_get_dir(app.engine, (enum wanem_dir)d, &cur[d]);
	wanem_link_format(cur, text, sizeof(text));
	log_info("forwarding between %s and %s (capacity %u packets per direction, seed %" PRIu64
	         "), control at %s, impairments: %s",
	    if_a, if_b, cfg.capacity, seed, control, text);
	if (app_run(&app) == 0)
		status = 0;

out:
	wanem_ctl_close(&app.ctl);
	wanem_port_close(&app.port[0]);
	wanem_port_close(&app.port[1]);
	if (app.sig_fd >= 0)
		close(app.sig_fd);
	wanem_pool_fini(&app.pool);
	wanem_free(app.engine);
	return status;
}

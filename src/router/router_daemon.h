/*
 * The running router: what `ternd --config FILE` does.
 *
 * Start: load and validate the configuration (every error printed, nothing touched on
 * failure); open one TUN device per LAN segment and route every peer service's prefixes
 * into the TUN of the first segment whose tenant it admits (so hosts' packets to remote
 * services, and servers' answers to remote clients, reach ternd); open one packet socket
 * per WAN interface for its waypoint ports and install the nftables table that keeps the
 * kernel from answering those packets itself (no RST, no port unreachable).
 *
 * Threads: one data-plane worker thread runs router_worker_poll() in a loop (poll() on
 * the devices when idle, timers every 100 ms); the calling thread is the control
 * thread: signals (SIGTERM/SIGINT stop, SIGHUP reloads), the local API (router_api) and
 * reloads. The control thread reads the worker's state only through a mailbox the worker
 * answers between bursts, so the data path takes no lock.
 *
 * Reload is all-or-nothing: a file that does not validate, or that changes devices or
 * waypoints (which need a restart), leaves everything running as it was and says why.
 * A valid reload rebuilds the worker with the new policy; sessions start afresh.
 *
 * Stop: the worker is joined, the nftables table removed, TUN devices (and their routes)
 * deleted and the API socket unlinked: nothing is left behind.
 */
#ifndef TERN_ROUTER_ROUTER_DAEMON_H
#define TERN_ROUTER_ROUTER_DAEMON_H

struct router_daemon_options {
	const char *config_path;
	const char *socket_path; /* NULL: /run/tern/<router name>.sock */
};

/* Runs until SIGTERM or SIGINT. Returns the process exit status (0, or 1 on failure). */
int router_daemon_run(const struct router_daemon_options *options);

#endif

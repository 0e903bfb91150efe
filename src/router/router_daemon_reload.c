/*
 * The running router's reload (router_daemon.h, inside in router_daemon_int.h): the new
 * file validated before anything stops, then routes, keys, prober and worker rebuilt
 * with the old ones' state carried over, or the old configuration put back exactly as
 * it ran.
 */
#include "router/router_daemon_int.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto_key.h"
#include "lib/log.h"
#include "path/path_prober.h"
#include "router/router_keys.h"
#include "router/router_paths.h"

/* True when next needs the same devices and waypoints as cur (a reload can keep them). */
static bool
daemon_devices_same(const struct router_config *cur, const struct router_config *next)
{
	if (cur->lan_count != next->lan_count || cur->wan_count != next->wan_count ||
	    strcmp(cur->name, next->name) != 0)
		return false;
	for (size_t i = 0; i < cur->lan_count; i++)
		if (strcmp(cur->lans[i].device, next->lans[i].device) != 0)
			return false;
	for (size_t i = 0; i < cur->wan_count; i++)
		if (strcmp(cur->wans[i].device, next->wans[i].device) != 0 ||
		    !addr_equal(&cur->wans[i].waypoint, &next->wans[i].waypoint))
			return false;
	return true;
}

int
router_daemon_reload(struct router_daemon *d, struct router_api_error *err)
{
	struct router_config_errors errors;
	struct router_config *next = NULL, *old;
	uint64_t ended = 0;
	json_t *next_json;
	bool keys_same;
	int rc;

	router_config_errors_init(&errors);
	rc = router_config_load(d->options->config_path, &next, &errors);
	if (rc < 0) {
		json_t *details = json_array();

		router_config_errors_print(&errors, stderr);
		for (size_t i = 0; i < router_config_errors_count(&errors); i++) {
			const struct router_config_error *e = router_config_errors_at(&errors, i);
			char line[512];

			snprintf(line, sizeof(line), "%s: %s", e->path, e->message);
			json_array_append_new(details, json_string(line));
		}
		router_api_error_set(err, "config-invalid",
		    "%s: %zu error(s); the running configuration is unchanged",
		    d->options->config_path, router_config_errors_count(&errors));
		json_decref(err->details);
		err->details = details;
		router_config_errors_fini(&errors);
		return -EINVAL;
	}
	router_config_errors_fini(&errors);
	if (!daemon_devices_same(d->cfg, next)) {
		router_config_free(next);
		router_api_error_set(err, "restart-needed",
		    "the new configuration changes devices or waypoints: restart ternd; the "
		    "running configuration is unchanged");
		log_warning("reload refused: devices or waypoints changed (restart needed)");
		return -EINVAL;
	}
	/*
	 * A new rekey time keeps the keys (set_config applies it); a new identity or cipher
	 * restarts the exchange, and kept sessions wait for its keys (decision 0012).
	 */
	keys_same = d->keys != NULL && router_keys_config_same(d->cfg, next) &&
	    router_keys_private_key_same(d->keys, next);
	if (!keys_same && next->security.private_key_file != NULL) {
		uint8_t probe[CRYPTO_KEY_LEN];
		char why[256];

		/* Check the key file before anything stops; the keys are built after. */
		rc = crypto_key_read_private_file(next->security.private_key_file, probe, why,
		    sizeof(why));
		OPENSSL_cleanse(probe, sizeof(probe));
		if (rc < 0) {
			router_api_error_set(err, "config-invalid",
			    "$.router.private_key_file: %s; the running configuration is unchanged",
			    why);
			router_config_free(next);
			return -EINVAL;
		}
	}
	next_json = json_load_file(d->options->config_path, 0, NULL);
	d->worker_prev_keys = keys_same;
	router_daemon_worker_stop(d, true);
	old = d->cfg;
	d->cfg = next;
	d->prober_prev = router_paths_free_keep(d->paths);
	d->prober_prev_cfg = old;
	d->paths = NULL;
	/* It probes no more: what it refused stays in `show drops`. */
	if (d->prober_prev != NULL)
		router_paths_prober_drops_count(d->prober_prev, &d->drops_retired);
	if (keys_same) {
		router_keys_set_config(d->keys, d->cfg);
	} else {
		if (d->keys != NULL)
			router_keys_drops_count(d->keys, &d->drops_retired);
		router_keys_free(d->keys);
		d->keys = NULL;
	}
	/* The routes that stay never go away: no packet finds none meanwhile. */
	rc = router_daemon_routes_replace(d, d->cfg);
	if (rc == 0)
		rc = router_daemon_keys_open(d);
	if (rc == 0)
		rc = router_daemon_worker_start(d);
	if (rc < 0) {
		/* Put the old policy back exactly as it ran. */
		if (d->paths != NULL)
			router_paths_drops_count(d->paths, &d->drops_retired);
		router_paths_free(d->paths);
		d->paths = NULL;
		if (d->keys != NULL && keys_same) {
			router_keys_set_config(d->keys, old);
		} else {
			if (d->keys != NULL)
				router_keys_drops_count(d->keys, &d->drops_retired);
			router_keys_free(d->keys);
			d->keys = NULL;
		}
		d->cfg = old;
		json_decref(next_json);
		router_daemon_routes_replace(d, d->cfg);
		router_daemon_keys_open(d);
		router_daemon_worker_start(d);
		/* After the start: a worker made from next may have held the keys until then. */
		router_config_free(next);
		path_prober_free(d->prober_prev);
		d->prober_prev = NULL;
		d->prober_prev_cfg = NULL;
		router_api_error_set(err, ROUTER_API_E_INTERNAL,
		    "applying the new configuration failed (%s); the previous one runs again",
		    strerror(-rc));
		return rc;
	}
	path_prober_free(d->prober_prev);
	d->prober_prev = NULL;
	d->prober_prev_cfg = NULL;
	router_config_free(old);
	json_decref(d->cfg_json);
	d->cfg_json = next_json != NULL ? next_json : json_object();
	d->reloads++;
	for (size_t i = 0; i < ROUTER_RELOAD_END_COUNT; i++) {
		d->reload_ended[i] += d->reload_last.ended[i];
		ended += d->reload_last.ended[i];
	}
	log_info("configuration reloaded from %s: %" PRIu64 " sessions kept, %" PRIu64 " ended",
	    d->options->config_path, d->reload_last.kept, ended);
	return 0;
}

/*
 * Path selection per service policy (path_select.h): the rules, the explanation text and
 * the failover decision. Candidate sets are bit masks over at most 16 indices, so every
 * step is a pass over the candidates with no allocation.
 */
#include "path/path_select.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/text.h"

_Static_assert(PATH_SELECT_CANDIDATES_MAX <= 32, "candidate sets are 32-bit masks");

uint32_t
path_select_cost(const struct path_select_policy *pol, const char *const *vectors, size_t nvec)
{
	uint32_t best = 0;
	bool found = false;

	for (size_t i = 0; i < nvec; i++) {
		if (vectors[i] == NULL)
			continue;
		for (size_t j = 0; j < pol->vector_cost_count; j++) {
			const struct path_vector_cost *vc = &pol->vector_costs[j];

			if (vc->vector == NULL || strcmp(vc->vector, vectors[i]) != 0)
				continue;
			if (!found || vc->cost < best)
				best = vc->cost;
			found = true;
		}
	}
	return found ? best : pol->default_cost;
}

uint8_t
path_select_sla_check(const struct path_select_policy *pol, const struct path_candidate *cand,
    double *value, double *limit_value)
{
	double v = 0, l = 0;
	uint8_t limit = PATH_SLA_NONE;

	if (pol->max_latency_us != 0 && cand->latency_us > pol->max_latency_us) {
		limit = PATH_SLA_MAX_LATENCY;
		v = cand->latency_us;
		l = pol->max_latency_us;
	} else if (pol->max_jitter_us != 0 && cand->jitter_us > pol->max_jitter_us) {
		limit = PATH_SLA_MAX_JITTER;
		v = cand->jitter_us;
		l = pol->max_jitter_us;
	} else if (pol->has_max_loss && !(cand->loss_pct <= pol->max_loss_pct)) {
		/* Written as !(<=) so a NaN measurement breaks the limit. */
		limit = PATH_SLA_MAX_LOSS;
		v = cand->loss_pct;
		l = pol->max_loss_pct;
	} else if (pol->min_mos > 0 && !(cand->mos >= pol->min_mos)) {
		limit = PATH_SLA_MIN_MOS;
		v = cand->mos;
		l = pol->min_mos;
	}
	if (value != NULL)
		*value = v;
	if (limit_value != NULL)
		*limit_value = l;
	return limit;
}

static unsigned
popcount32(uint32_t m)
{
	return (unsigned)__builtin_popcount(m);
}

/* A NaN MOS counts as the worst. */
static double
mos_of(const struct path_candidate *c)
{
	return isnan(c->mos) ? 0.0 : c->mos;
}

/*
 * Keeps the candidates of set whose quality equals the best within the tolerances:
 * MOS within PATH_SELECT_MOS_TOLERANCE of the highest, then latency within
 * PATH_SELECT_LATENCY_TOLERANCE_US of the lowest among those.
 */
static uint32_t
quality_filter(const struct path_candidate *cands, size_t n, uint32_t set)
{
	double best_mos = -1;
	uint32_t min_latency = UINT32_MAX, kept = 0, out = 0;

	for (size_t i = 0; i < n; i++) {
		if ((set >> i & 1) && mos_of(&cands[i]) > best_mos)
			best_mos = mos_of(&cands[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if ((set >> i & 1) && best_mos - mos_of(&cands[i]) < PATH_SELECT_MOS_TOLERANCE) {
			kept |= 1u << i;
			if (cands[i].latency_us < min_latency)
				min_latency = cands[i].latency_us;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if ((kept >> i & 1) &&
		    cands[i].latency_us - min_latency < PATH_SELECT_LATENCY_TOLERANCE_US)
			out |= 1u << i;
	}
	return out;
}

static uint32_t
cheapest(const struct path_candidate *cands, size_t n, uint32_t set)
{
	uint32_t min = UINT32_MAX, out = 0;

	for (size_t i = 0; i < n; i++) {
		if ((set >> i & 1) && cands[i].cost < min)
			min = cands[i].cost;
	}
	for (size_t i = 0; i < n; i++) {
		if ((set >> i & 1) && cands[i].cost == min)
			out |= 1u << i;
	}
	return out;
}

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/*
 * Rendezvous hashing: each path of set scores hash(flow, path_id) and the highest
 * wins, so removing a path moves only the sessions that were on it.
 */
static uint32_t
hash_pick(const struct path_candidate *cands, size_t n, uint32_t set, uint64_t flow_hash)
{
	uint64_t best = 0;
	uint32_t pick = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t score;

		if (!(set >> i & 1))
			continue;
		score = mix64(flow_hash ^ mix64(cands[i].path_id + 0x9e3779b97f4a7c15ull));
		if (!any || score > best) {
			best = score;
			pick = (uint32_t)i;
			any = true;
		}
	}
	return pick;
}

struct pick {
	uint32_t index;
	uint8_t reason;
	bool sla_met;
	uint8_t equal_count;
	uint8_t kind[PATH_SELECT_CANDIDATES_MAX];
};

static void
mark(struct pick *p, size_t n, uint32_t set, uint8_t kind)
{
	for (size_t i = 0; i < n; i++) {
		if (set >> i & 1)
			p->kind[i] = kind;
	}
}

/* The rules of path_select.h over the candidates in allowed. */
static int
choose(const struct path_select_policy *pol, const struct path_candidate *cands, size_t n,
    uint32_t allowed, uint64_t flow_hash, struct pick *p)
{
	uint32_t up = 0, meets = 0, set, best;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		if (!(allowed >> i & 1) || !cands[i].up) {
			p->kind[i] = PATH_VERDICT_DOWN;
			continue;
		}
		up |= 1u << i;
		if (path_select_sla_check(pol, &cands[i], NULL, NULL) == PATH_SLA_NONE)
			meets |= 1u << i;
		else
			p->kind[i] = PATH_VERDICT_BREAKS_SLA;
	}
	if (up == 0)
		return -EHOSTUNREACH;
	if (meets != 0) {
		p->sla_met = true;
		set = cheapest(cands, n, meets);
		mark(p, n, meets & ~set, PATH_VERDICT_COSTLIER);
		if (popcount32(set) == 1) {
			p->reason = PATH_REASON_SLA_MET_LOWEST_COST;
			best = set;
		} else {
			best = quality_filter(cands, n, set);
			mark(p, n, set & ~best, PATH_VERDICT_WORSE_QUALITY);
			p->reason = popcount32(best) == 1 ? PATH_REASON_TIE_BROKEN_BY_QUALITY :
			                                    PATH_REASON_LOAD_SHARED;
		}
		mark(p, n, best, PATH_VERDICT_LOAD_SHARED_ELSEWHERE);
	} else {
		if (pol->no_path == PATH_NO_PATH_DROP)
			return -ENETUNREACH;
		p->reason = PATH_REASON_BEST_EFFORT;
		best = cheapest(cands, n, quality_filter(cands, n, up));
	}
	p->equal_count = (uint8_t)popcount32(best);
	p->index = hash_pick(cands, n, best, flow_hash);
	p->kind[p->index] = PATH_VERDICT_CHOSEN;
	return 0;
}

int
path_select(const struct path_select_policy *pol, const struct path_candidate *cands, size_t n,
    uint64_t flow_hash, struct path_choice *out)
{
	uint32_t all = n >= 32 ? UINT32_MAX : (1u << n) - 1;
	struct pick p, second;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n > PATH_SELECT_CANDIDATES_MAX) {
		out->result = -E2BIG;
		return -E2BIG;
	}
	rc = choose(pol, cands, n, all, flow_hash, &p);
	out->result = rc;
	out->count = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct path_verdict *v = &out->verdicts[i];

		v->path_id = cands[i].path_id;
		v->kind = p.kind[i];
		v->cost = cands[i].cost;
		v->mos = cands[i].mos;
		v->latency_us = cands[i].latency_us;
		if (cands[i].up)
			v->limit =
			    path_select_sla_check(pol, &cands[i], &v->value, &v->limit_value);
	}
	if (rc < 0)
		return rc;
	out->path_id = cands[p.index].path_id;
	out->index = p.index;
	out->reason = p.reason;
	out->sla_met = p.sla_met;
	out->equal_count = p.equal_count;
	if (pol->resiliency == PATH_RESILIENCY_DUPLICATE &&
	    choose(pol, cands, n, all & ~(1u << p.index), flow_hash, &second) == 0) {
		out->has_second = true;
		out->second_index = second.index;
		out->second_path_id = cands[second.index].path_id;
	}
	return 0;
}

bool
path_select_should_move(const struct path_select_policy *pol, const struct path_candidate *current,
    const struct path_choice *choice)
{
	const struct path_verdict *to;

	if (choice->result != 0 || choice->index >= choice->count ||
	    pol->resiliency == PATH_RESILIENCY_NONE || choice->path_id == current->path_id)
		return false;
	if (!current->up)
		return true;
	if (path_select_sla_check(pol, current, NULL, NULL) != PATH_SLA_NONE)
		return choice->sla_met;
	if (pol->resiliency == PATH_RESILIENCY_FAILOVER)
		return false;
	/* Revertible: back to a strictly preferred path, never for load sharing alone. */
	to = &choice->verdicts[choice->index];
	if (!choice->sla_met || to->cost > current->cost)
		return false;
	if (to->cost < current->cost)
		return true;
	if (to->mos - mos_of(current) >= PATH_SELECT_MOS_TOLERANCE)
		return true;
	return mos_of(current) - to->mos < PATH_SELECT_MOS_TOLERANCE &&
	    to->latency_us + PATH_SELECT_LATENCY_TOLERANCE_US <= current->latency_us;
}

static const char *
limit_name(uint8_t limit)
{
	switch (limit) {
	case PATH_SLA_MAX_LATENCY:
		return "max-latency";
	case PATH_SLA_MAX_JITTER:
		return "max-jitter";
	case PATH_SLA_MAX_LOSS:
		return "max-loss";
	case PATH_SLA_MIN_MOS:
		return "min-mos";
	default:
		return "no limit";
	}
}

/* Microseconds as "212 ms" or "212.5 ms". */
static void
text_ms(struct text *t, double us)
{
	/* Integer test: the values come from uint32_t microseconds, and libm is not linked. */
	if ((uint64_t)us % 1000 == 0)
		text_add(t, "%.0f ms", us / 1000.0);
	else
		text_add(t, "%.1f ms", us / 1000.0);
}

static void
text_name(struct text *t, const struct path_choice *c, const char *const *names, size_t i)
{
	if (names != NULL && names[i] != NULL)
		text_add(t, "%s", names[i]);
	else
		text_add(t, "path %u", c->verdicts[i].path_id);
}

static void
text_breaks(struct text *t, const struct path_verdict *v)
{
	text_add(t, " breaks %s (", limit_name(v->limit));
	switch (v->limit) {
	case PATH_SLA_MAX_LATENCY:
	case PATH_SLA_MAX_JITTER:
		text_ms(t, v->value);
		text_add(t, " > ");
		text_ms(t, v->limit_value);
		break;
	case PATH_SLA_MAX_LOSS:
		text_add(t, "%g%% > %g%%", v->value, v->limit_value);
		break;
	default:
		text_add(t, "%.2f < %.2f", v->value, v->limit_value);
		break;
	}
	text_add(t, ")");
}

int
path_choice_format(const struct path_choice *choice, const char *const *path_names, char *buf,
    size_t len)
{
	struct text t = {.buf = buf, .len = len};

	if (len > 0)
		buf[0] = '\0';
	if (choice->result == -E2BIG) {
		text_add(&t, "too many paths to consider (at most %d)", PATH_SELECT_CANDIDATES_MAX);
		goto out;
	}
	text_add(&t, "considered %u path%s", choice->count, choice->count == 1 ? "" : "s");
	for (uint32_t i = 0; i < choice->count && i < PATH_SELECT_CANDIDATES_MAX; i++) {
		const struct path_verdict *v = &choice->verdicts[i];

		text_add(&t, i == 0 ? ": " : "; ");
		text_name(&t, choice, path_names, i);
		if (v->kind == PATH_VERDICT_DOWN) {
			text_add(&t, " is down");
			continue;
		}
		/* A path that breaks the SLA lost on that alone: its cost would only distract. */
		if (v->limit != PATH_SLA_NONE)
			text_breaks(&t, v);
		else
			text_add(&t, " meets the SLA at cost %u", v->cost);
		switch (v->kind) {
		case PATH_VERDICT_COSTLIER:
			text_add(&t, ": costlier");
			break;
		case PATH_VERDICT_WORSE_QUALITY:
			text_add(&t, ": worse quality (MOS %.2f, ", v->mos);
			text_ms(&t, v->latency_us);
			text_add(&t, ")");
			break;
		case PATH_VERDICT_LOAD_SHARED_ELSEWHERE:
			text_add(&t, ": equal, the session hashed to another");
			break;
		case PATH_VERDICT_CHOSEN:
			text_add(&t, ": chosen");
			if (choice->reason == PATH_REASON_TIE_BROKEN_BY_QUALITY) {
				text_add(&t, " (tie broken by quality: MOS %.2f, ", v->mos);
				text_ms(&t, v->latency_us);
				text_add(&t, ")");
			} else if (choice->reason == PATH_REASON_LOAD_SHARED) {
				text_add(&t, " (load shared over %u equal paths)",
				    choice->equal_count);
			} else if (choice->reason == PATH_REASON_BEST_EFFORT) {
				text_add(&t, " as best effort (no path meets the SLA; MOS %.2f, ",
				    v->mos);
				text_ms(&t, v->latency_us);
				text_add(&t, ", cost %u)", v->cost);
			}
			break;
		default:
			break;
		}
	}
	if (choice->result == -EHOSTUNREACH)
		text_add(&t, "%sno path is up: session refused", choice->count > 0 ? "; " : ": ");
	else if (choice->result == -ENETUNREACH)
		text_add(&t, "; no path meets the SLA and the policy drops: session refused");
	else if (choice->has_second && choice->second_index < choice->count) {
		text_add(&t, "; duplicated on ");
		text_name(&t, choice, path_names, choice->second_index);
	}
out:
	return (int)t.used;
}

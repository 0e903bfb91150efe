#!/usr/bin/python3
"""Summarises bench_failover's trials: human lines, then one JSON line.

    summary.py TRIALS.jsonl PROBES.json META.json

TRIALS.jsonl has one object per trial: {"trial": i, "cut": "inet", "valid": bool,
"why": text, "gap_ms": ms, "follows_cut": bool, "lost": n, "sent": n, "tcp_ok": bool,
"tcp_resets": n, "tcp_mbps_after": x, "tcp_resumed": bool}. PROBES.json: {"paths": [{"router": "a", "path": "wan0", "seconds": s,
"bytes": n, "probes": n}, ...]}: what each router sent on each path in that many
seconds. META.json: settings to copy into the result (trials asked, timers, rates,
runtime). A trial that is not valid (its sessions were not on inet before the cut, or
the traffic never came back) is listed but left out of the distribution.

Percentiles are nearest-rank (p90 of 20 trials is the 18th smallest).
"""

import json
import math
import statistics
import sys


def nearest_rank(sorted_values, pct):
    if not sorted_values:
        return None
    k = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[k - 1]


def summarize(trials, probes, meta):
    valid = [t for t in trials if t.get("valid")]
    gaps = sorted(t["gap_ms"] for t in valid)
    lost = sorted(t["lost"] for t in valid)
    rates = []
    for p in probes.get("paths", []):
        if p.get("seconds"):
            rates.append({"router": p["router"], "path": p["path"],
                          "bytes_per_s": round(p["bytes"] / p["seconds"], 1),
                          "probes_per_s": round(p["probes"] / p["seconds"], 2)})
    out = {"bench": "failover"}
    out.update(meta)
    out.update({
        "trials_run": len(trials),
        "trials_valid": len(valid),
        "failover_ms_median": round(statistics.median(gaps), 1) if gaps else None,
        "failover_ms_p90": round(nearest_rank(gaps, 90), 1) if gaps else None,
        "failover_ms_max": round(gaps[-1], 1) if gaps else None,
        "failover_ms_min": round(gaps[0], 1) if gaps else None,
        "failover_ms": [round(g, 1) for g in gaps],
        "lost_datagrams_median": statistics.median(lost) if lost else None,
        "trials_no_recovery": sum(1 for t in trials if "did not resume" in (t.get("why") or "")),
        "tcp_resets": sum(t.get("tcp_resets", 0) for t in trials),
        "tcp_transfers_failed": sum(1 for t in trials if not t.get("tcp_ok")),
        "tcp_stalled": sum(1 for t in trials if not t.get("tcp_resumed")),
        "tcp_mbps_after_median": statistics.median(t.get("tcp_mbps_after", 0) for t in trials) if trials else None,
        "probe_bytes_per_s_per_path": round(statistics.mean(r["bytes_per_s"] for r in rates), 1) if rates else None,
        "probe_rates": rates,
    })
    return out


def human(out, trials):
    lines = []
    for t in trials:
        lines.append(f"trial {t['trial']:2}: cut {t.get('cut')}: gap {t.get('gap_ms')} ms, "
                     f"{t.get('lost')} of {t.get('sent')} datagrams lost, TCP "
                     f"{'ok' if t.get('tcp_ok') else 'FAILED'}, resets {t.get('tcp_resets', 0)}, "
                     f"{t.get('tcp_mbps_after')} Mbit/s after{'' if t.get('tcp_resumed') else ' (stalled)'}"
                     + ("" if t.get("valid") else f"  (not counted: {t.get('why')})"))
    lines.append(f"failover gap (ms): median {out['failover_ms_median']}, p90 {out['failover_ms_p90']}, "
                 f"max {out['failover_ms_max']}, min {out['failover_ms_min']} over "
                 f"{out['trials_valid']} of {out['trials_run']} trials")
    lines.append(f"TCP: {out['tcp_resets']} resets, {out['tcp_transfers_failed']} transfers failed, "
                 f"{out['tcp_stalled']} stalled after the failover (median {out['tcp_mbps_after_median']} Mbit/s after)")
    for r in out["probe_rates"]:
        lines.append(f"probes {r['router']} {r['path']}: {r['bytes_per_s']} B/s, {r['probes_per_s']} probes/s")
    return lines


def main(argv):
    with open(argv[1]) as f:
        trials = [json.loads(line) for line in f if line.strip()]
    with open(argv[2]) as f:
        probes = json.load(f)
    with open(argv[3]) as f:
        meta = json.load(f)
    out = summarize(trials, probes, meta)
    for line in human(out, trials):
        print(line)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

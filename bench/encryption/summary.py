#!/usr/bin/python3
"""The figures of bench/bench_encryption.sh from the files a run left in its directory.

    summary.py row WORK VARIANT        one human line for a variant, its figures to
                                       WORK/VARIANT-row.json
    summary.py total WORK SECONDS PROVISIONAL TERN_TOPO PLAIN_TOPO VARIANTS...
                                       the ratios against the goals, then one JSON line
"""

import json
import os
import subprocess
import sys

VARIANTS = ("tern", "tern_plain", "wireguard_go", "ipsec")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def iperf_rx(work, variant, name):
    """(Gbit/s received, bytes received, lost percent or None) of one iperf3 run."""
    d = load(os.path.join(work, f"{variant}-{name}.json"))
    if not d or "end" not in d or "sum_received" not in d["end"]:
        return None, None, None
    r = d["end"]["sum_received"]
    return round(r["bits_per_second"] / 1e9, 3), r["bytes"], r.get("lost_percent")


def row(work, variant):
    tcp1, tcp1_bytes, _ = iperf_rx(work, variant, "tcp1")
    tcp4, _, _ = iperf_rx(work, variant, "tcp4")
    udp, _, udp_loss = iperf_rx(work, variant, "udp1400")
    cpu = None
    try:
        with open(os.path.join(work, f"{variant}-cpu.txt")) as f:
            t0, t1, hz = (int(v) for v in f.read().split())
        if tcp1_bytes:
            cpu = round((t1 - t0) / hz / (tcp1_bytes / 1e9), 2)
    except (OSError, ValueError):
        pass
    ovh, detail = {}, {}
    for kind in ("http", "https", "voip"):
        o = load(os.path.join(work, f"{variant}-ovh-{kind}.json")) or {}
        ovh[kind] = o.get("overhead_bytes_per_packet")
        detail[kind] = o
    dl = {}
    for kind in ("http", "https"):
        try:
            with open(os.path.join(work, f"{variant}-{kind}.txt")) as f:
                size, secs = (float(v) for v in f.read().split())
            dl[kind] = round(size * 8 / secs / 1e9, 3) if secs and size >= 64 * 1024 * 1024 else None
        except (OSError, ValueError):
            dl[kind] = None
    out = {"tcp1_gbps": tcp1, "tcp4_gbps": tcp4, "udp1400_gbps": udp, "cpu_s_per_gb": cpu,
           "overhead_bytes_per_packet": ovh, "udp1400_loss_pct": round(udp_loss, 1) if udp_loss is not None else None,
           "http_gbps": dl["http"], "https_gbps": dl["https"], "overhead_detail": detail}
    with open(os.path.join(work, f"{variant}-row.json"), "w") as f:
        json.dump(out, f)
    print(f"{variant}: TCP {tcp1} Gbit/s (1 stream), {tcp4} (4 streams); UDP 1400 B {udp} Gbit/s received "
          f"of 1 offered ({out['udp1400_loss_pct']}% lost); {cpu} CPU s/GB (TCP, 1 stream); "
          f"64 MiB download: HTTP {dl['http']} Gbit/s, HTTPS {dl['https']}")
    for kind in ("http", "https", "voip"):
        o = detail[kind]
        if not o:
            print(f"  {kind}: no capture")
            continue
        print(f"  {kind}: {o['overhead_bytes_per_packet']} WAN bytes per packet over the host's "
              f"(min {o['min']}, median {o['median']}, max {o['max']}; {o['counted']} packets counted, "
              f"{o['lan_packets']} on the LAN, {o['wan_packets']} carrier packets on the WAN, "
              f"{o['lan_unpaired']} LAN and {o['wan_unpaired']} WAN unpaired, {o['reordered']} "
              f"overtaken; the first "
              f"{o['first_packets']} packets: {o['first_packets_overhead']} bytes each)")
    return 0


def version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() or None


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def total(work, seconds, provisional, tern_topo, plain_topo, variants):
    res = {"bench": "encryption", "seconds": float(seconds), "provisional": provisional == "true",
           "topologies": {"tern": tern_topo, "tern_plain": plain_topo,
                          "wireguard_go": "two-sites-kernel.json", "ipsec": "two-sites-kernel.json"},
           "versions": {"wireguard-go": version("wireguard-go"), "strongswan": version("strongswan-charon"),
                        "iperf3": version("iperf3"), "nginx": version("nginx-light") or version("nginx")},
           "ipsec_esp": "AES-256-GCM (16-byte ICV) in UDP 4500, IKEv2 PSK",
           "udp1400": "1400-byte IP packets (1372-byte payload) offered at 1 Gbit/s; received rate"}
    rows = {}
    for v in variants:
        rows[v] = load(os.path.join(work, f"{v}-row.json")) or {}
        res[v] = {k: rows[v].get(k) for k in ("tcp1_gbps", "tcp4_gbps", "udp1400_gbps", "cpu_s_per_gb",
                                              "overhead_bytes_per_packet", "udp1400_loss_pct",
                                              "http_gbps", "https_gbps")}
    t = rows.get("tern", {})
    p = rows.get("tern_plain", {})
    w = rows.get("wireguard_go", {})
    goals = {
        "tern_tcp1_over_wireguard_go": ratio(t.get("tcp1_gbps"), w.get("tcp1_gbps")),
        "tern_tcp1_over_tern_plain": ratio(t.get("tcp1_gbps"), p.get("tcp1_gbps")),
        "tern_https_over_tern_plain": ratio(t.get("https_gbps"), p.get("https_gbps")),
    }
    th = (t.get("overhead_detail") or {}).get("https", {})
    ph = (p.get("overhead_detail") or {}).get("https", {})
    # HTTPS: how much more the WAN carries for it with encryption on than off.
    if th.get("overhead_bytes_per_packet") is not None and ph.get("overhead_bytes_per_packet") is not None:
        goals["tern_https_extra_bytes_per_packet_over_plain"] = round(
            th["overhead_bytes_per_packet"] - ph["overhead_bytes_per_packet"], 2)
    res["goals"] = goals
    print(f"tern tcp1 / wireguard_go tcp1 = {goals['tern_tcp1_over_wireguard_go']} (goal >= 3); "
          f"tern tcp1 / tern_plain tcp1 = {goals['tern_tcp1_over_tern_plain']} (goal >= 0.6); "
          f"tern HTTPS / tern_plain HTTPS = {goals['tern_https_over_tern_plain']} (goal >= 0.95)")
    if res["provisional"]:
        print("PROVISIONAL: tern and tern_plain ran without Tern's encryption (no secure topologies yet)")
    print(json.dumps(res))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "row":
        return row(argv[1], argv[2])
    if len(argv) >= 6 and argv[0] == "total":
        return total(argv[1], argv[2], argv[3], argv[4], argv[5], argv[6:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

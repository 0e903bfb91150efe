#!/usr/bin/python3
"""Polls a ternd (ternctl --json show paths, show sessions) every --every seconds for
--seconds and prints one JSON line per poll:

    {"t": EPOCH, "paths": {"wan0": "up", ...}, "hold_down_s": {"wan0": 5.0, ...},
     "sessions": {"udp 10.1.0.10:5100 > 10.2.0.10:5000": "wan0", ...}}

A session's path is its "path" field, or, if ternd does not give one, the WAN link its
waypoint addresses belong to (--wan NAME=PREFIX, e.g. wan0=192.0.2.). Used by the lab
test to see whether sessions ping-pong between paths while a link flaps.

    watch.py TERNCTL SOCKET [--seconds S] [--every S] [--wan NAME=PREFIX ...]
"""

import argparse
import json
import subprocess
import sys
import time


def show(ternctl, sock, what):
    r = subprocess.run([ternctl, "--socket", sock, "--json", "show", what], capture_output=True,
                       text=True, timeout=5)
    return json.loads(r.stdout) if r.returncode == 0 else None


def session_path(s, wans):
    if s.get("path"):
        return s["path"]
    wp = s.get("waypoint") or {}
    for name, prefix in wans:
        if str(wp.get("source", "")).startswith(prefix) or str(wp.get("destination", "")).startswith(prefix):
            return name
    return None


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("ternctl")
    p.add_argument("socket")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--every", type=float, default=0.2)
    p.add_argument("--wan", action="append", default=[])
    a = p.parse_args(argv)
    wans = [tuple(w.split("=", 1)) for w in a.wan]
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        t = time.time()
        row = {"t": round(t, 3), "paths": {}, "hold_down_s": {}, "flaps": {}, "sessions": {}}
        try:
            paths = show(a.ternctl, a.socket, "paths")
            for q in (paths or {}).get("paths", []):
                row["paths"][q["name"]] = q.get("state")
                row["hold_down_s"][q["name"]] = q.get("hold_down_s")
                row["flaps"][q["name"]] = q.get("flaps")
            sess = show(a.ternctl, a.socket, "sessions")
            for s in (sess or {}).get("sessions", []):
                key = f"{s.get('proto')} {s.get('source')} > {s.get('destination')}"
                row["sessions"][key] = session_path(s, wans)
        except (subprocess.TimeoutExpired, ValueError) as e:
            row["error"] = str(e)
        print(json.dumps(row), flush=True)
        time.sleep(max(0.0, a.every - (time.time() - t)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

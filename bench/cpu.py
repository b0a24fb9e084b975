"""Where a request's CPU goes under load: the gunicorn workers, PostgreSQL, and the rest.

    uv run python bench/cpu.py --size 1                                  # the ceiling, the floor, the API lists
    uv run python bench/cpu.py --size 1 "API sessions" "list floor"      # chosen targets of load.py

The same server and wrk as ``load.py`` (4 sync workers, 8 connections, the busiest user of each
role). For each target it reads the CPU time (user + system, with reaped children) of every
gunicorn, PostgreSQL and Redis process from /proc before and after a wrk run, and the machine's
busy time, and divides by the requests served: milliseconds of CPU per request, by whom. On a
machine whose cores are all busy, throughput is the inverse of that total, so the split says
which side a change must make cheaper. Linux only; a figure for finding what to fix, not one
to report against the goals.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import load

DEFAULT_TARGETS = ("ceiling", "list floor", "API sessions", "API bookings", "API applications")
KINDS = ("gunicorn", "postgres", "redis")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_kind() -> dict[str, float]:
    """CPU seconds used so far by the processes of each kind. A process's own time plus that of
    its children that have ended: a PostgreSQL backend that exits during a run (connections live
    CONN_MAX_AGE seconds) moves from its own count to the postmaster's when it is reaped."""
    totals = dict.fromkeys(KINDS, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        kind = next((k for k in KINDS if k in command), None)
        if kind:
            totals[kind] += sum(int(v) for v in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
    return totals


def busy_seconds() -> float:
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS  # all but idle and iowait


def measure(requests, seconds: int, warmup: int) -> dict:
    script = load.lua_script(requests)
    load.run_wrk(script, warmup)
    before, busy_before = cpu_seconds_by_kind(), busy_seconds()
    result = load.run_wrk(script, seconds)
    after, busy_after = cpu_seconds_by_kind(), busy_seconds()
    n = result["requests"]
    split = {kind: round((after[kind] - before[kind]) / n * 1000, 2) for kind in KINDS}
    everything = round((busy_after - busy_before) / n * 1000, 2)
    return {"rps": result["rps"], "cpu_ms": everything, **split, "other": round(everything - sum(split.values()), 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=DEFAULT_TARGETS)
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--engine", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    plan = load.plan(args.engine, args.size)
    unknown = [t for t in args.targets if t not in plan]
    if unknown:
        sys.exit(f"unknown targets {unknown}; load.py has {sorted(plan)}")
    server = load.start_server(args.engine, args.size)
    figures = {}
    try:
        for name in args.targets:
            load.forget_writes()  # the mix books free seats every time (load.forget_writes)
            figures[name] = f = measure(plan[name], args.seconds, args.warmup)
            print(
                f"{name:<24} {f['rps']:7.1f} req/s  {f['cpu_ms']:6.2f} ms CPU/request:  "
                + "  ".join(f"{kind} {f[kind]:5.2f}" for kind in (*KINDS, "other")),
                flush=True,
            )
    finally:
        load.stop_server(server)
        load.forget_writes()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

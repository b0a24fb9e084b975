"""Latency and throughput under gunicorn, against the framework's own ceiling.

    uv run python bench/load.py --size 1            # the full state on PostgreSQL
    uv run python bench/load.py --size 100 --seconds 5

gunicorn serves the product (bench.settings: the product's settings with DEBUG off, plus the
ceiling route) on 127.0.0.1 with 4 sync workers against the size's PostgreSQL database.
wrk (Debian's, installed by bench/run if missing; a C load generator, so the client takes
little of the machine's two cores) drives each target with 8 connections for --seconds after a
short warm-up, as the busiest user of the role that uses it. The ceiling, a bare DRF endpoint
of the same project that returns a small JSON after one indexed query behind the same
middleware and session authentication, is measured first and last in the same run; each
target's throughput is reported as a share of the mean of the two. The whole sequence runs
--runs times (3), and each figure is the median over the runs (a share being taken against its own
run's ceiling). Every non-2xx answer is counted and reported. The writes of the mixed run are
real: bookings through the API by school staff on upcoming sessions and hours logged by interns.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

CONNECTIONS = 8
# The targets the table cache keeps (config/tablecache.py), measured a second time without it.
# Figures of a target are medians over the runs; errors and timeouts are summed.
MEDIANS = ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")
COUNTS = ("requests", "non_2xx_3xx", "connect", "read", "write", "timeout")
# Targets kept in the table cache after the warm-up, measured again with the cache off.
COMPUTED = ("coordinator dashboard", "agreement report", "API sessions", "API bookings")
THREADS = 2
WORKERS = 4
PORT = 8765
# What the mix's writes are named by, so that they can be taken out again before every run.
LOAD_GROUP = "Load class"
LOAD_ACTIVITY = "Load ride-along"

LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"non_2xx_3xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,'
    .. '"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"mean_ms":%.2f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


def lua_script(requests: list[tuple[str, str, dict, str | None]]) -> str:
    """A wrk script that cycles through ``requests`` (method, path, headers, body), each thread
    starting at a different place."""

    def quote(text):
        return json.dumps(text)  # a JSON string is a valid Lua string literal here

    lines = ["local requests = {}"]
    for i, (method, path, headers, body) in enumerate(requests, start=1):
        header_table = "{" + ", ".join(f"[{quote(k)}]={quote(v)}" for k, v in headers.items()) + "}"
        lines.append(
            f"requests[{i}] = wrk.format({quote(method)}, {quote(path)}, {header_table}, "
            f"{quote(body) if body is not None else 'nil'})"
        )
    lines += [
        "local counter = 0",
        "local threads = 0",
        "setup = function(thread) thread:set('start', threads * 7); threads = threads + 1 end",
        "init = function(args) counter = tonumber(start) or 0 end",
        "request = function() counter = counter + 1; return requests[(counter % #requests) + 1] end",
        LUA_DONE,
    ]
    return "\n".join(lines)


def run_wrk(script: str, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{THREADS}",
                f"-c{CONNECTIONS}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                path,
                f"http://127.0.0.1:{PORT}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    line = next(line for line in out.splitlines() if line.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    return result


def start_server(engine: str, size: int, **extra_env) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": common.database_url(engine, size),
        "CACHE_URL": common.cache_url(engine, size),
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "false",
        **extra_env,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=common.ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not answer /healthz")


def stop_server(server: subprocess.Popen):
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def plan(engine: str, size: int) -> dict:
    """The targets: (role, requests) for each, with signed-in sessions of the busiest users."""
    common.setup(engine, size)
    from django.db.models import Count
    from django.utils import timezone

    from internships.models import Placement
    from partnerships.models import Agreement
    from programs.models import Session

    users = common.busiest_users()
    csrf = secrets.token_hex(16)

    def headers(role, **extra):
        return {"Cookie": f"sessionid={cookies[role]}; csrftoken={csrf}", **extra}

    cookies = {role: common.session_cookie(user) for role, user in users.items()}
    coordinator = users["coordinator"]
    agency = coordinator.memberships.get().organization
    school = users["staff"].memberships.get().organization
    agreement = (
        Agreement.objects.filter(lead_agency=agency, status="active")
        .annotate(n=Count("programs__sessions"))
        .order_by("-n", "pk")
        .first()
    )

    fullest_program = (
        Session.objects.values("program").annotate(n=Count("pk")).order_by("-n", "program").first()["program"]
    )

    def get(role, path):
        return [("GET", path, headers(role), None)]

    targets = {
        "ceiling": get("coordinator", f"/bench/ceiling/?pk={agency.pk}"),
        "list floor": get("staff", f"/bench/list-floor/?program={fullest_program}"),
        "coordinator dashboard": get("coordinator", "/home/"),
        "agreement report": get("coordinator", f"/agreements/{agreement.pk}/report/"),
        "bookings list": get("staff", "/bookings/"),
        "applications pipeline": get("coordinator", "/applications/"),
        "session catalog": get("staff", "/workshops/"),
        "API sessions": get("staff", "/api/v1/sessions/"),
        "API bookings": get("staff", "/api/v1/bookings/"),
        "API applications": get("coordinator", "/api/v1/applications/"),
    }
    # The mix: the reads above in turn, and one write in ten: a booking by school staff on an
    # upcoming session of its agreements, or an intern's quarter hour on a past weekday.
    reads = [r for name, rs in targets.items() if name not in ("ceiling", "list floor") for r in rs]
    upcoming = list(
        Session.objects.filter(
            program__agreement__parties__organization=school,
            status="scheduled",
            starts_at__gt=timezone.now() + timedelta(days=4),
        )
        .order_by("starts_at")
        .values_list("pk", flat=True)[:50]
    )
    placement = Placement.objects.filter(student=users["intern"], status="active").first()
    today = timezone.localdate()
    days = [
        placement.start_date + timedelta(days=k)
        for k in range((min(today, placement.end_date) - placement.start_date).days)
        if (placement.start_date + timedelta(days=k)).weekday() < 5
    ]
    json_headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}
    writes = []
    for k in range(50):
        if k % 2 == 0 and upcoming:
            body = {
                "session": upcoming[k % len(upcoming)],
                "institution": school.pk,
                "group_name": f"{LOAD_GROUP} {k}",
                "seats": 1,
            }
            writes.append(("POST", "/api/v1/bookings/", headers("staff", **json_headers), json.dumps(body)))
        else:
            body = {
                "placement": placement.pk,
                "day": str(days[k % len(days)]),
                "hours": "0.25",
                "activity": LOAD_ACTIVITY,
            }
            writes.append(("POST", "/api/v1/hours/", headers("intern", **json_headers), json.dumps(body)))
    mix = []
    for k in range(450):
        mix.append(reads[k % len(reads)])
        if k % 9 == 8:
            mix.append(writes[(k // 9) % len(writes)])
    targets["mix, 10% writes"] = mix
    return targets


def forget_writes() -> dict:
    """Take out what earlier mixed runs wrote (their bookings, with the seats they took and the
    messages they queued, and their hours), so that every run starts from the state as built.
    Without it the runs drift: the upcoming sessions the mix books fill up during the first run,
    and the later runs only join waitlists, which renew fewer tables and leave more figures kept.
    Deletes through Django's connection, so the table cache's generations are renewed too."""
    from django.db import transaction
    from django.db.models import OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce

    from internships.models import HoursEntry
    from notifications.models import OutboundMessage
    from programs.enums import BookingStatus
    from programs.models import Booking, Session

    with transaction.atomic():
        made = Booking.objects.filter(group_name__startswith=f"{LOAD_GROUP} ")
        pks = list(made.values_list("pk", flat=True))
        sessions = set(made.values_list("session_id", flat=True))
        keys = [f"booking:{pk}:{kind}" for pk in pks for kind in ("confirmed", "waitlisted", "promoted")]
        messages = sum(
            OutboundMessage.objects.filter(dedupe_key__in=keys[i : i + 1000]).delete()[0]
            for i in range(0, len(keys), 1000)
        )
        bookings = made.delete()[0]
        seats = (
            Booking.objects.filter(session_id=OuterRef("pk"), status=BookingStatus.CONFIRMED)
            .order_by()
            .values("session_id")
            .annotate(total=Sum("seats"))
            .values("total")
        )
        Session.objects.filter(pk__in=sessions).update(confirmed_seats=Coalesce(Subquery(seats), 0))
        hours = HoursEntry.objects.filter(activity=LOAD_ACTIVITY).delete()[0]
    return {"bookings": bookings, "messages": messages, "hours": hours}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--engine", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="figures are the medians of this many runs")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk (bench/run does it)")

    targets = plan(args.engine, args.size)
    runs = []
    for _ in range(args.runs):
        print(f"  taken out before the run: {forget_writes()}", flush=True)
        runs.append(one_run(targets, args))
    forget_writes()
    results = {}
    for name in runs[0]["targets"]:
        measured = [run["targets"][name] for run in runs]
        results[name] = {
            **{key: statistics.median(r[key] for r in measured) for key in MEDIANS},
            # Each run's share is against the ceiling measured in that run.
            "share_of_ceiling": round(statistics.median(r["share_of_ceiling"] for r in measured), 3),
            **{key: sum(r[key] for r in measured) for key in COUNTS},
        }
    refused = {name: r["non_2xx_3xx"] for name, r in results.items() if r["non_2xx_3xx"]}
    if refused:
        print(f"WARNING: answers that were not 2xx/3xx: {refused}")
    ceiling = statistics.median(run["ceiling_rps"] for run in runs)
    data = {
        "engine": args.engine,
        "size": args.size,
        "seconds": args.seconds,
        "connections": CONNECTIONS,
        "workers": WORKERS,
        "runs": args.runs,
        "ceiling_rps": round(ceiling, 1),
        "targets": results,
        "each_run": runs,
        "machine": common.machine(),
    }
    common.write_result(f"load-{args.engine}-{args.size}", data)
    print(
        f"ceiling {ceiling:.1f} req/s (median of {args.runs} runs); "
        f"written bench/results/load-{args.engine}-{args.size}.json"
    )


def one_run(targets: dict, args) -> dict:
    """Every target once, the ceiling first and last, then the cached pages without the cache;
    each target's share is against the mean of this run's two ceilings."""
    results = {}

    def drive(name, requests):
        script = lua_script(requests)
        run_wrk(script, args.warmup)
        results[name] = r = run_wrk(script, args.seconds)
        print(
            f"  {name:<40} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  "
            f"p99 {r['p99_ms']:7.1f} ms  non-2xx {r['non_2xx_3xx']}",
            flush=True,
        )

    server = start_server(args.engine, args.size)
    try:
        for name in ["ceiling", *[t for t in targets if t != "ceiling"], "ceiling (again)"]:
            drive(name, targets["ceiling" if name == "ceiling (again)" else name])
    finally:
        stop_server(server)
    # The dashboard, the report and the pages of the sessions and bookings API above come from the
    # table cache after the warm-up, as they do for a reader who asks for them again before
    # anything they show has changed (the mix's writes change them). What computing them costs,
    # on every request, is measured with the cache turned off.
    server = start_server(args.engine, args.size, TABLE_CACHE_SECONDS="0")
    try:
        for name in COMPUTED:
            drive(f"{name}, computed afresh", targets[name])
    finally:
        stop_server(server)
    ceiling = statistics.mean([results["ceiling"]["rps"], results["ceiling (again)"]["rps"]])
    for r in results.values():
        r["share_of_ceiling"] = round(r["rps"] / ceiling, 3)
    print(f"  run: ceiling {ceiling:.1f} req/s", flush=True)
    return {"ceiling_rps": round(ceiling, 1), "targets": results}


if __name__ == "__main__":
    main()

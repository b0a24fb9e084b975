"""Where one request's time goes: SQL against Python, and the functions that cost most.

    uv run python bench/hotspots.py --size 1 --role coordinator /home/
    uv run python bench/hotspots.py --size 1 --role staff /api/v1/sessions/ --top 30
    uv run python bench/hotspots.py --size 1 --role coordinator /home/ --computed   # without the table cache

The request runs in this process through Django's test client, signed in as the busiest user of
``--role`` (as the load test does), ``--repeat`` times after one warm-up. It prints the median
wall time, the number of queries and the time spent in the database driver, the slowest
queries, and then cProfile's functions by cumulative and own time. A tool for finding what to
fix; the figures to report come from ``load.py``.
"""

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--role", default="coordinator")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--plans", action="store_true", help="split each SELECT's time into planning and execution")
    parser.add_argument("--computed", action="store_true", help="without the table cache: every request computes")
    args = parser.parse_args()

    common.setup(args.engine, args.size)
    if args.computed:
        from django.conf import settings

        settings.TABLE_CACHE_SECONDS = 0
    from django.db import connection
    from django.test import Client

    user = common.busiest_users()[args.role]
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = common.session_cookie(user)

    queries = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - start, sql, params))

    response = client.get(args.path)
    assert response.status_code == 200, response.status_code
    plain = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        client.get(args.path)
        plain.append(time.perf_counter() - start)
    print(f"{args.path} as {args.role}: {statistics.median(plain) * 1000:.1f} ms median without the profiler")
    walls, sql_times, counts = [], [], []
    profiler = cProfile.Profile()
    with connection.execute_wrapper(timed):
        for _ in range(args.repeat):
            queries.clear()
            start = time.perf_counter()
            profiler.enable()
            client.get(args.path)
            profiler.disable()
            walls.append(time.perf_counter() - start)
            sql_times.append(sum(t for t, *_ in queries))
            counts.append(len(queries))
    wall, sql = statistics.median(walls) * 1000, statistics.median(sql_times) * 1000
    print(
        f"under the profiler: {wall:.1f} ms median, {counts[-1]} queries, {sql:.1f} ms in SQL, "
        f"{wall - sql:.1f} ms in Python"
    )
    for seconds, text, _ in sorted(queries, key=lambda q: q[0], reverse=True)[:8]:
        print(f"  {seconds * 1000:7.2f} ms  {text[:220]}")
    if args.plans and connection.vendor == "postgresql":
        timings = []
        with connection.cursor() as cursor:
            for _, text, params in queries:
                if not text.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + text, params)
                plan = cursor.fetchone()[0][0]
                timings.append((plan["Planning Time"], plan["Execution Time"], text))
        planning, execution = sum(t[0] for t in timings), sum(t[1] for t in timings)
        print(f"SELECTs: {planning:.1f} ms planning, {execution:.1f} ms execution (one request, EXPLAIN ANALYZE)")
        for plan_ms, exec_ms, text in sorted(timings, key=lambda t: t[0] + t[1], reverse=True)[:8]:
            print(f"  {plan_ms:6.2f} + {exec_ms:6.2f} ms  {text[:200]}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()

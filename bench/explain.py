"""The slowest queries behind the pages the load test drives, with their plans.

    uv run python bench/explain.py --size 1 --label before     # bench/results/explain-before.md
    uv run python bench/explain.py --size 1 --label after

Every SELECT the targets of bench/load.py run (as the same busiest users, at the given size
on PostgreSQL) is run again under EXPLAIN (ANALYZE, BUFFERS), three times; the median
execution time ranks them, and the plans of the --top slowest are written out, so an index
added for one of them can be shown with its plan before and after.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--label", default="now")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()

    from bench import load

    targets = load.plan("postgres", args.size)
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seen = {}
    for name, requests in targets.items():
        if name == "ceiling" or name.startswith("mix"):
            continue
        method, path, headers, _ = requests[0]
        session_key = headers["Cookie"].split("sessionid=")[1].split(";")[0]
        user = get_user_model().objects.get(pk=SessionStore(session_key=session_key)["_auth_user_id"])
        client = Client()
        client.force_login(user)
        client.get(path)
        cache.clear()  # the queries that compute the page, not the table cache's few
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        for query in queries.captured_queries:
            sql = query["sql"]
            if sql.lstrip().upper().startswith("SELECT") and "django_session" not in sql:
                seen.setdefault(sql, name)

    timed = []
    with connection.cursor() as cursor:
        for sql, name in seen.items():
            runs = []
            plan = None
            for _ in range(3):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {sql}")
                lines = [row[0] for row in cursor.fetchall()]
                runs.append(float(next(line for line in lines if line.startswith("Execution Time")).split()[2]))
                plan = lines
            timed.append((statistics.median(runs), name, sql, plan))
    timed.sort(key=lambda t: -t[0])
    out = [
        f"# Slowest queries ({args.label}), PostgreSQL, size 1/{args.size}",
        "",
        f"{len(timed)} distinct SELECTs behind {len(targets) - 2} load-test targets; median of 3 EXPLAIN ANALYZE runs.",
        "",
        "| ms | target | query |",
        "|---:|---|---|",
    ]
    for ms, name, sql, _ in timed[:10]:
        out.append(f"| {ms:.2f} | {name} | `{sql[:120].replace('|', '¦')}…` |")
    for ms, name, sql, plan in timed[: args.top]:
        out += ["", f"## {ms:.2f} ms — {name}", "", "```sql", sql, "```", "", "```", *plan, "```"]
    path = common.RESULTS / f"explain-{args.label}.md"
    path.write_text("\n".join(out) + "\n")
    print("\n".join(out[:16]))
    print(f"written {path}")


if __name__ == "__main__":
    main()

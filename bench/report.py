"""bench/results/README.md from the JSON the other scripts wrote: the machine, the goals with
their figures at full size, and every figure at 1/100, 1/10 and full size with its slope.

    uv run python bench/report.py

The slope is the exponent of growth on a log-log scale between the smallest and the largest
size measured: 0 means the figure does not change with the data, 1 that it grows in
proportion (a figure measured at 1/100 and the full state, y ∝ size^slope).
"""

import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

PAGES = ("coordinator dashboard", "agreement report", "bookings list", "applications pipeline", "session catalog")
API = ("API sessions", "API bookings", "API applications")


def load(name):
    path = common.RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def slope(values: dict) -> str:
    sizes = [s for s in common.SIZES if values.get(s)]
    if len(sizes) < 2:
        return "—"
    small, large = sizes[0], sizes[-1]
    if values[small] <= 0 or values[large] <= 0:
        return "—"
    return f"{math.log(values[large] / values[small]) / math.log(small / large):+.2f}"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def label(size):
    return "full" if size == 1 else f"1/{size}"


def main():
    out = ["# Benchmark results", ""]
    machine = None
    loads = {s: load(f"load-postgres-{s}") for s in common.SIZES}
    backgrounds = {s: load(f"background-postgres-{s}") for s in common.SIZES}
    datasets = {s: load(f"dataset-postgres-{s}") for s in common.SIZES}
    for found in [*loads.values(), *backgrounds.values()]:
        if found and found.get("machine"):
            machine = found["machine"]
    if machine:
        out += [
            f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
            f"PostgreSQL {machine['postgresql']}, SQLite {machine['sqlite']}, Python {machine['python']}, "
            f"Linux {machine['kernel']}. gunicorn, PostgreSQL and the load generator share the machine.",
            "",
        ]
    out += ["## Dataset", "", "| size | rows | build s |", "|---|---:|---:|"]
    for size, data in datasets.items():
        if data:
            out.append(f"| {label(size)} | {sum(data['rows'].values()):,} | {data['seconds']} |")

    full = loads.get(1)
    if full:
        t = full["targets"]
        out += ["", "## Goals at full size", "", "| goal | figure | met |", "|---|---|---|"]
        for name in API:
            share = t[name]["share_of_ceiling"]
            figure = f"{share:.0%} ({t[name]['rps']} of {full['ceiling_rps']} req/s)"
            if computed := t.get(f"{name}, computed afresh"):
                figure += f", the page kept; computed afresh {computed['share_of_ceiling']:.0%}"
            out.append(f"| {name} ≥ 50 % of the ceiling | {figure} | {yes(share >= 0.5)} |")
        for name in ("coordinator dashboard", "agreement report"):
            share = t[name]["share_of_ceiling"]
            out.append(
                f"| {name} ≥ 25 % of the ceiling | {share:.0%} ({t[name]['rps']} req/s) | {yes(share >= 0.25)} |"
            )
        for name in (*PAGES, *API, "mix, 10% writes"):
            p95 = t[name]["p95_ms"]
            out.append(f"| {name}: p95 < 250 ms at 8 clients | {p95:.0f} ms | {yes(p95 < 250)} |")
        if "list floor" in t:
            floor = t["list floor"]
            out.append(
                f"| (reference) the list floor: a plain DRF list of 25 rows | {floor['share_of_ceiling']:.0%} "
                f"({floor['rps']} req/s, p95 {floor['p95_ms']:.0f} ms) | – |"
            )
        for name in ("coordinator dashboard", "agreement report", "API sessions", "API bookings"):
            computed = t.get(f"{name}, computed afresh")
            if computed:
                out.append(
                    f"| (reference) {name} computed on every request, without the table cache | "
                    f"{computed['share_of_ceiling']:.0%} ({computed['rps']} req/s, p95 {computed['p95_ms']:.0f} ms) | – |"
                )
        errors = sum(r["non_2xx_3xx"] + r["timeout"] for r in t.values())
        out.append(f"| no errors under load | {errors} non-2xx/timeouts | {yes(errors == 0)} |")
    bg = backgrounds.get(1)
    if bg:
        scan, deliver = bg["scan"], bg["deliver"]
        out.append(
            f"| reminder scan of 100,000 < 60 s | {scan['seconds']} s ({scan['reminders']:,} rows) | {yes(scan['seconds'] < 60)} |"
        )
        out.append(
            f"| scan worker peak RSS < 300 MB | {scan['peak_rss_mib']} MiB | {yes(scan['peak_rss_mib'] < 300)} |"
        )
        out.append(
            f"| outbox delivery ≥ 80 % of a bare send loop | {deliver['ratio']:.0%} ({deliver['outbox_per_second']} vs {deliver['bare_per_second']} msg/s) | {yes(deliver['ratio'] >= 0.8)} |"
        )
    queries = common.RESULTS / "queries-postgres.md"
    if queries.exists():
        text = queries.read_text()
        changed = text.count("⚠")
        out.append(
            f"| query counts flat for every page and endpoint | {changed} (route, role) pairs changed with size ([table](queries-postgres.md)) | {yes(changed == 0)} |"
        )

    if any(loads.values()):
        out += ["", "## Load: requests/s and p95 by size (8 connections, 4 gunicorn workers)", ""]
        sizes = [s for s in common.SIZES if loads.get(s)]
        out.append(
            "| target | "
            + " | ".join(f"{label(s)} req/s" for s in sizes)
            + " | slope | "
            + " | ".join(f"{label(s)} p50/p95/p99 ms" for s in sizes)
            + " | share of ceiling (full) |"
        )
        out.append("|---|" + "---:|" * len(sizes) + "---:|" + "---:|" * len(sizes) + "---:|")
        names = list(loads[sizes[-1]]["targets"])
        for name in names:
            # A target added after a size was last measured has no figure at that size.
            rps = {s: loads[s]["targets"][name]["rps"] for s in sizes if name in loads[s]["targets"]}
            lat = [loads[s]["targets"].get(name) for s in sizes]
            out.append(
                f"| {name} | "
                + " | ".join(str(rps.get(s, "–")) for s in sizes)
                + f" | {slope(rps)} | "
                + " | ".join(f"{r['p50_ms']:.0f}/{r['p95_ms']:.0f}/{r['p99_ms']:.0f}" if r else "–" for r in lat)
                + f" | {loads[sizes[-1]]['targets'][name]['share_of_ceiling']:.0%} |"
            )
        runs = {loads[s].get("runs", 1) for s in sizes}
        out += [
            "",
            f"Each figure is the median of {'/'.join(str(r) for r in sorted(runs))} runs of every target; "
            "a share of the ceiling is taken against the ceiling of its own run.",
        ]
        days = {s: common.measured_on(f"load-postgres-{s}") for s in sizes}
        out += [
            "",
            "Measured on: " + ", ".join(f"{label(s)} {day}" for s, day in days.items()) + ".",
        ]
        if len(set(days.values())) > 1:
            out.append(
                "The sizes were measured on different days, and this machine's speed differs from day to day "
                "(the ceiling with them): compare each target's share of the ceiling across sizes, and read a "
                "slope in requests/s only between sizes measured on the same day."
            )
    if any(backgrounds.values()):
        sizes = [s for s in common.SIZES if backgrounds.get(s)]
        out += [
            "",
            "## Background work by size",
            "",
            "| figure | " + " | ".join(label(s) for s in sizes) + " | slope |",
            "|---|" + "---:|" * (len(sizes) + 1),
        ]
        rows = [
            ("reminders due", "scan", "reminders"),
            ("scan seconds", "scan", "seconds"),
            ("scan rows/s", "scan", "per_second"),
            ("scan queries", "scan", "queries"),
            ("scan queries per 1,000 rows", "scan", "queries_per_1000_rows"),
            ("scan peak RSS MiB", "scan", "peak_rss_mib"),
            ("second scan wrote", "scan", "second_run_wrote"),
            ("outbox messages", "deliver", "messages"),
            ("outbox msg/s", "deliver", "outbox_per_second"),
            ("bare send_messages msg/s", "deliver", "bare_per_second"),
            ("outbox / bare", "deliver", "ratio"),
            ("sessions surveyed", "surveys", "sessions"),
            ("surveys generated", "surveys", "surveys"),
            ("survey generation seconds", "surveys", "seconds"),
            ("survey generation queries", "surveys", "queries"),
        ]
        for title, part, key in rows:
            values = {s: backgrounds[s][part][key] for s in sizes}
            out.append(
                f"| {title} | "
                + " | ".join(f"{values[s]:,}" if isinstance(values[s], int) else str(values[s]) for s in sizes)
                + f" | {slope(values)} |"
            )
    sqlite_loads = {s: load(f"load-sqlite-{s}") for s in common.SIZES}
    sqlite_queries = common.RESULTS / "queries-sqlite.md"
    if any(sqlite_loads.values()) or sqlite_queries.exists():
        out += ["", "## SQLite (the embedded default)", ""]
        if sqlite_queries.exists():
            found = re.search(r"\d+ \(route, role\) pairs, \d+ grew with the data", sqlite_queries.read_text())
            out += [
                f"Query counts at 1/100 and 1/10: {found.group(0) if found else '—'} ([table](queries-sqlite.md)).",
                "",
            ]
        sizes = [s for s in common.SIZES if sqlite_loads.get(s)]
        if sizes:
            out.append("| target | " + " | ".join(f"{label(s)} req/s, p95 ms" for s in sizes) + " | share of ceiling |")
            out.append("|---|" + "---:|" * (len(sizes) + 1))
            for name in sqlite_loads[sizes[-1]]["targets"]:
                cells = [sqlite_loads[s]["targets"][name] for s in sizes]
                out.append(
                    f"| {name} | "
                    + " | ".join(f"{c['rps']}, {c['p95_ms']:.0f}" for c in cells)
                    + f" | {cells[-1]['share_of_ceiling']:.0%} |"
                )
    for label_ in ("before", "after"):
        path = common.RESULTS / f"explain-{label_}.md"
        if path.exists():
            out += [
                "",
                f"EXPLAIN of the slowest queries {label_} the scope rewrites: [explain-{label_}.md](explain-{label_}.md)",
            ]
    (common.RESULTS / "README.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()

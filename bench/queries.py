"""Query bounds: every page and every API list/detail endpoint, for the busiest user of each
role, counted at each size of the dataset. The counts must not grow with the data.

    uv run python bench/queries.py --engine postgres --size 100    # count on one size (JSON)
    uv run python bench/queries.py --engine postgres --compare     # table of 100/10/1; exit 1 on growth

Each route is requested twice by the same signed-in user and the second request is counted
(the first pays for the session and the language cookie). A list page is counted for every
role it answers 200 to; a detail page on the busiest object of its kind that the user can see
(the agreement with most sessions, the session with most bookings, ...); an API detail on the
first row of the same user's list. Every route of the product must be counted or named in
SKIPPED with its reason, so a new page cannot slip past the benchmark.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

# Routes not counted, and why.
SLOWEST = 15  # pairs listed by time at the end of a count
SKIPPED = {
    "landing": "redirects a signed-in person to home/",
    "healthz": "no user data: one SELECT 1",
    "set_language": "POST only",
    "bench-ceiling": "the load test's ceiling, not a product page",
    "api-schema": "the OpenAPI document: no data",
    "api-docs": "static Swagger UI page",
    "api-redoc": "static ReDoc page",
    "partnerships:document_download": "streams an uploaded file; the dataset has no files",
    "internships:consent_scan": "streams an uploaded file; the dataset has no files",
}
# Token links answer 302 to the page that holds the token in the session; both are counted.
TOKEN_PAGES = {
    "internships:consent_open": "internships:consent_respond",
    "evaluations:survey_open": "evaluations:survey_respond",
    "accounts:invitation_open": "accounts:invitation_accept",
}
# Pages that change something: counted through their GET form where they have one.
POST_ONLY = re.compile(
    r"(_create|_edit|_delete|_approve|_cancel|_book|_reschedule|_submit|_withdraw|_review|_schedule|_decline|"
    r"_accept|_reject|_offer|_interview|_close|_publish|_activate|_suspend|_resume|_end|_revoke|_remove|"
    r"_complete|_import|_add|_return|_correct|_request_again|_action|_upload|_deactivate|_reactivate|_record)$"
)


def routes():
    """Every named route of the product: (name, pattern, has_args)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if "allauth" in str(p.urlconf_name) or (p.app_name == "admin"):
                    continue
                ns = namespace + (f"{p.namespace}:" if p.namespace else "")
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name:
                pattern = prefix + str(p.pattern)
                if "(?P<format>" in pattern:
                    continue
                yield namespace + p.name, pattern

    return sorted(set(walk(get_resolver().url_patterns)))


def pick_objects(users):
    """The busiest object of each kind that the user who opens it can see."""
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import Invitation
    from accounts.services import hash_token
    from evaluations.enums import TextReview
    from evaluations.models import Answer, Survey, SurveyInvitation
    from internships.enums import ConsentStatus
    from internships.models import Application, GuardianConsent, Placement, Posting
    from partnerships.models import Agreement, Meeting
    from programs import services as program_services
    from programs.models import Booking, Program, Session, SessionRequest

    coordinator, staff, officer = users["coordinator"], users["staff"], users["officer"]
    agency = coordinator.memberships.get().organization
    school = staff.memberships.get().organization
    agreement = (
        Agreement.objects.filter(lead_agency=agency, status="active")
        .annotate(n=Count("programs__sessions"))
        .order_by("-n", "pk")
        .first()
    )
    session = (
        Session.objects.filter(program__agreement=agreement).annotate(n=Count("bookings")).order_by("-n", "pk").first()
    )
    survey = (
        Survey.objects.filter(agreement=agreement, session__isnull=False)
        .annotate(n=Count("responses"))
        .order_by("-n", "pk")
        .first()
    )
    staff_survey = (
        Survey.objects.filter(session__bookings__institution=school, template__audience="students")
        .order_by("-opened_at", "pk")
        .first()
    )
    posting = Posting.objects.filter(agency=agency).annotate(n=Count("applications")).order_by("-n", "pk").first()
    mentor_placement = (
        Placement.objects.filter(mentor=users["mentor"]).annotate(n=Count("hours")).order_by("-n", "pk").first()
    )
    intern_placement = Placement.objects.filter(student=users["intern"], status="active").first()
    # The token pages need a live token of the dataset's own kind.
    survey_token, consent_token = "bench-survey-token-" + "x" * 30, "bench-consent-token-" + "y" * 30
    # Idempotent: a second run finds the rows the first one prepared.
    invitation = (
        SurveyInvitation.objects.filter(token_hash=hash_token(survey_token)).first()
        or SurveyInvitation.objects.filter(used_on__isnull=True, user__isnull=True).order_by("-pk").first()
    )
    invitation.token_hash = hash_token(survey_token)
    invitation.save(update_fields=["token_hash"])
    Survey.objects.filter(pk=invitation.survey_id).update(status="open", closes_at=timezone.now() + timedelta(days=7))
    join_token = "bench-join-token-" + "z" * 30
    Invitation.objects.filter(organization=agency).update(token_hash=hash_token(join_token))
    consent = (
        GuardianConsent.objects.filter(token_hash=hash_token(consent_token)).first()
        or GuardianConsent.objects.filter(status=ConsentStatus.GRANTED).order_by("pk").first()
    )
    consent_placement = consent.placement
    consent_placement.status = "pending"
    consent_placement.save(update_fields=["status"])
    consent.status, consent.token_hash = ConsentStatus.PENDING, hash_token(consent_token)
    consent.expires_at = timezone.now() + timedelta(days=7)
    consent.save(update_fields=["status", "token_hash", "expires_at"])
    feed_token = program_services.issue_feed_token(user=officer)
    pending_text = (
        Answer.objects.filter(response__survey__agreement=agreement, review=TextReview.PENDING).order_by("pk").first()
    )
    return {
        "accounts:organization_detail": ("coordinator", [agency.pk]),
        "accounts:invitation_create": ("coordinator", [agency.pk]),
        "partnerships:agreement_detail": ("coordinator", [agreement.pk]),
        "partnerships:agreement_versions": ("coordinator", [agreement.pk]),
        "partnerships:meeting_detail": ("coordinator", [Meeting.objects.filter(agreement=agreement).first().pk]),
        "partnerships:meeting_minutes": ("coordinator", [Meeting.objects.filter(agreement=agreement).first().pk]),
        "programs:program_detail": (
            "coordinator",
            [Program.objects.filter(agreement=agreement).annotate(n=Count("sessions")).order_by("-n").first().pk],
        ),
        "programs:request_create": (
            "staff",
            [Program.objects.filter(agreement__parties__organization=school).first().pk],
        ),
        "programs:session_detail": ("coordinator", [session.pk]),
        "programs:session_capacity": ("coordinator", [session.pk]),
        "programs:session_attendance": ("coordinator", [session.pk]),
        "programs:session_ics": ("staff", [Booking.objects.filter(institution=school).first().session_id]),
        "programs:request_detail": (
            "coordinator",
            [SessionRequest.objects.filter(program__agreement__lead_agency=agency).order_by("pk").first().pk],
        ),
        "programs:calendar_manage": (
            "school_coordinator",
            [users["school_coordinator"].memberships.get().organization_id],
        ),
        "programs:feed": ("anonymous", [feed_token]),
        "internships:posting_detail": ("coordinator", [posting.pk]),
        "internships:application_detail": (
            "coordinator",
            [Application.objects.filter(posting=posting).order_by("pk").first().pk],
        ),
        "internships:placement_detail": ("mentor", [mentor_placement.pk]),
        "internships:placement_mentor": ("coordinator", [Placement.objects.filter(posting__agency=agency).first().pk]),
        "internships:consent_name_guardian": ("school_coordinator", [consent_placement.pk]),
        "internships:consent_paper": ("school_coordinator", [consent_placement.pk]),
        "internships:hours_log": ("intern", [intern_placement.pk]),
        "internships:consent_open": ("anonymous", [consent_token]),
        "evaluations:agreement_home": ("coordinator", [agreement.pk]),
        "evaluations:measurement_list": ("coordinator", [agreement.pk]),
        "evaluations:report": ("coordinator", [agreement.pk]),
        "evaluations:report_csv": ("coordinator", [agreement.pk]),
        "evaluations:survey_detail": ("coordinator", [survey.pk]),
        "evaluations:survey_csv": ("coordinator", [survey.pk]),
        "evaluations:distribution": (
            "staff",
            [staff_survey.pk, Booking.objects.filter(session=staff_survey.session, institution=school).first().pk]
            if staff_survey
            else None,
        ),
        "evaluations:group_consent": (
            "staff",
            [staff_survey.pk, Booking.objects.filter(session=staff_survey.session, institution=school).first().pk]
            if staff_survey
            else None,
        ),
        "evaluations:review_answer": ("school_coordinator", [pending_text.pk] if pending_text else None),
        "evaluations:survey_open": ("anonymous", [survey_token]),
        "accounts:invitation_open": ("anonymous", [join_token]),
    }


def count(engine: str, size: int) -> dict:
    common.setup(engine, size)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # the test client then sees each response's template context
    users = common.busiest_users()
    picks = pick_objects(users)
    clients = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        clients[role] = client
    clients["anonymous"] = Client()

    from django.core.cache import cache

    def measure(client, url):
        client.get(url)
        # Counted as computed, not as the table cache serves it on a second look: the home's and
        # the report's figures must cost the same number of queries whatever the data.
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            measure.ms = round((time.perf_counter() - start) * 1000, 1)
        measure.rows = rows_of(response)
        return response.status_code, len(queries)

    def rows_of(response):
        """How many rows the list behind the response has (None when it is not a list)."""
        page = (response.context or {}).get("page") if hasattr(response, "context") and response.context else None
        if page is not None and hasattr(page, "paginator"):
            return page.paginator.count
        if response.get("Content-Type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and "count" in body:
                return body["count"]
        return None

    results, unknown, post_only = [], [], []
    for name, pattern in routes():
        if name in SKIPPED:
            continue
        has_args = "<" in pattern or "(?P<" in pattern
        if name.startswith("api:"):
            continue
        if not has_args:
            for role, client in clients.items():
                if role == "anonymous":
                    continue
                status, n = measure(client, reverse(name))
                if status == 200:
                    results.append({"route": name, "role": role, "queries": n, "rows": measure.rows, "ms": measure.ms})
            continue
        if name not in picks:
            if POST_ONLY.search(name):
                continue
            unknown.append(name)
            continue
        role, args = picks[name]
        if args is None:
            unknown.append(f"{name} (no object in this dataset)")
            continue
        if name in TOKEN_PAGES:
            # A fresh browser per token page: the first GET moves the token into the session.
            client = Client()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(name, args=args))
            results.append({"route": name, "role": role, "queries": len(queries)})
            follow = TOKEN_PAGES[name]
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(follow))
            if response.status_code == 200:
                results.append({"route": follow, "role": role, "queries": len(queries)})
            else:
                unknown.append(f"{follow} answered {response.status_code}")
            continue
        status, n = measure(clients[role], reverse(name, args=args))
        if status == 405:
            post_only.append(name)
            continue
        if status != 200:
            unknown.append(f"{name} answered {status} to {role}")
            continue
        results.append({"route": name, "role": role, "queries": n, "rows": measure.rows, "ms": measure.ms})

    # The API: every list for every role it answers, and the detail of the first row.
    for name, _pattern in routes():
        if not name.startswith("api:") or name in SKIPPED:
            continue
        if name.endswith("-list") or name == "api:me":
            for role, client in clients.items():
                if role == "anonymous":
                    continue
                url = reverse(name)
                status, n = measure(client, url)
                if status != 200:
                    continue
                results.append({"route": name, "role": role, "queries": n, "rows": measure.rows, "ms": measure.ms})
                body = client.get(url).json()
                rows = body.get("results") if isinstance(body, dict) else None
                detail = name.removesuffix("-list") + "-detail"
                if rows and "id" in rows[0] and detail in dict(routes()):
                    status, n = measure(client, reverse(detail, args=[rows[0]["id"]]))
                    if status == 200:
                        results.append({"route": detail, "role": role, "queries": n, "ms": measure.ms})
                    for action in ("results", "csv"):
                        extra = name.removesuffix("-list") + f"-{action}"
                        if extra in dict(routes()):
                            status, n = measure(client, reverse(extra, args=[rows[0]["id"]]))
                            if status == 200:
                                results.append({"route": extra, "role": role, "queries": n, "ms": measure.ms})
    counted = {r["route"] for r in results}
    api_gets = {n for n, _ in routes() if n.startswith("api:") and (n.endswith(("-list", "-detail")) or n == "api:me")}
    unknown += sorted(f"{n} (no role could read it)" for n in api_gets - counted - set(SKIPPED))
    data = {"engine": engine, "size": size, "results": results, "not_counted": unknown, "post_only": post_only}
    common.write_result(f"queries-{engine}-{size}", data)
    print(f"{engine} 1/{size}: {len(results)} (route, role) pairs counted; not counted: {unknown or 'none'}")
    # One request each, in-process with the test client's template capture: a pointer to what
    # is slow, not a figure to report (load.py measures the load targets).
    slowest = sorted((r for r in results if "ms" in r), key=lambda r: r["ms"], reverse=True)[:SLOWEST]
    print(f"the {SLOWEST} slowest (one request each, in-process):")
    for r in slowest:
        print(f"  {r['ms']:8.1f} ms  {r['queries']:3d} queries  {r['route']} as {r['role']}")
    return data


def compare(engine: str) -> int:
    """The table across sizes. A count that rises with the data is growth and fails the run;
    a difference where one size's list is empty (no rows to show) is the shape of that user's
    data, not growth: it is marked and listed, and does not fail."""
    runs, rows = {}, {}
    for size in common.SIZES:
        path = common.RESULTS / f"queries-{engine}-{size}.json"
        if path.exists():
            found = json.loads(path.read_text())["results"]
            runs[size] = {(r["route"], r["role"]): r["queries"] for r in found}
            rows[size] = {(r["route"], r["role"]): r.get("rows") for r in found}
    sizes = sorted(runs, reverse=True)
    keys = sorted(set().union(*(runs[s] for s in sizes)))
    grew, shape = [], []
    lines = [
        f"| route | role | {' | '.join(f'1/{s}' if s != 1 else 'full' for s in sizes)} | rows (full) |",
        "|---|---|" + "---:|" * (len(sizes) + 1),
    ]
    for key in keys:
        values = [runs[s].get(key) for s in sizes]
        present = [(s, v) for s, v in zip(sizes, values, strict=True) if v is not None]
        flag = ""
        if len({v for _, v in present}) > 1:
            empty = any(rows[s].get(key) == 0 for s, _ in present)
            rising = any(b > a for (_, a), (_, b) in zip(present, present[1:], strict=False))
            if rising and not empty:
                grew.append((key, values))
                flag = " ⚠ grew"
            else:
                shape.append((key, values))
                flag = " · empty at one size" if empty else " · fewer"
        full_rows = rows[sizes[-1]].get(key)
        lines.append(
            f"| {key[0]} | {key[1]} | "
            + " | ".join("—" if v is None else str(v) for v in values)
            + f" | {'' if full_rows is None else full_rows} |{flag}"
        )
    table = "\n".join(lines)
    print(table)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / f"queries-{engine}.md").write_text(
        f"# Queries per request, {engine}\n\nThe second request of the same signed-in user, at 1/100, 1/10 and the "
        f"full state; rows: the list's total at full size. {len(keys)} (route, role) pairs, {len(grew)} grew with "
        f"the data, {len(shape)} differ only where one size's list is empty or smaller.\n\n{table}\n"
    )
    print(f"\n{len(keys)} (route, role) pairs; {len(grew)} grew with the data; {len(shape)} differ by shape")
    for key, values in grew:
        print(f"  GREW: {key}: {values}")
    return 1 if grew else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--size", type=int)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(args.engine))
    count(args.engine, args.size)


if __name__ == "__main__":
    main()

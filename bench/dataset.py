"""A state-wide dataset for the benchmark, built with bulk inserts.

    uv run python bench/dataset.py --engine postgres --size 1      # full: 60 agencies, 1,200 schools ...
    uv run python bench/dataset.py --engine postgres --size 10     # a tenth
    uv run python bench/dataset.py --engine sqlite --size 100      # a hundredth, embedded

``--size N`` builds 1/N of the full state (every count divided by N, at least one of each).
The database (``partnerships_bench_N`` on PostgreSQL, ``var/bench/bench-N.sqlite3`` for SQLite)
is dropped and made again with the product's migrations, so the built-in metrics and survey
templates are the real ones. Rows follow the product's rules: officers never facilitate two
sessions at once, confirmed seats never pass capacity, a student applies once per posting and
has at most one active placement, each survey belongs to a delivered session or a finished
placement, a response carries no key to a person. Everything is derived from the row numbers,
so two builds of one size are the same.
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

FULL = {
    "agencies": 60,
    "schools": 1200,
    "universities": 40,
    "agreements": 600,
    "sessions": 30000,
    "bookings": 150000,
    "postings": 6000,
    "applications": 60000,
    "placements": 3000,
    "hours": 250000,
    "surveys": 40000,
    "responses": 150000,
}
OFFICERS_PER_AGENCY = 10
STAFF_PER_SCHOOL = 2
BATCH = 5000
PASSWORD = "bench-partners-2026"


def counts(size: int) -> dict:
    return {name: max(1, round(full / size)) for name, full in FULL.items()}


def recreate_database(engine: str, size: int):
    url = common.database_url(engine, size)
    if engine == "postgres":
        name = url.rsplit("/", 1)[1]
        admin = f"{common.PG_SERVER}/postgres"
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class Timer:
    def __init__(self):
        self.start = time.perf_counter()
        self.steps = {}

    def step(self, name, rows):
        now = time.perf_counter()
        self.steps[name] = {"rows": rows, "seconds": round(now - self.start, 2)}
        print(f"  {name:<28} {rows:>10,} rows  {now - self.start:7.1f} s", flush=True)
        self.start = now


def bulk(model, objects):
    return model.objects.bulk_create(objects, batch_size=BATCH)


def build(size: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.enums import GradeLevel, OrganizationKind, Role
    from accounts.models import Membership, Organization, User
    from evaluations.enums import Audience, Direction, QuestionKind, Subject, SurveyStatus, TargetStatus, TextReview
    from evaluations.models import (
        Answer,
        Metric,
        Response,
        Snapshot,
        Survey,
        SurveyInvitation,
        SurveyTemplate,
        Target,
    )
    from internships.enums import (
        ApplicationStatus,
        CheckInStatus,
        ConsentMethod,
        ConsentStatus,
        HoursStatus,
        PlacementStatus,
        PostingStatus,
    )
    from internships.models import (
        Application,
        ApplicationTransition,
        CheckIn,
        Clearance,
        ClearanceKind,
        GuardianConsent,
        HoursEntry,
        Placement,
        Posting,
    )
    from partnerships.enums import (
        AgreementStatus,
        DataCategory,
        DataDirection,
        LawfulBasis,
        MeetingStatus,
        PartyRole,
        ResponsibilityKind,
    )
    from partnerships.models import (
        ActionItem,
        Agreement,
        AgreementParty,
        DataSharingTerm,
        Meeting,
        Objective,
        Responsibility,
        Signature,
    )
    from programs.enums import BookingStatus, GradeBand, LocationKind, SessionStatus, Topic
    from programs.models import Booking, Facilitation, Program, Session, Term

    n = counts(size)
    today = date.today()
    now = datetime.now(UTC)
    timer = Timer()
    password = make_password(PASSWORD)
    zone_hour = 14  # 9:00 or 10:00 in the eastern US, stored in UTC

    def day_at(day, hour=zone_hour, minute=0):
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    with transaction.atomic():
        # Organizations: agencies, districts of about 20 schools, schools, universities.
        districts = bulk(
            Organization,
            [
                Organization(name=f"District {i:03d}", kind=OrganizationKind.DISTRICT, region="State")
                for i in range(max(1, n["schools"] // 20))
            ],
        )
        agencies = bulk(
            Organization,
            [
                Organization(name=f"Agency {i:03d} Police Department", kind=OrganizationKind.AGENCY, region="State")
                for i in range(n["agencies"])
            ],
        )
        schools = bulk(
            Organization,
            [
                Organization(
                    name=f"School {i:04d}",
                    kind=OrganizationKind.K12_SCHOOL,
                    district=districts[i % len(districts)],
                    region="State",
                )
                for i in range(n["schools"])
            ],
        )
        universities = bulk(
            Organization,
            [
                Organization(name=f"University {i:03d}", kind=OrganizationKind.UNIVERSITY, region="State")
                for i in range(n["universities"])
            ],
        )
        timer.step("organizations", len(districts) + len(agencies) + len(schools) + len(universities))

        # People: an admin; per agency a coordinator and officers; per school a coordinator and
        # staff; per university a coordinator and one staff; students for the applications.
        users, memberships = [], []

        def person(kind, i, organization, role, **extra):
            user = User(
                email=f"{kind}{i}@bench.test",
                full_name=f"{kind.title()} {i}",
                password=password,
                **extra,
            )
            users.append(user)
            memberships.append((user, organization, role))
            return user

        admin = User(
            email="admin@bench.test", full_name="Bench Admin", password=password, is_staff=True, is_superuser=True
        )
        users.append(admin)
        agency_coordinator, officers_of = {}, {}
        for a, agency in enumerate(agencies):
            agency_coordinator[agency.pk] = person("coordinator-agency", a, agency, Role.COORDINATOR)
            officers_of[agency.pk] = [
                person("officer", a * OFFICERS_PER_AGENCY + k, agency, Role.OFFICER) for k in range(OFFICERS_PER_AGENCY)
            ]
        institutions = schools + universities
        staff_of, coordinator_of = {}, {}
        for s, institution in enumerate(institutions):
            coordinator_of[institution.pk] = person("coordinator-school", s, institution, Role.COORDINATOR)
            per = STAFF_PER_SCHOOL if institution.kind == OrganizationKind.K12_SCHOOL else 1
            staff_of[institution.pk] = [
                person("staff", s * STAFF_PER_SCHOOL + k, institution, Role.STAFF) for k in range(per)
            ]
        students_of = {institution.pk: [] for institution in institutions}
        student_count = max(1, n["applications"] // 3)
        for i in range(student_count):
            institution = institutions[i % len(institutions)]
            is_university = institution.kind != OrganizationKind.K12_SCHOOL
            # Ages 15 to 22 on today's date; K-12 students 15-18, university 18-22.
            age = 18 + i % 5 if is_university else 15 + i % 4
            born = date(today.year - age, 1 + i % 12, 1 + i % 28)
            students_of[institution.pk].append(person("student", i, institution, Role.STUDENT, birth_date=born))
        bulk(User, users)
        bulk(
            Membership,
            [
                Membership(
                    user=user,
                    organization=organization,
                    role=role,
                    grade_level=(
                        ""
                        if role != Role.STUDENT
                        else GradeLevel.UNIVERSITY
                        if organization.kind != OrganizationKind.K12_SCHOOL
                        else ["9", "10", "11", "12"][user.pk % 4]
                    ),
                )
                for user, organization, role in memberships
            ],
        )
        timer.step("users and memberships", len(users) + len(memberships))

        # Agreements: each agency leads agreements with about two schools each; every
        # fifteenth also with a university. Nine in ten are active.
        agreements, parties_of = [], {}
        per_agency = {}
        for i in range(n["agreements"]):
            agency = agencies[i % len(agencies)]
            per_agency[agency.pk] = per_agency.get(agency.pk, 0) + 1
            # Nine in ten of each agency's agreements are active; the tenth a draft or expired.
            turn = i // len(agencies)
            status = (
                AgreementStatus.ACTIVE
                if turn % 10 != 9
                else (AgreementStatus.DRAFT if i % 2 else AgreementStatus.EXPIRED)
            )
            starts = today - timedelta(days=560) if status != AgreementStatus.DRAFT else today + timedelta(days=30)
            ends = today - timedelta(days=10) if status == AgreementStatus.EXPIRED else starts + timedelta(days=3 * 365)
            agreements.append(
                Agreement(
                    title=f"MOU {i:04d}: {agency.name} and schools",
                    purpose="School safety workshops and internships.",
                    lead_agency=agency,
                    status=status,
                    starts_on=starts,
                    ends_on=ends,
                    review_on=starts + timedelta(days=2 * 365),
                    created_by=agency_coordinator[agency.pk],
                    activated_at=day_at(starts) if status == AgreementStatus.ACTIVE else None,
                )
            )
        bulk(Agreement, agreements)
        parties, schools_per = [], max(1, len(schools) // len(agreements))
        for i, agreement in enumerate(agreements):
            members = schools[(i * schools_per) % len(schools) : (i * schools_per) % len(schools) + schools_per]
            if i % 15 == 0:
                members = [*members, universities[(i // 15) % len(universities)]]
            lead = AgreementParty(
                agreement=agreement,
                organization=agreement.lead_agency,
                role=PartyRole.LEAD_AGENCY,
                contact=agency_coordinator[agreement.lead_agency_id],
            )
            others = [
                AgreementParty(
                    agreement=agreement, organization=m, role=PartyRole.INSTITUTION, contact=coordinator_of[m.pk]
                )
                for m in members
            ]
            parties.extend([lead, *others])
            parties_of[agreement.pk] = (lead, others)
        bulk(AgreementParty, parties)
        objectives, responsibilities, terms, signatures, items = [], [], [], [], []
        for agreement in agreements:
            lead, others = parties_of[agreement.pk]
            objectives.append(
                Objective(
                    agreement=agreement,
                    description="Deliver safety workshops in every partner school.",
                    measure="Sessions delivered",
                    target_on=agreement.ends_on,
                )
            )
            for party in (lead, *others):
                responsibilities.append(
                    Responsibility(
                        agreement=agreement, party=party, kind=ResponsibilityKind.ROLE, description="Duties."
                    )
                )
                if agreement.status != AgreementStatus.DRAFT:
                    signer = party.contact
                    signatures.append(
                        Signature(
                            agreement=agreement,
                            party=party,
                            signed_by=signer,
                            signer_name=signer.full_name,
                            signer_title="Chief" if party is lead else "Principal",
                            signed_at=day_at(agreement.starts_on) - timedelta(days=7),
                        )
                    )
            responsibilities.append(
                Responsibility(
                    agreement=agreement,
                    party=lead,
                    kind=ResponsibilityKind.SUPERVISION,
                    description="Chain of command.",
                )
            )
            for category in (DataCategory.DIRECTORY, DataCategory.CONTACT, DataCategory.PROGRAM):
                terms.append(
                    DataSharingTerm(
                        agreement=agreement,
                        category=category,
                        direction=DataDirection.SCHOOL_TO_AGENCY,
                        purpose="Internship placement",
                        lawful_basis=LawfulBasis.WRITTEN_CONSENT,
                        retention_days=365,
                    )
                )
            for k in range(3):
                items.append(
                    ActionItem(
                        agreement=agreement,
                        description=f"Follow-up {k}",
                        owner=lead.contact,
                        due_on=today + timedelta(days=30 * (k - 1)),
                    )
                )
        meetings = []
        for agreement in agreements:
            lead, _ = parties_of[agreement.pk]
            for k, status in enumerate((MeetingStatus.HELD, MeetingStatus.SCHEDULED)):
                meetings.append(
                    Meeting(
                        agreement=agreement,
                        starts_at=day_at(today + timedelta(days=60 * k - 45)),
                        location="Police headquarters",
                        agenda="Review the term's workshops.",
                        minutes="Reviewed; next steps agreed." if status == MeetingStatus.HELD else "",
                        status=status,
                        created_by=lead.contact,
                    )
                )
        bulk(Meeting, meetings)
        attendees = Meeting.attendees.through
        bulk(
            attendees,
            [
                attendees(meeting_id=m.pk, user_id=party.contact_id)
                for m in meetings
                for party in (parties_of[m.agreement_id][0], *parties_of[m.agreement_id][1])
            ],
        )
        for k, item in enumerate(items):
            item.meeting = meetings[(k // 3) * 2]
        bulk(Objective, objectives)
        bulk(Responsibility, responsibilities)
        bulk(DataSharingTerm, terms)
        bulk(Signature, signatures)
        bulk(ActionItem, items)
        timer.step("agreements and terms", len(agreements) + len(parties) + len(signatures) + len(terms))

        # Terms: each institution holds classes all year (sessions at a school fall inside one).
        bulk(
            Term,
            [
                Term(
                    institution=i,
                    name="Whole period",
                    starts_on=today - timedelta(days=600),
                    ends_on=today + timedelta(days=400),
                )
                for i in institutions
            ],
        )

        # Programs and sessions: five programs per agreement; sessions over two years, 540 days
        # back to 160 ahead. Each officer takes every tenth session of the agency, 14 days apart,
        # so no officer is ever in two sessions at once.
        topics, bands = list(Topic.values), [GradeBand.MIDDLE, GradeBand.HIGH, GradeBand.ALL]
        programs_of = {}
        program_rows = []
        for agreement in agreements:
            rows = [
                Program(
                    agreement=agreement,
                    title=f"{topics[(agreement.pk + k) % len(topics)].replace('_', ' ').title()} workshop {k}",
                    description="A 60-minute workshop for one class.",
                    topic=topics[(agreement.pk + k) % len(topics)],
                    grade_band=bands[k % len(bands)],
                    created_by=agency_coordinator[agreement.lead_agency_id],
                )
                for k in range(5)
            ]
            programs_of[agreement.pk] = rows
            program_rows.extend(rows)
        bulk(Program, program_rows)
        live_agreements = [a for a in agreements if a.status != AgreementStatus.DRAFT]
        first_day = today - timedelta(days=540)
        sessions, officer_of_session, host_of = [], [], []
        slot_of_agency = {}
        # Each officer's sessions are spread evenly over the 700 days, whatever the size.
        per_officer = -(-n["sessions"] // (len(agencies) * OFFICERS_PER_AGENCY))
        gap = max(1, 700 // per_officer)
        for i in range(n["sessions"]):
            agreement = live_agreements[i % len(live_agreements)]
            agency_pk = agreement.lead_agency_id
            slot = slot_of_agency.get(agency_pk, 0)
            slot_of_agency[agency_pk] = slot + 1
            officer = officers_of[agency_pk][slot % OFFICERS_PER_AGENCY]
            day = first_day + timedelta(days=(slot // OFFICERS_PER_AGENCY) * gap + slot % OFFICERS_PER_AGENCY)
            _, others = parties_of[agreement.pk]
            school = others[i % len(others)].organization
            starts = day_at(day)
            past = day < today
            status = (
                SessionStatus.SCHEDULED
                if not past
                else (SessionStatus.CANCELLED if i % 20 == 0 else SessionStatus.DELIVERED)
            )
            # One session in ten of each agreement is virtual (a join link, no school): the lists
            # then ask who may see links, as they do in a state that runs workshops online.
            virtual = (i // len(live_agreements)) % 10 == 7
            host_of.append(school)
            sessions.append(
                Session(
                    program=programs_of[agreement.pk][i % 5],
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    location_kind=LocationKind.VIRTUAL if virtual else LocationKind.SCHOOL,
                    school=None if virtual else school,
                    join_url=f"https://meet.bench.test/session-{i}" if virtual else "",
                    capacity_seats=30,
                    status=status,
                    created_by=agency_coordinator[agency_pk],
                )
            )
            officer_of_session.append(officer)
        bulk(Session, sessions)
        bulk(
            Facilitation,
            [
                Facilitation(
                    session=s,
                    officer=officer,
                    starts_at=s.starts_at,
                    ends_at=s.ends_at,
                    live=s.status != SessionStatus.CANCELLED,
                )
                for s, officer in zip(sessions, officer_of_session, strict=True)
            ],
        )
        timer.step("programs and sessions", len(program_rows) + 2 * len(sessions))

        # Bookings: five classes per session (four of 5 seats confirmed, a fifth of 12 that
        # waits for an upcoming session), from the session's school and its agreement's others.
        bookings = []
        per_session = max(1, n["bookings"] // len(sessions))
        for i, s in enumerate(sessions):
            confirmed = 0
            agreement_pk = s.program.agreement_id
            _, others = parties_of[agreement_pk]
            for k in range(per_session):
                institution = host_of[i] if k % 2 == 0 else others[(i + k) % len(others)].organization
                seats = 12 if k == 4 else 5
                if s.status == SessionStatus.CANCELLED:
                    status = BookingStatus.CANCELLED
                elif confirmed + seats <= s.capacity_seats and k < 4:
                    status = BookingStatus.CONFIRMED
                    confirmed += seats
                else:
                    status = (
                        BookingStatus.WAITLISTED if s.status == SessionStatus.SCHEDULED else BookingStatus.CANCELLED
                    )
                booked = s.starts_at - timedelta(days=20 - k)
                bookings.append(
                    Booking(
                        session=s,
                        institution=institution,
                        booked_by=staff_of[institution.pk][k % len(staff_of[institution.pk])],
                        group_name=f"Class {k + 1}",
                        grade="9",
                        seats=seats,
                        status=status,
                        confirmed_at=booked if status == BookingStatus.CONFIRMED else None,
                        waitlisted_at=booked if status == BookingStatus.WAITLISTED else None,
                        cancelled_at=s.starts_at - timedelta(days=3) if status == BookingStatus.CANCELLED else None,
                        attended_count=seats - 1
                        if status == BookingStatus.CONFIRMED and s.status == SessionStatus.DELIVERED
                        else None,
                    )
                )
            s.confirmed_seats = confirmed
        Session.objects.bulk_update(sessions, ["confirmed_seats"], batch_size=BATCH)
        bulk(Booking, bookings)
        timer.step("bookings", len(bookings))

        # Session requests: each school has asked for a workshop of one of its agreements.
        from programs.enums import RequestStatus
        from programs.models import SessionRequest

        requests = []
        for agreement in live_agreements:
            _, others = parties_of[agreement.pk]
            for k, party in enumerate(others):
                institution = party.organization
                requests.append(
                    SessionRequest(
                        program=programs_of[agreement.pk][k % 5],
                        institution=institution,
                        requested_by=staff_of[institution.pk][0],
                        window_starts_on=today + timedelta(days=20),
                        window_ends_on=today + timedelta(days=50),
                        preferred_start_time="09:00",
                        group_name="Grade 9",
                        seats=25,
                        status=RequestStatus.OPEN if k % 2 == 0 else RequestStatus.DECLINED,
                        decline_reason="" if k % 2 == 0 else "No officer free in that window.",
                    )
                )
        bulk(SessionRequest, requests)

        # Internships: postings per agreement; applications from the posting's institutions'
        # students, each with its recorded transitions; every other posting places its first
        # applicant, with a cleared mentor, guardian consent for minors, hours and check-ins.
        kinds = bulk(ClearanceKind, [ClearanceKind(agency=a, name="State background check") for a in agencies])
        kind_of = {k.agency_id: k for k in kinds}
        clearances = []
        for agency in agencies:
            for officer in officers_of[agency.pk]:
                clearances.append(
                    Clearance(
                        officer=officer,
                        kind=kind_of[agency.pk],
                        issued_on=today - timedelta(days=700),
                        expires_on=today + timedelta(days=30 + officer.pk % 400),
                        verified_by=agency_coordinator[agency.pk],
                    )
                )
        bulk(Clearance, clearances)
        postings = []
        active_agreements = [a for a in agreements if a.status == AgreementStatus.ACTIVE]
        for i in range(n["postings"]):
            agreement = active_agreements[i % len(active_agreements)]
            is_open = i % 2 == 1
            # Closed postings started 60 to 210 days ago and last 120 days: some placements
            # are still active, the others completed.
            start = today + timedelta(days=30) if is_open else today - timedelta(days=60 + (i // 2) % 150)
            postings.append(
                Posting(
                    agreement=agreement,
                    agency=agreement.lead_agency,
                    title=f"Community affairs intern {i}",
                    description="Help the community affairs unit.",
                    start_date=start,
                    end_date=start + timedelta(days=120),
                    hours_per_week=8,
                    required_hours=100,
                    slots=2,
                    apply_by=start - timedelta(days=10),
                    status=PostingStatus.OPEN if is_open else PostingStatus.CLOSED,
                    created_by=agency_coordinator[agreement.lead_agency_id],
                )
            )
        bulk(Posting, postings)
        through = Posting.institutions.through
        links = []
        for posting in postings:
            _, others = parties_of[posting.agreement_id]
            links.extend(through(posting_id=posting.pk, organization_id=p.organization_id) for p in others)
        bulk(through, links)

        applications, flows = [], []
        per_posting = max(1, n["applications"] // len(postings))
        placed_students = set()
        to_place = []
        pipeline = [
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.UNDER_REVIEW,
            ApplicationStatus.INTERVIEW,
            ApplicationStatus.OFFERED,
            ApplicationStatus.REJECTED,
            ApplicationStatus.WITHDRAWN,
            ApplicationStatus.UNDER_REVIEW,
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.REJECTED,
            ApplicationStatus.DECLINED,
        ]
        cursor = 0
        placements_wanted = n["placements"]
        for posting in postings:
            _, others = parties_of[posting.agreement_id]
            pool = [s for party in others for s in students_of[party.organization_id]]
            chosen = []
            for k in range(per_posting):
                if not pool:
                    break
                student = pool[(cursor + k) % len(pool)]
                if student in chosen:
                    break
                chosen.append(student)
            cursor += per_posting
            place_here = posting.status != PostingStatus.OPEN and len(to_place) < placements_wanted
            for k, student in enumerate(chosen):
                status = pipeline[k % len(pipeline)]
                if posting.status == PostingStatus.CLOSED and status in (
                    ApplicationStatus.SUBMITTED,
                    ApplicationStatus.UNDER_REVIEW,
                    ApplicationStatus.INTERVIEW,
                    ApplicationStatus.OFFERED,
                ):
                    status = ApplicationStatus.REJECTED
                if place_here and student.pk not in placed_students and not any(a == posting for a, _ in to_place[-1:]):
                    status = ApplicationStatus.ACCEPTED
                    placed_students.add(student.pk)
                institution_pk = next(m for m in others if student in students_of[m.organization_id]).organization_id
                application = Application(
                    posting=posting,
                    agency_id=posting.agency_id,
                    student=student,
                    institution_id=institution_pk,
                    statement="I want to serve my community.",
                    availability="Weekday afternoons",
                    status=status,
                    submitted_at=day_at(posting.apply_by) - timedelta(days=5 + k),
                )
                applications.append(application)
                if status == ApplicationStatus.ACCEPTED:
                    to_place.append((posting, application))
        bulk(Application, applications)
        order = [
            ApplicationStatus.DRAFT,
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.UNDER_REVIEW,
            ApplicationStatus.INTERVIEW,
            ApplicationStatus.OFFERED,
        ]
        for application in applications:
            at = application.submitted_at
            if application.status in order:
                path = order[: order.index(application.status) + 1]
            elif application.status in (ApplicationStatus.ACCEPTED, ApplicationStatus.DECLINED):
                path = [*order, application.status]
            else:
                path = [*order[:3], application.status]
            for before, after in zip(path, path[1:], strict=False):
                flows.append(
                    ApplicationTransition(
                        application=application,
                        from_status=before,
                        to_status=after,
                        by=application.student if after == ApplicationStatus.SUBMITTED else None,
                        at=at,
                    )
                )
                at += timedelta(days=2)
        bulk(ApplicationTransition, flows)
        timer.step("postings and applications", len(postings) + len(applications) + len(flows))

        placements = []
        for posting, application in to_place:
            student = application.student
            minor = student.age_on(posting.start_date) < 18
            ended = posting.end_date < today
            placements.append(
                Placement(
                    application=application,
                    posting=posting,
                    student=student,
                    mentor=officers_of[posting.agency_id][posting.pk % OFFICERS_PER_AGENCY],
                    start_date=posting.start_date,
                    end_date=posting.end_date,
                    required_hours=posting.required_hours,
                    status=PlacementStatus.COMPLETED if ended else PlacementStatus.ACTIVE,
                    needs_consent=minor,
                    ended_on=posting.end_date if ended else None,
                )
            )
        bulk(Placement, placements)
        bulk(
            GuardianConsent,
            [
                GuardianConsent(
                    placement=p,
                    guardian_name="A guardian",
                    status=ConsentStatus.GRANTED,
                    method=ConsentMethod.PAPER,
                    decided_at=day_at(p.start_date) - timedelta(days=3),
                    recorded_by=coordinator_of[p.application.institution_id],
                )
                for p in placements
                if p.needs_consent
            ],
        )
        hours, check_ins = [], []
        per_placement = max(1, n["hours"] // max(1, len(placements)))
        for p in placements:
            last = min(p.end_date, today - timedelta(days=1))
            span = max(1, (last - p.start_date).days)
            # Two entries on some days when the placement is young: the per-day cap is 24 h.
            days = [p.start_date + timedelta(days=(k * span) // per_placement) for k in range(per_placement)]
            for k, day in enumerate(days):
                recent = p.status == PlacementStatus.ACTIVE and k >= len(days) - 3
                hours.append(
                    HoursEntry(
                        placement=p,
                        day=day,
                        hours=Decimal("2.50"),
                        activity="Community outreach",
                        status=HoursStatus.SUBMITTED if recent else HoursStatus.APPROVED,
                        reviewed_by=None if recent else p.mentor,
                        reviewed_at=None if recent else day_at(day) + timedelta(days=1),
                    )
                )
            due = p.start_date + timedelta(days=14)
            while due <= p.end_date:
                held = due < today
                check_ins.append(
                    CheckIn(
                        placement=p,
                        due_on=due,
                        status=CheckInStatus.HELD if held else CheckInStatus.SCHEDULED,
                        held_on=due if held else None,
                        observable_setting=held,
                        recorded_by=p.mentor if held else None,
                    )
                )
                due += timedelta(days=14)
        bulk(HoursEntry, hours)
        bulk(CheckIn, check_ins)
        timer.step("placements, hours, check-ins", len(placements) + len(hours) + len(check_ins))

        # Surveys: each delivered session gets its staff and facilitator surveys (newest first,
        # up to the survey count) and each completed placement its two; each survey gets
        # invitations and, spread evenly, the responses with an answer to every question.
        # A state adds its own questions to the workshop templates (in the admin): three more each.
        from evaluations.models import Question

        own = [
            "The workshop fitted the age of the students.",
            "The facilitator answered questions well.",
            "I would book this workshop again.",
        ]
        for template in SurveyTemplate.objects.filter(subject=Subject.SESSION):
            last = template.questions.order_by("-position").first().position
            for k, text in enumerate(own, start=1):
                Question.objects.create(template=template, position=last + k, kind=QuestionKind.LIKERT, text=text)
        templates = {t.code: t for t in SurveyTemplate.objects.prefetch_related("questions")}
        session_templates = [t for t in templates.values() if t.subject == Subject.SESSION]
        placement_templates = [t for t in templates.values() if t.subject == Subject.PLACEMENT]
        delivered = sorted(
            (s for s in sessions if s.status == SessionStatus.DELIVERED), key=lambda s: s.starts_at, reverse=True
        )
        surveys = []
        for p in placements:
            if p.status == PlacementStatus.COMPLETED:
                for t in placement_templates:
                    surveys.append((t, p.posting.agreement_id, None, None, p, day_at(p.end_date)))
        for s in delivered:
            for t in session_templates:
                surveys.append((t, s.program.agreement_id, s.program, s, None, s.ends_at))
        surveys = surveys[: n["surveys"]]
        survey_rows = bulk(
            Survey,
            [
                Survey(
                    template=t,
                    agreement_id=agreement_pk,
                    program=program,
                    session=session,
                    placement=placement,
                    title=f"{t.name}: {(session or placement).pk}",
                    opened_at=opened,
                    closes_at=opened + timedelta(days=14),
                    status=SurveyStatus.CLOSED if opened + timedelta(days=14) < now else SurveyStatus.OPEN,
                )
                for t, agreement_pk, program, session, placement, opened in surveys
            ],
        )
        per_survey = n["responses"] / max(1, len(survey_rows))
        host_pk = {s.pk: school.pk for s, school in zip(sessions, host_of, strict=True)}
        invitations, responses, answers = [], [], []
        made = 0
        written = {"invitations": 0, "responses": 0, "answers": 0}

        def flush():
            bulk(SurveyInvitation, invitations)
            bulk(Response, responses)
            bulk(Answer, answers)
            written["invitations"] += len(invitations)
            written["responses"] += len(responses)
            written["answers"] += len(answers)
            invitations.clear()
            responses.clear()
            answers.clear()

        for i, survey in enumerate(survey_rows):
            template = survey.template
            questions = list(template.questions.all())
            due = round((i + 1) * per_survey) - made
            made += due
            institution = (
                host_pk[survey.session_id] if template.audience in (Audience.STAFF, Audience.STUDENTS) else None
            )
            for k in range(due + 1):
                invitations.append(
                    SurveyInvitation(
                        survey=survey,
                        token_hash=f"{survey.pk:012d}{k:06d}".rjust(64, "0"),
                        audience=template.audience,
                        institution_id=institution,
                        created_on=survey.opened_at.date(),
                        used_on=survey.opened_at.date() + timedelta(days=2) if k < due else None,
                    )
                )
            for k in range(due):
                response = Response(
                    survey=survey,
                    audience=template.audience,
                    institution_id=institution,
                    submitted_on=survey.opened_at.date() + timedelta(days=2),
                )
                responses.append(response)
                for q in questions:
                    answer = Answer(response=response, question=q)
                    if q.kind == QuestionKind.LIKERT:
                        answer.number = 1 + (i + k + q.position) % 5
                    elif q.kind == QuestionKind.SCALE:
                        answer.number = (i + k * 3 + q.position) % 11
                    elif q.kind == QuestionKind.CHOICE:
                        answer.choice = q.choices[(i + k) % len(q.choices)]
                    else:
                        answer.text = "More of this, please."
                        answer.review = TextReview.PUBLISHED if k % 2 else TextReview.PENDING
                    answers.append(answer)
            if len(answers) >= 50000:
                flush()
        flush()
        timer.step("surveys and responses", len(survey_rows) + sum(written.values()))

        # Targets: four computed metrics per active agreement over the current year, with
        # monthly snapshots for the months gone.
        metrics = list(
            Metric.objects.filter(
                code__in=["sessions_delivered", "students_reached", "fill_rate", "session_satisfaction"]
            )
        )
        year_start = date(today.year, 1, 1)
        target_rows = bulk(
            Target,
            [
                Target(
                    agreement=a,
                    metric=m,
                    period_start=year_start,
                    period_end=date(today.year, 12, 31),
                    target_value=Decimal(
                        "80" if m.code == "fill_rate" else "4" if m.code == "session_satisfaction" else "40"
                    ),
                    direction=Direction.AT_LEAST,
                    created_by=agency_coordinator[a.lead_agency_id],
                )
                for a in agreements
                if a.status == AgreementStatus.ACTIVE
                for m in metrics
            ],
        )
        snapshots = [
            Snapshot(
                target=t, month=date(today.year, month, 1), actual=Decimal(month * 3), status=TargetStatus.ON_TRACK
            )
            for t in target_rows
            for month in range(1, today.month)
        ]
        bulk(Snapshot, snapshots)
        timer.step("targets and snapshots", len(target_rows) + len(snapshots))

        # The rest a year of use leaves: a manual metric per active agreement with an approved
        # and a pending measurement, funding, school holidays, interviews and offers, a pending
        # invitation per agency, and the outbox's history: one sent email per booking.
        from accounts.enums import InvitationStatus
        from accounts.models import Invitation
        from evaluations.enums import MeasurementStatus, MetricKind
        from evaluations.models import Measurement
        from internships.enums import InterviewStatus, OfferStatus
        from internships.models import Interview, Offer
        from notifications.enums import MessageStatus
        from notifications.models import OutboundMessage
        from partnerships.models import FundingCommitment
        from programs.models import BlackoutPeriod

        active = [a for a in agreements if a.status == AgreementStatus.ACTIVE]
        manual = bulk(
            Metric,
            [
                Metric(
                    code=f"volunteer-hours-{a.pk}",
                    name="Volunteer hours",
                    kind=MetricKind.MANUAL,
                    agreement=a,
                    created_by=agency_coordinator[a.lead_agency_id],
                )
                for a in active
            ],
        )
        bulk(
            Measurement,
            [
                Measurement(
                    metric=m,
                    agreement_id=m.agreement_id,
                    period_start=date(today.year, q * 3 + 1, 1),
                    period_end=date(today.year, q * 3 + 3, 28),
                    value=Decimal(120 + q),
                    source="Volunteer sign-in sheets",
                    status=MeasurementStatus.APPROVED if q == 0 else MeasurementStatus.PENDING,
                    entered_by=agency_coordinator[m.agreement.lead_agency_id],
                    approved_by=coordinator_of[parties_of[m.agreement_id][1][0].organization_id] if q == 0 else None,
                    approved_at=now if q == 0 else None,
                )
                for m in manual
                for q in (0, 1)
            ],
        )
        bulk(
            FundingCommitment,
            [
                FundingCommitment(
                    agreement=a,
                    party=parties_of[a.pk][0],
                    amount=Decimal("25000.00"),
                    period_start=a.starts_on,
                    period_end=a.ends_on,
                    purpose="Officer time for workshops",
                )
                for a in agreements
            ],
        )
        bulk(
            BlackoutPeriod,
            [
                BlackoutPeriod(
                    organization=i,
                    name="Winter break",
                    starts_on=date(today.year, 12, 22),
                    ends_on=date(today.year + 1, 1, 2),
                )
                for i in institutions
            ],
        )
        bulk(
            Interview,
            [
                Interview(
                    application=a,
                    starts_at=a.submitted_at + timedelta(days=7),
                    location="Headquarters, room 2",
                    status=InterviewStatus.SCHEDULED,
                )
                for a in applications
                if a.status in (ApplicationStatus.INTERVIEW, ApplicationStatus.OFFERED, ApplicationStatus.ACCEPTED)
            ],
        )
        bulk(
            Offer,
            [
                Offer(
                    application=a,
                    status=OfferStatus.LIVE if a.status == ApplicationStatus.OFFERED else OfferStatus.ACCEPTED,
                    expires_at=now + timedelta(days=7) if a.status == ApplicationStatus.OFFERED else a.submitted_at,
                    answered_at=None if a.status == ApplicationStatus.OFFERED else a.submitted_at,
                )
                for a in applications
                if a.status in (ApplicationStatus.OFFERED, ApplicationStatus.ACCEPTED)
            ],
        )
        bulk(
            Invitation,
            [
                Invitation(
                    organization=agency,
                    email=f"new-officer-{agency.pk}@bench.test",
                    role=Role.OFFICER,
                    token_hash=f"{agency.pk:064d}",
                    status=InvitationStatus.PENDING,
                    invited_by=agency_coordinator[agency.pk],
                    expires_at=now + timedelta(days=7),
                )
                for agency in agencies
            ],
        )
        outbox = 0
        for start in range(0, len(bookings), 50000):
            chunk = [
                OutboundMessage(
                    dedupe_key=f"booking-confirmed:{b.pk}",
                    to_email=b.booked_by.email,
                    user=b.booked_by,
                    subject=f"Booked: {b.group_name}",
                    body_text="Your booking is confirmed.",
                    status=MessageStatus.SENT,
                    attempts=1,
                    created_at=b.confirmed_at or b.session.starts_at,
                    sent_at=b.confirmed_at or b.session.starts_at,
                )
                for b in bookings[start : start + 50000]
            ]
            bulk(OutboundMessage, chunk)
            outbox += len(chunk)
        timer.step("measurements, offers, outbox", outbox + len(manual) * 3)

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    timer.step("analyze", 0)

    from django.apps import apps

    rows = {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "partnerships", "programs", "internships", "evaluations", "notifications"}
    }
    return {"counts": n, "rows": {k: v for k, v in sorted(rows.items()) if v}, "steps": timer.steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--size", type=int, default=100, help="build 1/SIZE of the full state (1, 10, 100)")
    args = parser.parse_args()

    recreate_database(args.engine, args.size)
    common.setup(args.engine, args.size)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"{args.engine} 1/{args.size}: migrated in {time.perf_counter() - started:.1f} s", flush=True)
    report = build(args.size)
    report["seconds"] = round(time.perf_counter() - started, 1)
    from django.core.cache import cache

    cache.clear()  # nothing computed from an earlier dataset of this size may be served
    report["engine"], report["size"] = args.engine, args.size
    total = sum(report["rows"].values())
    print(f"{args.engine} 1/{args.size}: {total:,} rows in {report['seconds']} s", flush=True)
    common.write_result(f"dataset-{args.engine}-{args.size}", report)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    main()

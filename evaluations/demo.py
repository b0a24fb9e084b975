"""Demo evaluations, made through the same services as the pages and the tasks: targets for both
demo agreements over the current school year, a manual metric with one approved and one pending
measurement, monthly snapshots taken by the nightly task's own function at past month-ends, and
feedback surveys with anonymous responses.

The programs demo only schedules future sessions, so four workshops are delivered here first:
each is scheduled and booked through the services (in the future, where the rules allow it),
moved back to a past school day that passes every scheduling check, and closed with its
attendance, as ``internships.demo`` does with its running placement. The survey task then
generates the surveys of the two recent ones; staff and facilitators answer through the links
in their emails, and one class answers through its teacher's link sheet after the teacher
recorded how many guardians consented (the student survey asks about a protected topic). The
other classes have no consent on file, so they get no links. Every figure in the snapshots is
computed from these rows.

``seed_demo`` loads the demo world once, into an empty database; ``create`` also does nothing
when the demo's targets already exist.
"""

import re
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.services import hash_token
from evaluations import defaults, services, surveys
from evaluations.enums import Audience, Direction, Unit
from evaluations.models import Metric, Survey, Target
from evaluations.report import default_period
from notifications.models import OutboundMessage
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement
from programs import services as program_services
from programs.demo import _first_open_slot
from programs.enums import LocationKind
from programs.models import Facilitation, Program, Session

SCHOOLS_AGREEMENT = "Riverside PD – RUSD Prevention Education MOU"
UNIVERSITY_AGREEMENT = "Riverside PD – State University Internship Agreement"
FEEL_SAFE = "Students reporting they feel safe at school"

# Workshops delivered before today: program title, school key, days ago, facilitator keys,
# capacity, [(booker key, group, seats booked, students present)].
DELIVERED = [
    (
        "Personal Safety and Situational Awareness",
        "lincoln",
        62,
        ("officer",),
        30,
        [("staff.lincoln", "Grade 10 Health – Period 3", 26, 25)],
    ),
    (
        "Stand Up to Bullying",
        "washington",
        41,
        ("officer2",),
        35,
        [("staff.washington", "Grade 6 Advisory", 30, 28)],
    ),
    (
        "Crime Prevention: Protect Your Stuff, Protect Your Friends",
        "jefferson",
        20,
        ("officer",),
        40,
        [("staff.jefferson", "Grade 10 Civics", 32, 30)],
    ),
    (
        "Vaping, Fentanyl and Safe Choices",
        "lincoln",
        9,
        ("officer",),
        60,
        [
            ("staff.lincoln", "Grade 9 Health – Period 1", 28, 27),
            ("principal.lincoln", "Grade 9 Health – Period 5", 26, 24),
        ],
    ),
]

NOTES = {
    "Personal Safety and Situational Awareness": "Good questions about walking home after practice.",
    "Stand Up to Bullying": "Students role-played the bystander responses; two asked to talk afterwards.",
    "Crime Prevention: Protect Your Stuff, Protect Your Friends": "Bike-theft demo worked well; ran 5 minutes over.",
    "Vaping, Fentanyl and Safe Choices": "Two classes in the library; the naloxone demonstration drew many questions.",
}

# The students of the fentanyl session's first class: overall, learned, know where to get help,
# the protected question (optional), free text (optional).
STUDENT_ANSWERS = [
    (5, 5, 4, "No", "I liked that the officer answered our questions honestly."),
    (4, 4, 5, "I'd rather not say", ""),
    (4, 5, 4, "No", ""),
    (5, 4, 5, None, "The fentanyl part was scary but useful. More time for questions please."),
    (3, 3, 4, "Yes", ""),
    (4, 4, 4, "No", ""),
    (5, 5, 5, "No", ""),
    (4, 3, 4, None, ""),
    (4, 4, 3, "I'd rather not say", ""),
]
PUBLISHED_TEXT = STUDENT_ANSWERS[0][4]

# Staff: overall, content suited, facilitator engaged, recommend 0–10, book again, free text.
STAFF_ANSWERS = {
    "staff.lincoln@demo.test": (5, 4, 5, 9, "Yes", "Please leave more time for questions; they had many."),
    "principal.lincoln@demo.test": (4, 4, 4, 8, "Yes", ""),
    "staff.jefferson@demo.test": (4, 5, 4, 8, "Maybe", ""),
}
# Facilitator debrief: went as planned, school ready, engagement 0–10, free text.
FACILITATOR_ANSWERS = (4, 5, 8, "The library worked better than a classroom for two groups.")


def school_year(today: date) -> tuple[date, date]:
    """1 August to 31 July, the year the demo's school calendars are built around."""
    year = today.year if today.month >= 8 else today.year - 1
    return date(year, 8, 1), date(year + 1, 7, 31)


def _month_ends(start: date, today: date) -> list[date]:
    """The last day of every month from ``start``'s up to the one before ``today``'s."""
    ends, month = [], start.replace(day=1)
    while month < today.replace(day=1):
        following = (month + timedelta(days=32)).replace(day=1)
        ends.append(following - timedelta(days=1))
        month = following
    return ends


def _past_slot(*, program, school, facilitators, days_ago: int, at: time, today: date, taken: set):
    """(kind, school, start) of the latest past school day on or before ``days_ago`` that passes
    every scheduling check; the agency's community center when the school calendar has no day
    (summer). None if no day in three weeks passes. The checks ignore delivered sessions, so the
    days already ``taken`` by this demo's past workshops are skipped."""
    minutes = timedelta(minutes=program.duration_minutes)
    for kind, host in ((LocationKind.SCHOOL, school), (LocationKind.VENUE, None)):
        for back in range(21):
            day = today - timedelta(days=days_ago + back)
            if day.weekday() >= 5 or day in taken:
                continue
            starts_at = datetime.combine(day, at, tzinfo=(host or program.agreement.lead_agency).zone)
            problems = program_services.scheduling_problems(
                program=program,
                starts_at=starts_at,
                ends_at=starts_at + minutes,
                location_kind=kind,
                school=host,
                facilitators=facilitators,
            )
            if not problems:
                taken.add(day)
                return kind, host, starts_at
    return None


def _deliver(*, program, school, days_ago, facilitators, capacity, bookings, users, coordinator, today, taken):
    """A workshop scheduled and booked through the services, moved back to a past school day,
    then delivered with its attendance. None if no past day passes the checks."""
    slot = _past_slot(
        program=program,
        school=school,
        facilitators=facilitators,
        days_ago=days_ago,
        at=time(10, 0),
        today=today,
        taken=taken,
    )
    if slot is None:
        return None
    starts_at = _first_open_slot(
        program=program,
        after=today + timedelta(days=3),
        at=time(10, 0),
        zone=school.zone,
        school=school,
        facilitators=facilitators,
    )
    session = program_services.schedule_session(
        program=program,
        by=coordinator,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=program.duration_minutes),
        location_kind=LocationKind.SCHOOL,
        school=school,
        capacity_seats=capacity,
        facilitators=facilitators,
    )
    booked = []
    for booker, group, seats, present in bookings:
        user = users[f"{booker}@demo.test"]
        booking = program_services.book_session(
            session=session, institution=school, by=user, group_name=group, seats=seats
        )
        booked.append((booking, present))
    kind, host, past = slot
    Session.objects.filter(pk=session.pk).update(
        starts_at=past,
        ends_at=past + timedelta(minutes=program.duration_minutes),
        location_kind=kind,
        school=host,
        venue="" if host else "Riverside PD Community Center, 3200 Market St",
    )
    # The facilitators' bookings of their time move with the session (the overlap constraint
    # on PostgreSQL reads these rows, not the session's).
    Facilitation.objects.filter(session=session).update(
        starts_at=past, ends_at=past + timedelta(minutes=program.duration_minutes)
    )
    session.refresh_from_db()
    return program_services.record_attendance(
        session=session,
        by=coordinator,
        attended={booking.pk: present for booking, present in booked},
        notes=NOTES.get(program.title, ""),
    )


def _token_from_outbox(invitation) -> str:
    """The raw token of a personal invitation: only its hash is stored, the link is in the email."""
    message = OutboundMessage.objects.get(dedupe_key=f"evaluations:invitation:{invitation.pk}")
    for candidate in re.findall(r"[A-Za-z0-9_-]{40,}", message.body_text):
        if hash_token(candidate) == invitation.token_hash:
            return candidate
    raise LookupError(f"No link for invitation {invitation.pk} in its email.")


def _answers(survey: Survey, values) -> dict:
    questions = survey.template.questions.order_by("position")
    return {q.pk: value for q, value in zip(questions, values, strict=True) if value not in (None, "")}


def _set_targets(*, schools, university, users, today):
    rpd, rusd = users["coordinator.rpd@demo.test"], users["coordinator.rusd@demo.test"]
    stateu = users["coordinator.stateu@demo.test"]
    year_start, _year_end = school_year(today)
    metric = {m.code: m for m in Metric.objects.filter(kind="computed")}
    start, end = default_period(schools, today)  # the report's default period
    for code, value, direction, by, notes in [
        ("sessions_delivered", 20, Direction.AT_LEAST, rpd, "Two workshops a month in term time."),
        ("students_reached", 400, Direction.AT_LEAST, rpd, "Every ninth-grader hears the fentanyl workshop."),
        ("fill_rate", 80, Direction.AT_LEAST, rusd, "Book sessions for classes that fill them."),
        ("schools_served", 3, Direction.AT_LEAST, rusd, "All three district schools."),
        ("session_satisfaction", 4, Direction.AT_LEAST, rusd, "Mean of 'overall satisfied', staff and students."),
        ("survey_response_rate", 50, Direction.AT_LEAST, rusd, ""),
    ]:
        services.set_target(
            agreement=schools,
            by=by,
            metric=metric[code],
            period_start=start,
            period_end=end,
            target_value=value,
            direction=direction,
            notes=notes,
        )
    drugs = Program.objects.get(agreement=schools, title="Vaping, Fentanyl and Safe Choices")
    services.set_target(
        agreement=schools,
        by=rpd,
        program=drugs,
        metric=metric["students_reached"],
        period_start=start,
        period_end=end,
        target_value=150,
        notes="The certified curriculum, for every ninth-grade health class.",
    )

    # A figure from the district's climate survey, entered by the district and approved by the agency.
    feel_safe = services.define_metric(
        agreement=schools,
        by=rusd,
        name=FEEL_SAFE,
        unit=Unit.PERCENT,
        description="Share of students who agree or strongly agree with 'I feel safe at school' in the "
        "district's school climate survey.",
    )
    last_year = services.record_measurement(
        metric=feel_safe,
        agreement=schools,
        by=rusd,
        period_start=year_start.replace(year=year_start.year - 1),
        period_end=year_start - timedelta(days=1),
        value="71.4",
        source=f"RUSD school climate survey, spring {year_start.year}",
    )
    services.approve_measurement(measurement=last_year, by=rpd)
    services.record_measurement(
        metric=feel_safe,
        agreement=schools,
        by=rusd,
        period_start=year_start,
        period_end=max(year_start, today - timedelta(days=1)),
        value="76.0",
        source="RUSD fall pulse survey (grades 6–12)",
    )  # awaits the agency's approval
    services.set_target(
        agreement=schools,
        by=rusd,
        metric=feel_safe,
        period_start=start,
        period_end=end,
        target_value=80,
        baseline=last_year.value,
        notes="Baseline: last spring's climate survey.",
    )

    # The university agreement ends this winter: its targets run to its last day.
    start, end = default_period(university, today)
    for code, value, direction, by, notes in [
        ("applications_received", 2, Direction.AT_LEAST, stateu, ""),
        ("placements_completed", 1, Direction.AT_LEAST, rpd, "The crime-analysis internship."),
        ("check_ins_on_schedule", 90, Direction.AT_LEAST, rpd, "Mentors meet their interns as scheduled."),
        (
            "mentored_hours",
            120,
            Direction.AT_MOST,
            stateu,
            "The internship earns three credits; the university caps it at 120 hours a term.",
        ),
    ]:
        services.set_target(
            agreement=university,
            by=by,
            metric=metric[code],
            period_start=start,
            period_end=end,
            target_value=value,
            direction=direction,
            notes=notes,
        )


def _surveys_with_responses(*, delivered, users):
    """The survey task's own run, then the answers people give through their links."""
    surveys.generate_surveys()
    answered = {}
    for session in delivered:
        for survey in Survey.objects.filter(session=session).select_related("template"):
            answered[(session.program.title, survey.template.audience)] = survey

    fentanyl = "Vaping, Fentanyl and Safe Choices"
    crime = "Crime Prevention: Protect Your Stuff, Protect Your Friends"
    # Staff and the facilitator answer from their emails; two and one respondents stay below the
    # minimum group of three, so those surveys show counts only.
    for title in (fentanyl, crime):
        survey = answered.get((title, Audience.STAFF))
        for invitation in survey.invitations.select_related("user") if survey else ():
            token = _token_from_outbox(invitation)
            surveys.submit_response(token=token, answers=_answers(survey, STAFF_ANSWERS[invitation.user.email]))
    survey = answered.get((fentanyl, Audience.FACILITATORS))
    if survey is not None:
        invitation = survey.invitations.get()
        surveys.submit_response(token=_token_from_outbox(invitation), answers=_answers(survey, FACILITATOR_ANSWERS))

    # Students: the student survey asks about a protected topic, so the health teacher records
    # how many guardians consented before printing links for that many students.
    survey = answered.get((fentanyl, Audience.STUDENTS))
    if survey is None:
        return
    teacher = users["staff.lincoln@demo.test"]
    booking = survey.session.bookings.get(booked_by=teacher)
    surveys.record_group_consent(
        template=survey.template,
        booking=booking,
        students_count=22,
        by=teacher,
        note="Signed guardian forms returned for 22 of 28 students.",
    )
    _distribution, tokens = surveys.open_distribution(survey=survey, booking=booking, size=22, by=teacher)
    responses = [
        surveys.submit_response(token=token, answers=_answers(survey, values))
        for token, values in zip(tokens, STUDENT_ANSWERS, strict=False)
    ]
    # The principal publishes one comment to the agency; the other still awaits review.
    principal = users["principal.lincoln@demo.test"]
    published = responses[0].answers.get(text=PUBLISHED_TEXT)
    surveys.review_text(answer=published, by=principal, publish=True)


def create(*, orgs, users):
    defaults.install()
    schools = Agreement.objects.get(title=SCHOOLS_AGREEMENT, status=AgreementStatus.ACTIVE)
    university = Agreement.objects.get(title=UNIVERSITY_AGREEMENT, status=AgreementStatus.ACTIVE)
    if Target.objects.filter(agreement__in=[schools, university]).exists():
        return  # loaded already
    coordinator = users["coordinator.rpd@demo.test"]
    today = timezone.localdate(timezone=orgs["rpd"].zone)
    officers = {"officer": users["officer.rpd@demo.test"], "officer2": users["officer2.rpd@demo.test"]}

    delivered, taken = [], set()
    for title, school, days_ago, facilitators, capacity, bookings in DELIVERED:
        session = _deliver(
            program=Program.objects.get(agreement=schools, title=title),
            school=orgs[school],
            days_ago=days_ago,
            facilitators=[officers[key] for key in facilitators],
            capacity=capacity,
            bookings=bookings,
            users=users,
            coordinator=coordinator,
            today=today,
            taken=taken,
        )
        if session is not None:
            delivered.append(session)

    _surveys_with_responses(delivered=delivered, users=users)
    _set_targets(schools=schools, university=university, users=users, today=today)

    # The nightly task at the end of every past month of the school year, then tonight's run.
    year_start, _year_end = school_year(today)
    for month_end in _month_ends(year_start, today):
        services.take_snapshots(today=month_end)
    services.take_snapshots(today=today)

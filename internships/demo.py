"""Demo internships, made through the same services as the pages: the clearances Riverside PD
requires of its mentors; postings under the State University internship agreement and the
RUSD prevention MOU; applications at every step of the pipeline; a minor whose placement
waits for a guardian's consent (the link is in the outbox); and an adult intern part-way
through an active placement with hours and check-ins.

``seed_demo`` loads the demo world once, into an empty database; this module adds its part
inside that transaction. The services build placements that start in the future, so the
running one is moved into the past afterwards, as ``tests/internships/factories.started`` does.
"""

from datetime import date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.enums import GradeLevel, Role
from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import Membership, User
from internships import selectors, services
from internships.enums import AccessPurpose, ApplicationStatus, RejectionReason
from internships.models import CheckIn, Placement, Posting
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement

UNIVERSITY_AGREEMENT = "Riverside PD – State University Internship Agreement"
SCHOOLS_AGREEMENT = "Riverside PD – RUSD Prevention Education MOU"

CLEARANCE_KINDS = [
    ("State police background check", "California DOJ criminal history check, renewed every three years."),
    ("Child-abuse clearance", "Child Abuse Central Index check for work with minors."),
    ("FBI fingerprint check", "Fingerprint-based national criminal history check."),
]

# More students, so every step of the pipeline has someone in it: email, name, org, level, age.
EXTRA_STUDENTS = [
    ("mateo.rivera@demo.test", "Mateo Rivera", "lincoln", GradeLevel.GRADE_12, 17),
    ("aisha.johnson@demo.test", "Aisha Johnson", "lincoln", GradeLevel.GRADE_11, 16),
    ("noah.williams@demo.test", "Noah Williams", "jefferson", GradeLevel.GRADE_12, 18),
    ("sofia.martinez@demo.test", "Sofia Martinez", "jefferson", GradeLevel.GRADE_11, 17),
    ("ethan.brooks@demo.test", "Ethan Brooks", "jefferson", GradeLevel.GRADE_12, 17),
    ("chloe.davis@demo.test", "Chloe Davis", "lincoln", GradeLevel.GRADE_12, 17),
    ("priya.shah@demo.test", "Priya Shah", "stateu", GradeLevel.UNIVERSITY, 20),
]

STATEMENT = {
    "minor": "I want to become a youth counselor and would like to see how officers work with young people.",
    "senior": "I am starting the criminal-justice program next fall and want hands-on experience first.",
    "university": "I study criminology and want to apply crime-mapping methods to real incident data.",
    "other": "I want to learn how the department works with the community.",
}


def _born(today: date, years: int) -> date:
    """A birthday ``years`` and about five months before ``today`` (so the age holds for a while)."""
    day = today - timedelta(days=150)
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _student(email, name, school, level, *, birth_date):
    user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, birth_date=birth_date)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Membership.objects.create(user=user, organization=school, role=Role.STUDENT, grade_level=level)
    return user


def _set_student(user, school, level, *, birth_date):
    """The school's record of an existing demo student: date of birth and level."""
    User.objects.filter(pk=user.pk).update(birth_date=birth_date)
    Membership.objects.filter(user=user, organization=school, role=Role.STUDENT).update(grade_level=level)
    user.refresh_from_db()


def _weekday_at(day: date, at: time, zone) -> datetime:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=zone)


def _apply(posting, student, stage, *, reviewer, statement=STATEMENT["other"], **accept):
    """An application moved through the real pipeline up to ``stage``."""
    application = services.apply(
        posting=posting,
        student=student,
        statement=statement,
        availability="Weekday afternoons after 3 p.m.; Saturdays",
        submit=stage != ApplicationStatus.DRAFT,
    )
    if stage in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED):
        return application
    if stage == ApplicationStatus.WITHDRAWN:
        return services.withdraw(application=application, by=student, note="I took a part-time job instead.")
    services.start_review(application=application, by=reviewer)
    if stage == ApplicationStatus.UNDER_REVIEW:
        return application
    if stage == ApplicationStatus.REJECTED:
        return services.reject(application=application, by=reviewer, reason=RejectionReason.OTHER_CANDIDATES)
    if stage == ApplicationStatus.INTERVIEW:
        services.schedule_interview(
            application=application,
            by=reviewer,
            starts_at=_weekday_at(timezone.localdate() + timedelta(days=4), time(15, 30), posting.agency.zone),
            location="Riverside PD headquarters, Community Affairs office (ask at the front desk)",
            notes="Bring a photo ID. A parent or guardian is welcome to come along.",
        )
        return application
    services.make_offer(application=application, by=reviewer, message="We would be glad to have you with us.")
    if stage == ApplicationStatus.OFFERED:
        return application
    if stage == ApplicationStatus.DECLINED:
        return services.decline_offer(application=application, by=student, note="I accepted a campus research job.")
    if stage == ApplicationStatus.ACCEPTED:
        return services.accept_offer(application=application, by=student, **accept)
    raise ValueError(stage)


def _move_into_the_past(placement: Placement, *, start: date, end: date) -> Placement:
    """The pipeline only builds placements that start in the future; the demo's running one
    began weeks ago, so its dates (and its check-in schedule) move back."""
    posting = placement.posting
    Posting.objects.filter(pk=posting.pk).update(start_date=start, end_date=end, apply_by=start - timedelta(days=7))
    Placement.objects.filter(pk=placement.pk).update(start_date=start, end_date=end)
    CheckIn.objects.filter(placement=placement).delete()
    step = timedelta(days=placement.check_in_every_days)
    due = start + step
    while due <= end:
        CheckIn.objects.create(placement=placement, due_on=due)
        due += step
    return Placement.objects.get(pk=placement.pk)


def create(*, orgs, users):
    rpd, stateu = orgs["rpd"], orgs["stateu"]
    coordinator = users["coordinator.rpd@demo.test"]
    officer, officer2 = users["officer.rpd@demo.test"], users["officer2.rpd@demo.test"]
    minor, senior = users["student.minor@demo.test"], users["student.senior@demo.test"]
    university = users["student.university@demo.test"]
    today = timezone.localdate(timezone=rpd.zone)

    # Students: dates of birth relative to today, so the minor stays a minor whenever the demo loads.
    _set_student(minor, orgs["lincoln"], GradeLevel.GRADE_11, birth_date=_born(today, 16))
    _set_student(senior, orgs["jefferson"], GradeLevel.GRADE_12, birth_date=_born(today, 18))
    _set_student(university, stateu, GradeLevel.UNIVERSITY, birth_date=_born(today, 21))
    extra = {
        email: _student(email, name, orgs[school], level, birth_date=_born(today, age))
        for email, name, school, level, age in EXTRA_STUDENTS
    }

    # Clearances every mentor needs; Officer Weiss's state check expires within the renewal window.
    kinds = [
        services.add_clearance_kind(agency=rpd, by=coordinator, name=name, description=description)
        for name, description in CLEARANCE_KINDS
    ]
    for number, kind in enumerate(kinds, start=1):
        services.record_clearance(
            officer=officer,
            kind=kind,
            by=coordinator,
            issued_on=today - timedelta(days=300),
            expires_on=today + timedelta(days=800),
            reference=f"RPD-{4100 + number}",
        )
        services.record_clearance(
            officer=officer2,
            kind=kind,
            by=coordinator,
            issued_on=today - timedelta(days=1040 if number == 1 else 200),
            expires_on=today + timedelta(days=55 if number == 1 else 900),
            reference=f"RPD-{4200 + number}",
        )

    university_agreement = Agreement.objects.get(title=UNIVERSITY_AGREEMENT, status=AgreementStatus.ACTIVE)
    schools_agreement = Agreement.objects.get(title=SCHOOLS_AGREEMENT, status=AgreementStatus.ACTIVE)
    high_schools = [orgs["lincoln"], orgs["jefferson"]]

    # 1. University: a crime-analysis internship, filled and under way (moved into the past below).
    analysis = services.create_posting(
        agreement=university_agreement,
        agency=rpd,
        by=coordinator,
        institutions=[stateu],
        title="Crime Analysis Intern",
        description="Map incident data, prepare the weekly patrol briefing and help evaluate the "
        "department's school-safety programs.",
        unit="Crime Analysis Unit",
        location="Riverside PD headquarters, 4102 Orange St",
        start_date=today + timedelta(days=7),
        end_date=today + timedelta(days=67),
        hours_per_week=12,
        required_hours=100,
        slots=1,
        apply_by=today + timedelta(days=3),
        min_age=18,
        grade_levels=[GradeLevel.UNIVERSITY],
        requirements="Coursework in statistics or GIS; a background check before the start.",
    )
    analysis = services.publish_posting(posting=analysis, by=coordinator)
    _apply(analysis, extra["priya.shah@demo.test"], ApplicationStatus.DECLINED, reviewer=coordinator)
    running = _apply(
        analysis, university, ApplicationStatus.ACCEPTED, reviewer=coordinator, statement=STATEMENT["university"]
    )  # the last place: the posting closes itself
    services.assign_mentor(placement=running, mentor=officer, by=coordinator)
    running = _move_into_the_past(running, start=today - timedelta(days=40), end=today + timedelta(days=20))

    # Hours twice a week since the start: older weeks approved but one day returned, the last week waiting.
    logged = []
    day = running.start_date
    while day < today:
        if day.weekday() in (1, 3):
            entry, _warnings = services.log_hours(
                placement=running, by=university, day=day, hours=4, activity="Incident mapping and the patrol briefing"
            )
            logged.append(entry)
        day += timedelta(days=1)
    reviewed = [entry for entry in logged if (today - entry.day).days > 7]
    returned = reviewed[-1]
    for entry in reviewed:
        if entry is returned:
            services.return_hours(
                entry=entry, by=officer, comment="You left at noon that day; please log the hours you were here."
            )
        else:
            services.approve_hours(entry=entry, by=officer)

    # Check-ins: the first held, the second missed, the next ones scheduled.
    first, second, *_later = running.check_ins.order_by("due_on")
    services.record_check_in(
        check_in=first,
        by=officer,
        held=True,
        held_on=first.due_on,
        notes="Good start: Riley has learned the mapping tools and presented at one briefing.",
    )
    services.record_check_in(
        check_in=second,
        by=officer,
        held=False,
        notes="Riley had a midterm exam; we will meet at the next check-in.",
    )

    # 2. High schools: a winter-break youth academy. The minor accepted; consent is with the guardian.
    academy = services.create_posting(
        agreement=schools_agreement,
        agency=rpd,
        by=coordinator,
        institutions=high_schools,
        title="Winter Youth Academy Assistant",
        description="Help officers run the winter-break youth academy: team activities, "
        "safety workshops and a visit to the dispatch center.",
        unit="Community Affairs",
        location="Riverside PD Community Center, 3200 Market St",
        start_date=today + timedelta(days=21),
        end_date=today + timedelta(days=49),
        hours_per_week=8,
        required_hours=30,
        slots=2,
        apply_by=today + timedelta(days=12),
        min_age=16,
        grade_levels=[GradeLevel.GRADE_11, GradeLevel.GRADE_12],
        requirements="A guardian's consent for students under 18.",
    )
    academy = services.publish_posting(posting=academy, by=coordinator)
    pending = _apply(
        academy,
        minor,
        ApplicationStatus.ACCEPTED,
        reviewer=coordinator,
        statement=STATEMENT["minor"],
        guardian_name="Linh Nguyen",
        guardian_email="linh.nguyen@demo.test",
    )
    # Officer Weiss is cleared through the academy's last day; the renewal warning is shown.
    services.assign_mentor(placement=pending, mentor=officer2, by=coordinator)
    _apply(academy, senior, ApplicationStatus.OFFERED, reviewer=coordinator, statement=STATEMENT["senior"])
    _apply(academy, extra["mateo.rivera@demo.test"], ApplicationStatus.INTERVIEW, reviewer=coordinator)
    _apply(academy, extra["noah.williams@demo.test"], ApplicationStatus.REJECTED, reviewer=coordinator)
    _apply(academy, extra["sofia.martinez@demo.test"], ApplicationStatus.WITHDRAWN, reviewer=coordinator)
    _apply(academy, extra["aisha.johnson@demo.test"], ApplicationStatus.DRAFT, reviewer=coordinator)

    # 3. High schools, spring: dispatch-center shadowing, with new applications to review.
    dispatch = services.create_posting(
        agreement=schools_agreement,
        agency=rpd,
        by=coordinator,
        institutions=high_schools,
        title="Dispatch Center Shadowing (spring)",
        description="Shadow call-takers and dispatchers, learn how 911 calls are triaged, and "
        "help with the center's school outreach.",
        unit="Communications",
        location="Riverside Emergency Communications Center, 3900 Main St",
        start_date=today + timedelta(days=75),
        end_date=today + timedelta(days=160),
        hours_per_week=6,
        required_hours=40,
        slots=2,
        apply_by=today + timedelta(days=45),
        min_age=16,
        grade_levels=[GradeLevel.GRADE_12],
    )
    dispatch = services.publish_posting(posting=dispatch, by=coordinator)
    _apply(dispatch, extra["ethan.brooks@demo.test"], ApplicationStatus.SUBMITTED, reviewer=coordinator)
    _apply(dispatch, extra["chloe.davis@demo.test"], ApplicationStatus.UNDER_REVIEW, reviewer=coordinator)

    # 4. A draft the coordinator has not published yet.
    services.create_posting(
        agreement=university_agreement,
        agency=rpd,
        by=coordinator,
        institutions=[stateu],
        title="Records and Evidence Intern (draft)",
        description="Help digitise property and evidence records.",
        unit="Records and Evidence",
        location="Riverside PD headquarters, 4102 Orange St",
        start_date=today + timedelta(days=90),
        end_date=today + timedelta(days=180),
        hours_per_week=10,
        required_hours=80,
        slots=1,
        apply_by=today + timedelta(days=60),
        min_age=18,
        grade_levels=[GradeLevel.UNIVERSITY],
    )

    # The record of reads: the agency's coordinator reviewed the academy applications, the
    # mentor opened the intern's placement (written by the selector the pages use).
    selectors.record_student_access(
        coordinator, academy.applications.exclude(status=ApplicationStatus.DRAFT), purpose=AccessPurpose.REVIEW
    )
    selectors.record_student_access(officer, [running], purpose=AccessPurpose.MENTORING)

"""Demo workshops, made through the same services as the pages: a catalog under the active
Riverside PD – RUSD MOU, sessions over the next two months (one virtual, one full with a
waitlist), bookings by school staff, the schools' academic calendars (terms, holidays, a
testing window), an agency blackout and an open session request."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from partnerships.enums import AgreementStatus
from partnerships.models import Agreement
from programs import services
from programs.enums import BlackoutKind, Format, GradeBand, LocationKind, Topic
from programs.models import OfficerQualification, Qualification

AGREEMENT_TITLE = "Riverside PD – RUSD Prevention Education MOU"
CERTIFICATION = "Certified drug-prevention curriculum instructor"

CATALOG = [
    # key, title, topic, grade band, format, minutes, seats, needs the certification, description, objectives
    (
        "bullying",
        "Stand Up to Bullying",
        Topic.BULLYING,
        GradeBand.MIDDLE,
        Format.IN_PERSON,
        50,
        35,
        False,
        "What bullying and cyberbullying look like, how bystanders can step in safely, and where to get help.",
        "Recognize bullying behaviours\nPractise three safe bystander responses\nKnow the school's reporting options",
    ),
    (
        "drugs",
        "Vaping, Fentanyl and Safe Choices",
        Topic.DRUG_AWARENESS,
        GradeBand.HIGH,
        Format.IN_PERSON,
        60,
        30,
        True,
        "A certified prevention curriculum: the facts on vaping, counterfeit pills and fentanyl, "
        "refusal skills, and what to do in an overdose emergency.",
        "Explain the risks of counterfeit pills\nPractise refusal skills\nKnow how to call for help in an overdose",
    ),
    (
        "online",
        "Safe Online: Scams, Sextortion and Privacy",
        Topic.ONLINE_SAFETY,
        GradeBand.HIGH,
        Format.HYBRID,
        60,
        40,
        False,
        "How online scams and sextortion work, privacy settings that matter, and how to report and get help.",
        "Spot the warning signs of sextortion\nLock down privacy settings\nKnow where to report",
    ),
    (
        "families",
        "Online Safety for Families",
        Topic.ONLINE_SAFETY,
        GradeBand.ALL,
        Format.VIRTUAL,
        45,
        100,
        False,
        "An evening session for parents and guardians: the apps students use, parental controls, "
        "and how to talk with teens about what they see online.",
        "Know the platforms students use\nSet up parental controls\nStart the conversation at home",
    ),
    (
        "personal",
        "Personal Safety and Situational Awareness",
        Topic.PERSONAL_SAFETY,
        GradeBand.HIGH,
        Format.IN_PERSON,
        60,
        30,
        False,
        "Staying aware in public places, travelling safely to and from school, and trusting your instincts.",
        "Practise situational awareness\nPlan safe routes\nKnow when and how to call 911",
    ),
    (
        "conflict",
        "Resolving Conflict Without Violence",
        Topic.CONFLICT_RESOLUTION,
        GradeBand.MIDDLE,
        Format.IN_PERSON,
        50,
        30,
        False,
        "De-escalation skills for disagreements among peers, online and in person, with role-play.",
        "Name what escalates a conflict\nUse calm-down and I-statement techniques\nKnow when to ask an adult",
    ),
    (
        "crime",
        "Crime Prevention: Protect Your Stuff, Protect Your Friends",
        Topic.CRIME_PREVENTION,
        GradeBand.HIGH,
        Format.IN_PERSON,
        45,
        40,
        False,
        "Phone and bike theft, car break-ins, and how students can help keep their neighbourhood safe.",
        "Secure phones, bikes and cars\nReport suspicious activity\nKnow the anonymous tip line",
    ),
    (
        "careers",
        "Careers in Public Safety",
        Topic.CAREERS,
        GradeBand.HIGH,
        Format.IN_PERSON,
        90,
        60,
        False,
        "Officers, dispatchers, crime-scene technicians and cadets talk about their jobs and the paths into them.",
        "Learn about careers in public safety\nUnderstand the cadet and internship programmes",
    ),
    (
        "community",
        "Students and Police: Building Trust",
        Topic.COMMUNITY_RELATIONS,
        GradeBand.HIGH,
        Format.IN_PERSON,
        60,
        30,
        False,
        "A facilitated conversation between students and officers about rights, responsibilities and respect.",
        "Know your rights in a police encounter\nShare student perspectives with officers",
    ),
]


def _school_year_calendar(*, school, by, today):
    """The district's terms and holidays for the school year around today (and the next fall)."""
    year = today.year if today.month >= 8 else today.year - 1
    terms = [
        ("Fall semester", date(year, 8, 13), date(year, 12, 18)),
        ("Spring semester", date(year + 1, 1, 7), date(year + 1, 6, 4)),
        ("Summer session", date(year + 1, 6, 15), date(year + 1, 7, 23)),
        ("Fall semester", date(year + 1, 8, 12), date(year + 1, 12, 18)),
    ]
    for name, starts_on, ends_on in terms:
        label = f"{name} {starts_on.year}"
        services.add_term(institution=school, by=by, name=label, starts_on=starts_on, ends_on=ends_on)
    holidays = [
        ("Veterans Day", BlackoutKind.HOLIDAY, date(year, 11, 11), date(year, 11, 11)),
        ("Thanksgiving break", BlackoutKind.HOLIDAY, date(year, 11, 25), date(year, 11, 27)),
        ("Winter break", BlackoutKind.HOLIDAY, date(year, 12, 21), date(year + 1, 1, 6)),
        ("Martin Luther King Jr. Day", BlackoutKind.HOLIDAY, date(year + 1, 1, 18), date(year + 1, 1, 18)),
        ("Spring break", BlackoutKind.HOLIDAY, date(year + 1, 3, 29), date(year + 1, 4, 2)),
        ("State testing (CAASPP)", BlackoutKind.TESTING, date(year + 1, 4, 26), date(year + 1, 4, 30)),
        ("Winter break", BlackoutKind.HOLIDAY, date(year + 1, 12, 20), date(year + 2, 1, 5)),
    ]
    for name, kind, starts_on, ends_on in holidays:
        services.add_blackout(organization=school, by=by, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on)


def _first_open_slot(*, program, after: date, at: time, zone, school=None, facilitators=(), kind=LocationKind.SCHOOL):
    """The first weekday from ``after`` on which the slot passes every scheduling rule."""
    day = after
    for _ in range(60):
        if day.weekday() < 5:
            starts_at = datetime.combine(day, at, tzinfo=zone)
            problems = services.scheduling_problems(
                program=program,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=program.duration_minutes),
                location_kind=kind,
                school=school,
                facilitators=facilitators,
            )
            if not problems:
                return starts_at
        day += timedelta(days=1)
    raise RuntimeError(f"No open slot for {program} after {after}.")


def create(*, orgs, users):
    agreement = Agreement.objects.get(title=AGREEMENT_TITLE, status=AgreementStatus.ACTIVE)
    rpd, lincoln, washington, jefferson = orgs["rpd"], orgs["lincoln"], orgs["washington"], orgs["jefferson"]
    coordinator = users["coordinator.rpd@demo.test"]
    officer, officer2 = users["officer.rpd@demo.test"], users["officer2.rpd@demo.test"]
    staff = {key: users[f"staff.{key}@demo.test"] for key in ("lincoln", "washington", "jefferson")}
    principal = {key: users[f"principal.{key}@demo.test"] for key in ("lincoln", "washington", "jefferson")}
    today = timezone.localdate(timezone=rpd.zone)

    # Certifications are reference data kept in the admin; there is no page (or service) for them.
    certification, _created = Qualification.objects.get_or_create(
        name=CERTIFICATION,
        defaults={
            "description": "Completed the 80-hour instructor course of the district's drug-prevention curriculum."
        },
    )
    OfficerQualification.objects.create(
        officer=officer,
        qualification=certification,
        earned_on=today - timedelta(days=400),
        expires_on=today + timedelta(days=700),
    )

    programs = {}
    for key, title, topic, band, fmt, minutes, seats, certified, description, objectives in CATALOG:
        programs[key] = services.create_program(
            agreement=agreement,
            by=coordinator,
            title=title,
            description=description,
            objectives=objectives,
            topic=topic,
            grade_band=band,
            format=fmt,
            duration_minutes=minutes,
            default_capacity_seats=seats,
            required_qualification=certification if certified else None,
        )

    # Calendars: each school keeps the district's school year; Riverside PD has a training week.
    for key, school in (("lincoln", lincoln), ("washington", washington), ("jefferson", jefferson)):
        _school_year_calendar(school=school, by=principal[key], today=today)
    services.add_blackout(
        organization=rpd,
        by=coordinator,
        name="Annual in-service training",
        kind=BlackoutKind.TRAINING,
        starts_on=today + timedelta(days=19),
        ends_on=today + timedelta(days=21),
    )

    def schedule(key, *, after, at, school=None, facilitators=(officer,), kind=LocationKind.SCHOOL, **fields):
        program = programs[key]
        starts_at = _first_open_slot(
            program=program,
            after=today + timedelta(days=after),
            at=at,
            zone=(school or rpd).zone,
            school=school,
            facilitators=facilitators,
            kind=kind,
        )
        return services.schedule_session(
            program=program,
            by=coordinator,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=program.duration_minutes),
            location_kind=kind,
            school=school,
            facilitators=list(facilitators),
            **fields,
        )

    def book(session, school, group, seats, by=None):
        return services.book_session(
            session=session, institution=orgs[school], by=by or staff[school], group_name=group, seats=seats
        )

    # A full session at Lincoln with a group on the waitlist.
    drugs = schedule("drugs", after=6, at=time(9, 0), school=lincoln)
    book(drugs, "lincoln", "Grade 10 Health – Period 2", 18)
    book(drugs, "lincoln", "Grade 10 Health – Period 4", 12, by=principal["lincoln"])
    book(drugs, "lincoln", "Grade 11 Advisory", 14)  # waitlisted

    bullying = schedule("bullying", after=8, at=time(10, 15), school=washington, facilitators=(officer2,))
    book(bullying, "washington", "Grade 7 Advisory", 28)

    # Evening, online, for families of every school: the join link goes to confirmed bookers only.
    families = schedule(
        "families",
        after=12,
        at=time(18, 30),
        kind=LocationKind.VIRTUAL,
        join_url="https://meet.demo.test/rpd-online-safety-families",
    )
    book(families, "jefferson", "Jefferson parents' association", 40)
    book(families, "lincoln", "Lincoln PTA", 35)

    careers = schedule("careers", after=15, at=time(13, 0), school=jefferson, facilitators=(officer, officer2))
    book(careers, "jefferson", "Grade 11 and 12 career pathway", 45)

    online = schedule("online", after=24, at=time(9, 30), school=jefferson, facilitators=(officer2,))
    book(online, "jefferson", "Grade 9 Digital Citizenship", 32)

    schedule("conflict", after=29, at=time(10, 15), school=washington, facilitators=(officer2,))

    personal = schedule("personal", after=34, at=time(11, 0), school=lincoln)
    book(personal, "lincoln", "Grade 12 Seminar", 22)

    schedule(
        "crime",
        after=41,
        at=time(16, 0),
        kind=LocationKind.VENUE,
        venue="Riverside Public Library, Community Room",
        facilitators=(officer2,),
    )
    community = schedule("community", after=48, at=time(12, 30), school=jefferson, facilitators=(officer, officer2))
    book(community, "jefferson", "Student Council", 20, by=principal["jefferson"])
    schedule("drugs", after=55, at=time(9, 0), school=jefferson)

    # An open request from Washington Middle, waiting for the coordinator.
    services.request_session(
        program=programs["conflict"],
        institution=washington,
        by=staff["washington"],
        window_starts_on=today + timedelta(days=21),
        window_ends_on=today + timedelta(days=45),
        preferred_start_time=time(10, 15),
        group_name="Grade 8 – all advisories",
        seats=30,
        notes="Two incidents at lunch this month; we would like this before the spring semester.",
    )

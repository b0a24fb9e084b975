"""The built-in computed metrics and the default survey templates, shipped as data.

Migration 0002 installs them; ``install()`` is idempotent, so the demo and the tests (a
transactional test empties every table) can put them back.
"""

from django.apps import apps as live_apps

METRICS = [
    # code, name, unit, description
    ("sessions_delivered", "Sessions delivered", "count", "Workshop sessions marked delivered in the period."),
    ("students_reached", "Students reached", "count", "Students counted present at delivered sessions."),
    (
        "fill_rate",
        "Seats fill rate",
        "percent",
        "Confirmed seats as a share of the seats offered by delivered sessions.",
    ),
    ("schools_served", "Schools served", "count", "Distinct schools with a confirmed booking at a delivered session."),
    (
        "session_satisfaction",
        "Average session satisfaction",
        "score",
        "Mean of the overall-satisfaction question (1–5) in workshop feedback surveys.",
    ),
    ("survey_response_rate", "Survey response rate", "percent", "Answered invitations as a share of invitations sent."),
    ("applications_received", "Internship applications received", "count", "Applications submitted in the period."),
    ("placements_started", "Placements started", "count", "Placements that became active, by start date."),
    ("placements_completed", "Placements completed", "count", "Placements completed, by end date."),
    (
        "completion_rate",
        "Placement completion rate",
        "percent",
        "Completed placements as a share of placements that finished (completed or ended early).",
    ),
    ("mentored_hours", "Mentored hours approved", "hours", "Intern hours approved by mentors, by the day worked."),
    (
        "check_ins_on_schedule",
        "Check-ins held on schedule",
        "percent",
        "Check-ins held as a share of those that fell due in the period.",
    ),
]

AGREE = "likert"
SCALE = "scale"
CHOICE = "choice"
TEXT = "text"

TEMPLATES = [
    (
        "workshop-staff",
        "Workshop feedback (school staff)",
        "session",
        "staff",
        [
            (AGREE, "Overall, I was satisfied with this workshop.", [], True, False, True),
            (AGREE, "The content suited my students' age and needs.", [], True, False, False),
            (AGREE, "The facilitator engaged the students.", [], True, False, False),
            (SCALE, "How likely are you to recommend this workshop to a colleague?", [], True, False, False),
            (CHOICE, "Would you book this workshop again?", ["Yes", "Maybe", "No"], True, False, False),
            (TEXT, "What should we change or keep?", [], False, False, False),
        ],
    ),
    (
        "workshop-students",
        "Workshop feedback (students)",
        "session",
        "students",
        [
            (AGREE, "Overall, I liked this workshop.", [], True, False, True),
            (AGREE, "I learned something I can use.", [], True, False, False),
            (AGREE, "I know who I can go to for help if something happens.", [], True, False, False),
            (
                CHOICE,
                "Have you seen or experienced what this workshop was about in the past year?",
                ["Yes", "No", "I'd rather not say"],
                False,
                True,
                False,
            ),
            (TEXT, "Anything else you want to tell us?", [], False, False, False),
        ],
    ),
    (
        "workshop-facilitators",
        "Workshop debrief (facilitators)",
        "session",
        "facilitators",
        [
            (AGREE, "The session went as planned.", [], True, False, False),
            (AGREE, "The school was ready for the session (room, equipment, schedule).", [], True, False, False),
            (SCALE, "How engaged were the students?", [], True, False, False),
            (TEXT, "What would you change next time?", [], False, False, False),
        ],
    ),
    (
        "internship-interns",
        "End of internship (interns)",
        "placement",
        "interns",
        [
            (AGREE, "Overall, I was satisfied with my internship.", [], True, False, False),
            (AGREE, "My mentor supported me.", [], True, False, False),
            (AGREE, "I felt safe and respected during the placement.", [], True, False, False),
            (SCALE, "How likely are you to recommend this internship to another student?", [], True, False, False),
            (CHOICE, "Are you considering a career in public safety?", ["Yes", "Maybe", "No"], True, False, False),
            (TEXT, "What should we change or keep?", [], False, False, False),
        ],
    ),
    (
        "internship-mentors",
        "End of internship (mentors)",
        "placement",
        "mentors",
        [
            (AGREE, "The intern was prepared for the placement.", [], True, False, False),
            (AGREE, "The school and the agency supported me as a mentor.", [], True, False, False),
            (SCALE, "How likely are you to mentor again?", [], True, False, False),
            (TEXT, "What should we change or keep?", [], False, False, False),
        ],
    ),
]


def install(apps=None, schema_editor=None):
    """Create what is missing; idempotent. ``apps`` is a migration's registry, or the live one."""
    apps = apps or live_apps
    Metric = apps.get_model("evaluations", "Metric")
    SurveyTemplate = apps.get_model("evaluations", "SurveyTemplate")
    Question = apps.get_model("evaluations", "Question")
    if Metric.objects.filter(code__in=[m[0] for m in METRICS]).count() == len(
        METRICS
    ) and SurveyTemplate.objects.filter(code__in=[t[0] for t in TEMPLATES]).count() == len(TEMPLATES):
        return  # all there: two queries, so tests can call this before each one
    for code, name, unit, description in METRICS:
        Metric.objects.update_or_create(
            code=code,
            defaults={"name": name, "unit": unit, "description": description, "kind": "computed", "computation": code},
        )
    for code, name, subject, audience, questions in TEMPLATES:
        template, created = SurveyTemplate.objects.get_or_create(
            code=code, defaults={"name": name, "subject": subject, "audience": audience}
        )
        if not created:
            continue
        for position, (kind, text, choices, required, protected, satisfaction) in enumerate(questions, start=1):
            Question.objects.create(
                template=template,
                position=position,
                kind=kind,
                text=text,
                choices=choices,
                required=required,
                protected_topic=protected,
                measures_satisfaction=satisfaction,
            )


def remove(apps, schema_editor=None):
    apps.get_model("evaluations", "SurveyTemplate").objects.filter(code__in=[t[0] for t in TEMPLATES]).delete()
    apps.get_model("evaluations", "Metric").objects.filter(code__in=[m[0] for m in METRICS]).delete()

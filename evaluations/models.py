"""Evaluations: metrics and targets with monthly snapshots, and feedback surveys.

Anonymity is a property of the schema, not of the pages: who was invited and when they
answered (``SurveyInvitation``) lives apart from what was answered (``Response``,
``Answer``). Neither answer table has a key to a person or to an invitation, their keys
are random UUIDs and their only time is a date, so the rows cannot be joined back by id
order or by timestamp. ``tests/evaluations/test_anonymity.py`` checks this by introspection.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TimestampedModel
from evaluations.enums import (
    Audience,
    Computation,
    Direction,
    MeasurementStatus,
    MetricKind,
    QuestionKind,
    Subject,
    SurveyStatus,
    TargetStatus,
    TextReview,
    Unit,
)
from partnerships.models import Agreement

AMOUNT = {"max_digits": 12, "decimal_places": 2}


# Metrics, measurements, targets, snapshots.


class Metric(TimestampedModel):
    """What is measured: a built-in computation, or a figure coordinators enter by hand."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=MetricKind)
    computation = models.CharField(max_length=40, choices=Computation, blank=True)
    unit = models.CharField(max_length=10, choices=Unit, default=Unit.COUNT)
    # A manual metric belongs to the agreement whose coordinators defined it; built-ins to none.
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, null=True, blank=True, related_name="manual_metrics"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="computed") & ~Q(computation="") & Q(agreement__isnull=True))
                | (Q(kind="manual") & Q(computation="") & Q(agreement__isnull=False)),
                name="evaluations_metric_kind_shape",
            ),
            models.UniqueConstraint(
                fields=["computation"], condition=~Q(computation=""), name="evaluations_metric_one_per_computation"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_computed(self) -> bool:
        return self.kind == MetricKind.COMPUTED


class Measurement(TimestampedModel):
    """A value of a manual metric for a period, with its source; approved values are locked."""

    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="measurements")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="measurements")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, null=True, blank=True, related_name="measurements"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(**AMOUNT)
    source = models.CharField(
        max_length=250, help_text=_("Where the figure comes from, e.g. the spring climate survey.")
    )
    status = models.CharField(max_length=10, choices=MeasurementStatus, default=MeasurementStatus.PENDING)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="evaluations_measurement_period"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", approved_at__isnull=True)
                | Q(status="approved", approved_at__isnull=False),
                name="evaluations_measurement_approval_shape",
            ),
        ]

    def __str__(self):
        return f"{self.metric}: {self.value} ({self.period_start} – {self.period_end})"

    @property
    def is_locked(self) -> bool:
        return self.status == MeasurementStatus.APPROVED


class Target(TimestampedModel):
    """What an agreement (optionally one of its programs) aims for on a metric over a period."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="targets")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, null=True, blank=True, related_name="targets"
    )
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="targets")
    period_start = models.DateField()
    period_end = models.DateField()
    target_value = models.DecimalField(**AMOUNT)
    direction = models.CharField(max_length=10, choices=Direction, default=Direction.AT_LEAST)
    baseline = models.DecimalField(**AMOUNT, null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["period_start", "metric__name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="evaluations_target_period"),
            models.UniqueConstraint(
                fields=["agreement", "metric", "period_start", "period_end"],
                condition=Q(program__isnull=True),
                name="evaluations_target_once_per_agreement",
            ),
            models.UniqueConstraint(
                fields=["agreement", "program", "metric", "period_start", "period_end"],
                condition=Q(program__isnull=False),
                name="evaluations_target_once_per_program",
            ),
        ]

    def __str__(self):
        return f"{self.metric} {self.get_direction_display().lower()} {self.target_value}"


class Snapshot(models.Model):
    """A target's actual value and status at one month, written by the nightly task (one per month)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="snapshots")
    month = models.DateField(help_text=_("The first day of the month."))
    actual = models.DecimalField(**AMOUNT, null=True, blank=True)
    status = models.CharField(max_length=10, choices=TargetStatus)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["target", "month"]
        constraints = [
            models.UniqueConstraint(fields=["target", "month"], name="evaluations_snapshot_once_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="evaluations_snapshot_first_of_month"),
        ]

    def __str__(self):
        return f"{self.target} at {self.month:%Y-%m}: {self.actual}"


# Surveys.


class SurveyTemplate(TimestampedModel):
    """A questionnaire for one audience about sessions or placements."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    subject = models.CharField(max_length=10, choices=Subject)
    audience = models.CharField(max_length=15, choices=Audience)
    is_active = models.BooleanField(default=True, help_text=_("Only active templates generate surveys."))

    class Meta:
        ordering = ["subject", "audience", "name"]

    def __str__(self):
        return self.name

    @property
    def has_protected_topics(self) -> bool:
        return any(q.protected_topic for q in self.questions.all())


class Question(models.Model):
    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=QuestionKind)
    text = models.CharField(max_length=300)
    choices = models.JSONField(default=list, blank=True, help_text=_("The options of a single-choice question."))
    required = models.BooleanField(default=True)
    protected_topic = models.BooleanField(
        default=False,
        help_text=_(
            "Touches an area such as illegal behaviour or mental health: never sent to minors without consent."
        ),
    )
    measures_satisfaction = models.BooleanField(
        default=False, help_text=_("Its mean is the 'average session satisfaction' metric.")
    )

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="evaluations_question_position"),
            models.CheckConstraint(
                condition=Q(measures_satisfaction=False) | Q(kind="likert"),
                name="evaluations_satisfaction_is_likert",
            ),
        ]

    def __str__(self):
        return self.text


class Survey(models.Model):
    """One template sent about one delivered session or one finished placement (exactly once)."""

    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="surveys")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="surveys")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="surveys"
    )
    session = models.ForeignKey(
        "programs.Session", on_delete=models.PROTECT, null=True, blank=True, related_name="surveys"
    )
    placement = models.ForeignKey(
        "internships.Placement", on_delete=models.PROTECT, null=True, blank=True, related_name="surveys"
    )
    title = models.CharField(max_length=250)
    opened_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=SurveyStatus, default=SurveyStatus.OPEN)
    min_group_size = models.PositiveSmallIntegerField(
        default=3, help_text=_("Results of a group with fewer respondents are not shown.")
    )

    class Meta:
        ordering = ["-opened_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False, placement__isnull=True)
                | Q(session__isnull=True, placement__isnull=False),
                name="evaluations_survey_one_subject",
            ),
            models.UniqueConstraint(
                fields=["template", "session"],
                condition=Q(session__isnull=False),
                name="evaluations_survey_once_per_session",
            ),
            models.UniqueConstraint(
                fields=["template", "placement"],
                condition=Q(placement__isnull=False),
                name="evaluations_survey_once_per_placement",
            ),
            models.CheckConstraint(condition=Q(closes_at__gt=F("opened_at")), name="evaluations_survey_window"),
            models.CheckConstraint(condition=Q(min_group_size__gte=1), name="evaluations_survey_min_group"),
        ]
        indexes = [
            models.Index(fields=["status", "closes_at"], name="evaluations_survey_closing"),
            # The survey lists, newest first: a page of 25 without sorting every survey.
            models.Index(fields=["-opened_at", "-id"], name="evaluations_survey_newest"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.OPEN and timezone.now() < self.closes_at


class SurveyConsent(models.Model):
    """A recorded consent for a survey with protected-topic questions to reach minors.

    For an intern it names the student; for a class answering a session survey it names the
    booking and how many of the group's students have a guardian's consent on file.
    """

    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="consents")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="survey_consents"
    )
    booking = models.ForeignKey(
        "programs.Booking", on_delete=models.CASCADE, null=True, blank=True, related_name="survey_consents"
    )
    students_count = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("For a group: the students whose guardians consented.")
    )
    note = models.CharField(max_length=250, blank=True, help_text=_("How consent was collected, e.g. signed forms."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(student__isnull=False, booking__isnull=True, students_count__isnull=True)
                | Q(student__isnull=True, booking__isnull=False, students_count__gte=1),
                name="evaluations_consent_shape",
            ),
            models.UniqueConstraint(
                fields=["template", "student"], condition=Q(student__isnull=False), name="evaluations_consent_student"
            ),
            models.UniqueConstraint(
                fields=["template", "booking"], condition=Q(booking__isnull=False), name="evaluations_consent_booking"
            ),
        ]

    def __str__(self):
        return f"Consent for {self.template}"


class Distribution(models.Model):
    """A set of single-use student links for one class, handed out by the booking teacher.

    The links are shown once, when the teacher asks for them (only their hashes are kept);
    a new set for the same class withdraws the unused links of the set before.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="distributions")
    booking = models.ForeignKey("programs.Booking", on_delete=models.CASCADE, related_name="survey_distributions")
    size = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(size__gte=1), name="evaluations_distribution_size")]

    def __str__(self):
        return f"{self.size} links for {self.booking}"


class SurveyInvitation(models.Model):
    """Who may answer: a single-use link. Whether it was used is a date, never a time."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    # Only a SHA-256 of the secret is kept; the secret travels once (email or the teacher's sheet).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    audience = models.CharField(max_length=15, choices=Audience)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="survey_invitations"
    )
    email = models.EmailField(blank=True)
    institution = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    distribution = models.ForeignKey(
        Distribution, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    created_on = models.DateField(default=timezone.localdate)
    used_on = models.DateField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["survey", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "user"], condition=Q(user__isnull=False), name="evaluations_invitation_once_per_user"
            ),
        ]
        indexes = [models.Index(fields=["survey", "used_on"], name="evaluations_invitation_used")]

    def __str__(self):
        return f"Invitation to {self.survey}"


class Response(models.Model):
    """What one respondent answered: no person, no invitation, a random key and a date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    audience = models.CharField(max_length=15, choices=Audience)
    # The respondent's school, for breakdowns that the minimum group size still guards;
    # empty for agency respondents.
    institution = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    submitted_on = models.DateField()

    class Meta:
        ordering = ["survey", "submitted_on"]

    def __str__(self):
        return f"A response to {self.survey}"


class Answer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=150, blank=True)
    text = models.TextField(blank=True)
    review = models.CharField(max_length=10, choices=TextReview, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="evaluations_answer_once"),
            models.CheckConstraint(condition=Q(review="") | ~Q(text=""), name="evaluations_review_only_text"),
        ]

    def __str__(self):
        return f"Answer to {self.question}"

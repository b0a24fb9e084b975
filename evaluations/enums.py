"""The vocabularies of evaluations: metrics, targets, surveys and their questions."""

from enum import nonmember

from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricKind(models.TextChoices):
    COMPUTED = "computed", _("Computed from the data")
    MANUAL = "manual", _("Entered by hand")


class Computation(models.TextChoices):
    """The built-in metrics, each one database aggregate over an agreement (and program) and period."""

    SESSIONS_DELIVERED = "sessions_delivered", _("Sessions delivered")
    STUDENTS_REACHED = "students_reached", _("Students reached")
    FILL_RATE = "fill_rate", _("Seats fill rate")
    SCHOOLS_SERVED = "schools_served", _("Schools served")
    SESSION_SATISFACTION = "session_satisfaction", _("Average session satisfaction")
    SURVEY_RESPONSE_RATE = "survey_response_rate", _("Survey response rate")
    APPLICATIONS_RECEIVED = "applications_received", _("Internship applications received")
    PLACEMENTS_STARTED = "placements_started", _("Placements started")
    PLACEMENTS_COMPLETED = "placements_completed", _("Placements completed")
    COMPLETION_RATE = "completion_rate", _("Placement completion rate")
    MENTORED_HOURS = "mentored_hours", _("Mentored hours approved")
    CHECK_INS_ON_SCHEDULE = "check_ins_on_schedule", _("Check-ins held on schedule")


class Unit(models.TextChoices):
    COUNT = "count", _("Count")
    PERCENT = "percent", _("Percent")
    HOURS = "hours", _("Hours")
    SCORE = "score", _("Score")

    # A count or hours accumulate over a period; a rate or score is a level at any time.
    cumulative = nonmember(("count", "hours"))


class Direction(models.TextChoices):
    AT_LEAST = "at_least", _("At least")
    AT_MOST = "at_most", _("At most")


class TargetStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    MISSED = "missed", _("Missed")
    NO_DATA = "no_data", _("No data yet")


class MeasurementStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")


class QuestionKind(models.TextChoices):
    LIKERT = "likert", _("Agreement, 1–5")
    SCALE = "scale", _("Scale, 0–10")
    CHOICE = "choice", _("Single choice")
    TEXT = "text", _("Free text")

    numeric = nonmember(("likert", "scale"))


class Audience(models.TextChoices):
    STAFF = "staff", _("School staff")
    STUDENTS = "students", _("Students")
    FACILITATORS = "facilitators", _("Facilitating officers")
    MENTORS = "mentors", _("Mentors")
    INTERNS = "interns", _("Interns")


class Subject(models.TextChoices):
    """What a survey asks about."""

    SESSION = "session", _("A delivered workshop session")
    PLACEMENT = "placement", _("A finished internship placement")


AUDIENCES_OF = {
    Subject.SESSION: (Audience.STAFF, Audience.STUDENTS, Audience.FACILITATORS),
    Subject.PLACEMENT: (Audience.INTERNS, Audience.MENTORS),
}


class SurveyStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TextReview(models.TextChoices):
    """A free-text answer reaches agency users only once a school coordinator publishes it."""

    PENDING = "pending", _("Awaiting review")
    PUBLISHED = "published", _("Publishable")
    WITHHELD = "withheld", _("Withheld")

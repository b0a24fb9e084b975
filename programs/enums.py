from enum import nonmember

from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.TextChoices):
    BULLYING = "bullying", _("Bullying")
    DRUG_AWARENESS = "drug_awareness", _("Drug awareness")
    PERSONAL_SAFETY = "personal_safety", _("Personal safety")
    ONLINE_SAFETY = "online_safety", _("Online safety")
    CONFLICT_RESOLUTION = "conflict_resolution", _("Conflict resolution")
    CRIME_PREVENTION = "crime_prevention", _("Crime prevention")
    COMMUNITY_RELATIONS = "community_relations", _("Community relations")
    CAREERS = "careers", _("Careers in public safety")
    OTHER = "other", _("Other")


class GradeBand(models.TextChoices):
    ELEMENTARY = "elementary", _("Elementary (K–5)")
    MIDDLE = "middle", _("Middle school (6–8)")
    HIGH = "high", _("High school (9–12)")
    COLLEGE = "college", _("College and university")
    ALL = "all", _("All ages")


class Format(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIRTUAL = "virtual", _("Virtual")
    HYBRID = "hybrid", _("Hybrid")


class LocationKind(models.TextChoices):
    SCHOOL = "school", _("At a school")
    VENUE = "venue", _("At a venue")
    VIRTUAL = "virtual", _("Virtual")


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


SESSION_TRANSITIONS = {
    (SessionStatus.SCHEDULED, SessionStatus.DELIVERED),
    (SessionStatus.SCHEDULED, SessionStatus.CANCELLED),
}


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CANCELLED = "cancelled", _("Cancelled")

    active = nonmember(("requested", "confirmed", "waitlisted"))


BOOKING_TRANSITIONS = {
    (BookingStatus.REQUESTED, BookingStatus.CONFIRMED),
    (BookingStatus.REQUESTED, BookingStatus.WAITLISTED),
    (BookingStatus.REQUESTED, BookingStatus.CANCELLED),
    (BookingStatus.WAITLISTED, BookingStatus.CONFIRMED),
    (BookingStatus.WAITLISTED, BookingStatus.CANCELLED),
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED),
}


class BlackoutKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    TESTING = "testing", _("Testing window")
    EARLY_RELEASE = "early_release", _("Early-release day")
    TRAINING = "training", _("Training or deployment")
    OTHER = "other", _("Other")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SCHEDULED = "scheduled", _("Scheduled")
    DECLINED = "declined", _("Declined")

from enum import nonmember

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.enums import GradeLevel  # noqa: F401  (re-exported: postings are open to grades)


class PostingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


POSTING_TRANSITIONS = {
    (PostingStatus.DRAFT, PostingStatus.OPEN),
    (PostingStatus.OPEN, PostingStatus.CLOSED),
    (PostingStatus.CLOSED, PostingStatus.OPEN),
}


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    INTERVIEW = "interview", _("Interview")
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REJECTED = "rejected", _("Not selected")
    WITHDRAWN = "withdrawn", _("Withdrawn")

    # Reviewers move these; the student acts on the rest.
    in_review = nonmember(("submitted", "under_review", "interview", "offered"))
    live = nonmember(("draft", "submitted", "under_review", "interview", "offered"))
    closed = nonmember(("accepted", "declined", "rejected", "withdrawn"))


_A = ApplicationStatus
APPLICATION_TRANSITIONS = {
    (_A.DRAFT, _A.SUBMITTED),
    (_A.DRAFT, _A.WITHDRAWN),
    (_A.SUBMITTED, _A.UNDER_REVIEW),
    (_A.UNDER_REVIEW, _A.INTERVIEW),
    (_A.UNDER_REVIEW, _A.OFFERED),
    (_A.INTERVIEW, _A.INTERVIEW),  # rescheduled: a new interview, recorded as a step
    (_A.INTERVIEW, _A.OFFERED),
    (_A.OFFERED, _A.ACCEPTED),
    (_A.OFFERED, _A.DECLINED),
    (_A.OFFERED, _A.UNDER_REVIEW),  # the offer expired or was withdrawn by the agency
    *((status, _A.REJECTED) for status in ("submitted", "under_review", "interview", "offered")),
    *((status, _A.WITHDRAWN) for status in ("submitted", "under_review", "interview", "offered")),
}


class RejectionReason(models.TextChoices):
    FILLED = "filled", _("All places have been filled")
    ELIGIBILITY = "eligibility", _("The eligibility requirements are not met")
    AVAILABILITY = "availability", _("The availability does not match the placement")
    OTHER_CANDIDATES = "other_candidates", _("Other applicants matched the placement more closely")
    NO_RESPONSE = "no_response", _("We could not reach the applicant")
    OTHER = "other", _("Other reason (see the note)")


class OfferStatus(models.TextChoices):
    LIVE = "live", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class InterviewStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class PlacementStatus(models.TextChoices):
    PENDING = "pending", _("Pending consent or mentor")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    COMPLETED = "completed", _("Completed")
    ENDED_EARLY = "ended_early", _("Ended early")

    running = nonmember(("pending", "active", "suspended"))


_P = PlacementStatus
PLACEMENT_TRANSITIONS = {
    (_P.PENDING, _P.ACTIVE),
    (_P.PENDING, _P.ENDED_EARLY),
    (_P.ACTIVE, _P.SUSPENDED),
    (_P.ACTIVE, _P.COMPLETED),
    (_P.ACTIVE, _P.ENDED_EARLY),
    (_P.SUSPENDED, _P.ACTIVE),
    (_P.SUSPENDED, _P.ENDED_EARLY),
}


class ConsentStatus(models.TextChoices):
    AWAITING_GUARDIAN = "awaiting_guardian", _("Waiting for a guardian to be named")
    PENDING = "pending", _("Sent to the guardian")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Link expired")

    open = nonmember(("awaiting_guardian", "pending"))


class ConsentMethod(models.TextChoices):
    LINK = "link", _("Guardian's link")
    PAPER = "paper", _("Paper form recorded by a coordinator")


class HoursStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for the mentor")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for correction")


class CheckInStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class EvaluationAuthor(models.TextChoices):
    STUDENT = "student", _("Student")
    MENTOR = "mentor", _("Mentor")


class AccessPurpose(models.TextChoices):
    REVIEW = "review", _("Reviewing an application")
    MENTORING = "mentoring", _("Mentoring a placement")
    COORDINATION = "coordination", _("Coordinating a placement")
    RESUME = "resume", _("Reading a résumé")

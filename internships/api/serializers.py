"""Shapes of the internships API. Output serializers are read-only; input serializers check
shape only, the rules live in internships.services.

A student's personal data in an application or placement is shown per data-sharing category
(``selectors.visible_fields``): a part the caller may not see is null, never left out."""

from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import access
from accounts.enums import GradeLevel, OrganizationKind, Role
from accounts.models import Organization, User
from config.serializers import ReadPlanModelSerializer
from internships import rules, selectors
from internships.enums import ConsentStatus, RejectionReason
from internships.models import (
    Application,
    ApplicationTransition,
    CheckIn,
    Clearance,
    ClearanceKind,
    GuardianConsent,
    HoursEntry,
    Interview,
    Offer,
    Placement,
    Posting,
    StudentRecordAccess,
)
from partnerships.models import Agreement, AgreementParty
from partnerships.selectors import agreement_ids_for

TEXT = 2000
LONG_TEXT = 10000
SMALL_MAX = 32767  # PositiveSmallIntegerField
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200
MAX_ID = 2**63 - 1


# Fields.


class MomentField(serializers.DateTimeField):
    """A date-time within years the calendar arithmetic can handle (no year 1 or 9999)."""

    default_error_messages = {"range": f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            self.fail("range")
        return moment


class DayField(serializers.DateField):
    default_error_messages = {"range": f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            self.fail("range")
        return day


def _user(field):
    return field.context["request"].user


@extend_schema_field(OpenApiTypes.INT)
class _ScopedField(serializers.PrimaryKeyRelatedField):
    """An object the caller can see, by id; any other id is "does not exist"."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)

    def scoped(self, user):
        raise NotImplementedError

    def get_queryset(self):
        return self.scoped(_user(self))


class ScopedAgreementField(_ScopedField):
    def scoped(self, user):
        return access.visible(user, Agreement).prefetch_related("parties")


class ScopedPostingField(_ScopedField):
    def scoped(self, user):
        return access.visible(user, Posting).select_related("agency", "agreement")


class ScopedPlacementField(_ScopedField):
    def scoped(self, user):
        return access.visible(user, Placement).select_related("posting__agency", "student")


class ScopedClearanceKindField(_ScopedField):
    def scoped(self, user):
        return access.visible(user, ClearanceKind).select_related("agency")


class ScopedPersonField(_ScopedField):
    """A person the caller can see (the services check the role: an officer of the agency)."""

    def scoped(self, user):
        return access.visible(user, User)


def partner_organizations(user):
    """Organizations of the agreements the user can see, and the user's own (adult) ones."""
    if access.is_admin(user):
        return Organization.objects.all()
    own = {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}
    parties = AgreementParty.objects.filter(agreement_id__in=agreement_ids_for(user)).values("organization_id")
    return Organization.objects.filter(Q(pk__in=own) | Q(pk__in=parties))


class PartnerOrganizationField(_ScopedField):
    """An organization the caller works with: theirs or a party of an agreement they see."""

    def scoped(self, user):
        return partner_organizations(user)


class OwnAgencyField(_ScopedField):
    """One of the caller's own agencies (admins: any agency)."""

    def scoped(self, user):
        return access.visible(user, Organization).filter(kind=OrganizationKind.AGENCY)


# Postings.


class PostingSerializer(ReadPlanModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    grade_levels = serializers.ListField(child=serializers.ChoiceField(choices=GradeLevel.choices), read_only=True)
    institutions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    accepted_count = serializers.IntegerField(source="accepted", read_only=True)
    applied = serializers.SerializerMethodField()

    class Meta:
        model = Posting
        fields = [
            "id",
            "agreement",
            "agency",
            "agency_name",
            "title",
            "description",
            "unit",
            "location",
            "is_remote",
            "start_date",
            "end_date",
            "hours_per_week",
            "required_hours",
            "slots",
            "accepted_count",
            "apply_by",
            "min_age",
            "grade_levels",
            "institutions",
            "requirements",
            "is_paid",
            "offer_valid_days",
            "status",
            "closed_reason",
            "applied",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_applied(self, posting) -> bool | None:
        """For a student: whether they have applied. Null for everyone else."""
        return getattr(posting, "applied", None)


class PostingFieldsSerializer(serializers.Serializer):
    """What a coordinator sets on a posting; the service checks how the values fit together."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=LONG_TEXT)
    unit = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    location = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")
    is_remote = serializers.BooleanField(default=False)
    start_date = DayField()
    end_date = DayField()
    hours_per_week = serializers.IntegerField(min_value=1, max_value=40)
    required_hours = serializers.IntegerField(min_value=1, max_value=SMALL_MAX)
    slots = serializers.IntegerField(min_value=1, max_value=SMALL_MAX)
    apply_by = DayField()
    min_age = serializers.IntegerField(min_value=13, max_value=25, required=False, allow_null=True, default=None)
    grade_levels = serializers.ListField(
        child=serializers.ChoiceField(choices=GradeLevel.choices), required=False, default=list, max_length=10
    )
    institutions = serializers.ManyRelatedField(
        child_relation=PartnerOrganizationField(),
        required=False,
        help_text="Institutions whose students may apply; the agreement's institutions when left out.",
    )
    requirements = serializers.CharField(max_length=LONG_TEXT, required=False, allow_blank=True, default="")
    is_paid = serializers.BooleanField(default=False)
    offer_valid_days = serializers.IntegerField(min_value=1, max_value=365, default=7)


class PostingRefSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()
    agency = PartnerOrganizationField()


class PostingCreateSerializer(PostingRefSerializer, PostingFieldsSerializer):
    pass


class PostingUpdateSerializer(PostingFieldsSerializer):
    """Every field optional (PATCH)."""


class CloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# Applications.

# Which keys of an application or placement each part of ``selectors.visible_fields`` covers.
PERSONAL_KEYS = {
    "name": ("student_name",),
    "level": ("student_level",),
    "email": ("student_email",),
    "availability": ("availability",),
    "statement": ("statement",),
    "resume": ("resume_name", "resume_url"),
}


def _hide_personal(data: dict, shown: set[str]) -> dict:
    for part, keys in PERSONAL_KEYS.items():
        if part not in shown:
            for key in keys:
                if key in data:
                    data[key] = None
    return data


def student_level(application: Application) -> str | None:
    """The student's level at the application's institution: from the grade and the kind of
    institution the page query read (``student_grade_level``, null without a student membership
    there; ``institution_kind``), else from the membership."""
    if hasattr(application, "student_grade_level"):
        grade = application.student_grade_level
        return None if grade is None else rules.level_at(application.institution_kind, grade) or None
    membership = (
        application.student.memberships.filter(role=Role.STUDENT, organization_id=application.institution_id)
        .select_related("organization")
        .first()
    )
    return None if membership is None else rules.level_of(membership) or None


class TransitionSerializer(ReadPlanModelSerializer):
    by_name = serializers.SerializerMethodField()

    class Meta:
        model = ApplicationTransition
        fields = ["id", "from_status", "to_status", "by", "by_name", "at", "note"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_by_name(self, transition) -> str | None:
        return transition.by.full_name if transition.by_id else None


class ApplicationSerializer(ReadPlanModelSerializer):
    """An application as the API's querysets read it: the student's and institution's names
    (``selectors.application_list_for``), the student's email and grade and the institution's
    kind (``api.views.APPLICATION_COLUMNS``) are columns of its query."""

    posting_title = serializers.CharField(source="posting.title", read_only=True)
    agency = serializers.IntegerField(source="posting.agency_id", read_only=True)
    agency_name = serializers.CharField(source="posting.agency.name", read_only=True)
    institution_name = serializers.CharField(read_only=True)
    student_name = serializers.CharField(read_only=True, allow_null=True)
    student_email = serializers.EmailField(read_only=True, allow_null=True)
    student_level = serializers.SerializerMethodField()
    statement = serializers.CharField(read_only=True, allow_null=True)
    availability = serializers.CharField(read_only=True, allow_null=True)
    resume_name = serializers.CharField(read_only=True, allow_null=True)
    resume_url = serializers.SerializerMethodField()
    shown_fields = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "posting",
            "posting_title",
            "agency",
            "agency_name",
            "student",
            "student_name",
            "student_email",
            "student_level",
            "institution",
            "institution_name",
            "statement",
            "availability",
            "resume_name",
            "resume_url",
            "status",
            "submitted_at",
            "rejection_reason",
            "shown_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _shown(self, record) -> set[str]:
        cache = self.context.setdefault("_shown_fields", {})
        key = (type(record), record.pk)
        if key not in cache:
            cache[key] = selectors.visible_fields(self.context["request"].user, record)
        return cache[key]

    @extend_schema_field(serializers.ChoiceField(choices=GradeLevel.choices, allow_null=True))
    def get_student_level(self, application) -> str | None:
        return student_level(application)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resume_url(self, application) -> str | None:
        """The résumé is served by its page, which checks access and records the read."""
        if not application.resume:
            return None
        return reverse("internships:application_resume", args=[application.pk])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_shown_fields(self, application) -> list[str]:
        """The parts of the student's record the caller may read (the others are null)."""
        return sorted(self._shown(application))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.resume:
            data["resume_name"] = None
        return _hide_personal(data, self._shown(instance))


class ApplicationDetailSerializer(ApplicationSerializer):
    transitions = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "transitions"]
        read_only_fields = fields

    @extend_schema_field(TransitionSerializer(many=True))
    def get_transitions(self, application):
        """Every step of the pipeline, oldest first. The student's own name is hidden as the
        author of a step where their name is."""
        rows = TransitionSerializer(application.transitions.all(), many=True, context=self.context).data
        if "name" not in self._shown(application):
            for row in rows:
                if row["by"] == application.student_id:
                    row["by_name"] = None
        return rows


class ApplyRefSerializer(serializers.Serializer):
    posting = ScopedPostingField()


class ApplySerializer(ApplyRefSerializer):
    statement = serializers.CharField(max_length=LONG_TEXT)
    availability = serializers.CharField(max_length=500)
    resume = serializers.FileField(
        required=False, allow_null=True, default=None, max_length=250, help_text="A PDF of at most 5 MB."
    )
    submit = serializers.BooleanField(default=True, help_text="False keeps a draft the student submits later.")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class InterviewInputSerializer(serializers.Serializer):
    starts_at = MomentField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=480, default=30)
    location = serializers.CharField(max_length=250)
    notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class OfferInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectionReason.choices)
    note = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class AcceptSerializer(serializers.Serializer):
    guardian_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    guardian_email = serializers.EmailField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A student under 18 on the start date: the guardian who is asked for consent.",
    )


# Interviews and offers.


class InterviewSerializer(ReadPlanModelSerializer):
    posting_title = serializers.CharField(source="application.posting.title", read_only=True)

    class Meta:
        model = Interview
        fields = [
            "id",
            "application",
            "posting_title",
            "starts_at",
            "duration_minutes",
            "location",
            "notes",
            "status",
            "sequence",
            "created_at",
        ]
        read_only_fields = fields


class OfferSerializer(ReadPlanModelSerializer):
    posting_title = serializers.CharField(source="application.posting.title", read_only=True)

    class Meta:
        model = Offer
        fields = ["id", "application", "posting_title", "status", "expires_at", "answered_at", "message", "created_at"]
        read_only_fields = fields


# Guardian consent.


class ConsentSerializer(ReadPlanModelSerializer):
    """The state of a consent request: never its token, never the scan itself."""

    guardian_email = serializers.SerializerMethodField()
    has_scan = serializers.SerializerMethodField()

    class Meta:
        model = GuardianConsent
        fields = [
            "id",
            "placement",
            "status",
            "method",
            "guardian_name",
            "guardian_email",
            "sent_at",
            "expires_at",
            "reminders_sent",
            "decided_at",
            "revoked_at",
            "has_scan",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_guardian_email(self, consent) -> str | None:
        """Only the student and their school (and admins) see where the link went."""
        user = self.context["request"].user
        application = consent.placement.application
        if access.is_admin(user) or rules.is_student_of(user, application) or rules.is_school_side(user, application):
            return consent.guardian_email
        return None

    @extend_schema_field(serializers.BooleanField())
    def get_has_scan(self, consent) -> bool:
        return bool(consent.scan)


class GuardianSerializer(serializers.Serializer):
    guardian_name = serializers.CharField(max_length=150)
    guardian_email = serializers.EmailField()


# Placements.


class PlacementSerializer(ReadPlanModelSerializer):
    posting_title = serializers.CharField(source="posting.title", read_only=True)
    agency = serializers.IntegerField(source="posting.agency_id", read_only=True)
    agency_name = serializers.CharField(source="posting.agency.name", read_only=True)
    institution = serializers.IntegerField(source="application.institution_id", read_only=True)
    institution_name = serializers.CharField(source="application.institution.name", read_only=True)
    student_name = serializers.CharField(source="student.full_name", read_only=True, allow_null=True)
    student_email = serializers.EmailField(source="student.email", read_only=True, allow_null=True)
    mentor_name = serializers.CharField(source="mentor.full_name", read_only=True, default=None, allow_null=True)
    approved_hours = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    pending_hours = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    consent_status = serializers.SerializerMethodField()

    class Meta:
        model = Placement
        fields = [
            "id",
            "application",
            "posting",
            "posting_title",
            "agency",
            "agency_name",
            "institution",
            "institution_name",
            "student",
            "student_name",
            "student_email",
            "mentor",
            "mentor_name",
            "start_date",
            "end_date",
            "required_hours",
            "approved_hours",
            "pending_hours",
            "status",
            "needs_consent",
            "consent_status",
            "check_in_every_days",
            "ended_on",
            "end_reason",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ConsentStatus.choices, allow_null=True))
    def get_consent_status(self, placement) -> str | None:
        """The newest consent request's status; null when the student needs none."""
        if not placement.needs_consent:
            return None
        return getattr(placement, "current_consent_status", None)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return _hide_personal(data, selectors.visible_fields(self.context["request"].user, instance))


class PlacementWithWarningsSerializer(PlacementSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True, default=list)

    class Meta(PlacementSerializer.Meta):
        fields = [*PlacementSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class MentorSerializer(serializers.Serializer):
    mentor = ScopedPersonField(help_text="An officer of the posting's agency, cleared for every day.")


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class EndSerializer(serializers.Serializer):
    completed = serializers.BooleanField(help_text="True: completed; false: ended early (give a reason).")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# Clearances.


class ClearanceKindSerializer(ReadPlanModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)

    class Meta:
        model = ClearanceKind
        fields = ["id", "agency", "agency_name", "name", "description", "is_required"]
        read_only_fields = fields


class ClearanceKindRefSerializer(serializers.Serializer):
    agency = OwnAgencyField()


class ClearanceKindCreateSerializer(ClearanceKindRefSerializer):
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ClearanceSerializer(ReadPlanModelSerializer):
    officer_name = serializers.CharField(source="officer.full_name", read_only=True)
    kind_name = serializers.CharField(source="kind.name", read_only=True)
    agency = serializers.IntegerField(source="kind.agency_id", read_only=True)
    verified_by_name = serializers.CharField(source="verified_by.full_name", read_only=True)

    class Meta:
        model = Clearance
        fields = [
            "id",
            "officer",
            "officer_name",
            "kind",
            "kind_name",
            "agency",
            "reference",
            "issued_on",
            "expires_on",
            "verified_by",
            "verified_by_name",
            "verified_at",
        ]
        read_only_fields = fields


class ClearanceRefSerializer(serializers.Serializer):
    kind = ScopedClearanceKindField()


class ClearanceCreateSerializer(ClearanceRefSerializer):
    officer = ScopedPersonField()
    issued_on = DayField()
    expires_on = DayField()
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


# Hours.


class HoursEntrySerializer(ReadPlanModelSerializer):
    reviewed_by_name = serializers.CharField(
        source="reviewed_by.full_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = HoursEntry
        fields = [
            "id",
            "placement",
            "day",
            "hours",
            "activity",
            "status",
            "reviewed_by",
            "reviewed_by_name",
            "reviewed_at",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class HoursLoggedSerializer(HoursEntrySerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True, default=list)

    class Meta(HoursEntrySerializer.Meta):
        fields = [*HoursEntrySerializer.Meta.fields, "warnings"]
        read_only_fields = fields


HOURS = {"max_digits": 4, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("24")}


class HoursRefSerializer(serializers.Serializer):
    placement = ScopedPlacementField()


class HoursLogSerializer(HoursRefSerializer):
    day = DayField()
    hours = serializers.DecimalField(**HOURS, help_text="In quarters of an hour.")
    activity = serializers.CharField(max_length=300)


class HoursCorrectSerializer(serializers.Serializer):
    """Every field optional (PATCH); the entry goes back to the mentor."""

    day = DayField(required=False)
    hours = serializers.DecimalField(**HOURS, required=False, help_text="In quarters of an hour.")
    activity = serializers.CharField(max_length=300, required=False)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500)


# Check-ins.


class CheckInSerializer(ReadPlanModelSerializer):
    class Meta:
        model = CheckIn
        fields = [
            "id",
            "placement",
            "due_on",
            "status",
            "held_on",
            "notes",
            "observable_setting",
            "recorded_by",
            "flagged_at",
        ]
        read_only_fields = fields


class CheckInRecordSerializer(serializers.Serializer):
    held = serializers.BooleanField()
    held_on = DayField(required=False, allow_null=True, default=None, help_text="Today when left out.")
    notes = serializers.CharField(max_length=LONG_TEXT)
    observable_setting = serializers.BooleanField(
        default=False, help_text="Held where other adults could see (required with minors)."
    )


# The record of reads.


class RecordAccessSerializer(ReadPlanModelSerializer):
    viewer_name = serializers.CharField(source="viewer.full_name", read_only=True)
    student_name = serializers.CharField(source="student.full_name", read_only=True)
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = StudentRecordAccess
        fields = [
            "id",
            "at",
            "viewer",
            "viewer_name",
            "student",
            "student_name",
            "agreement",
            "record",
            "categories",
            "purpose",
        ]
        read_only_fields = fields

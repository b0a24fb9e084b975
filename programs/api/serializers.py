"""Shapes of the programs API. Output serializers are read-only; input serializers check
shape only, the rules live in programs.services."""

import re
from datetime import datetime

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts import access
from accounts.enums import Role
from accounts.models import Organization
from config.serializers import ReadPlanModelSerializer
from partnerships.models import Agreement, AgreementParty
from partnerships.selectors import agreement_ids_for, partner_people
from programs import selectors
from programs.enums import BlackoutKind, Format, GradeBand, LocationKind, Topic
from programs.models import BlackoutPeriod, Booking, Program, Qualification, Session, SessionRequest, Term

MAX_SEATS = 10000
TEXT = 2000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200


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


WALL_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field({"type": "string", "pattern": WALL_CLOCK, "example": "09:30"})
class WallClockField(serializers.TimeField):
    """A time of day on the school's own clock: ``HH:MM`` or ``HH:MM:SS``, without an offset."""

    default_error_messages = {"wall_clock": "Give a time of day as HH:MM, without a time zone."}

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(WALL_CLOCK, value):
            self.fail("wall_clock")
        return super().to_internal_value(value)


def _request_user(field):
    return field.context["request"].user


@extend_schema_field(OpenApiTypes.INT)
class ScopedAgreementField(serializers.PrimaryKeyRelatedField):
    """An agreement the caller can see; any other id is "does not exist"."""

    def get_queryset(self):
        return access.visible(_request_user(self), Agreement)


@extend_schema_field(OpenApiTypes.INT)
class ScopedProgramField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return access.visible(_request_user(self), Program).select_related("agreement")


@extend_schema_field(OpenApiTypes.INT)
class ScopedSessionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return access.visible(_request_user(self), Session).select_related("program__agreement", "school")


def partner_organizations(user):
    """Organizations of the agreements the user can see, and the user's own (adult) ones."""
    if access.is_admin(user):
        return Organization.objects.all()
    own = {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}
    parties = AgreementParty.objects.filter(agreement_id__in=agreement_ids_for(user)).values("organization_id")
    return Organization.objects.filter(Q(pk__in=own) | Q(pk__in=parties))


@extend_schema_field(OpenApiTypes.INT)
class PartnerOrganizationField(serializers.PrimaryKeyRelatedField):
    """An organization the caller works with: theirs or a party of an agreement they see."""

    def get_queryset(self):
        return partner_organizations(_request_user(self))


@extend_schema_field(OpenApiTypes.INT)
class OwnOrganizationField(serializers.PrimaryKeyRelatedField):
    """One of the caller's own organizations (admins: any)."""

    def get_queryset(self):
        return access.visible(_request_user(self), Organization)


@extend_schema_field(OpenApiTypes.INT)
class FacilitatorsField(serializers.PrimaryKeyRelatedField):
    """People of the parties of the agreements the caller sees; the service checks that each
    is an officer of the agreement's agency."""

    def get_queryset(self):
        return partner_people(_request_user(self))


def facilitators_field(**kwargs):
    return serializers.ManyRelatedField(child_relation=FacilitatorsField(), required=False, **kwargs)


# The catalog.


class ProgramSerializer(ReadPlanModelSerializer):
    required_qualification_name = serializers.CharField(
        source="required_qualification.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Program
        fields = [
            "id",
            "agreement",
            "title",
            "description",
            "topic",
            "grade_band",
            "objectives",
            "format",
            "duration_minutes",
            "required_qualification",
            "required_qualification_name",
            "default_capacity_seats",
            "created_at",
        ]
        read_only_fields = fields


class AgreementRefSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()


class ProgramCreateSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")
    topic = serializers.ChoiceField(choices=Topic.choices)
    grade_band = serializers.ChoiceField(choices=GradeBand.choices)
    objectives = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")
    format = serializers.ChoiceField(choices=Format.choices, default=Format.IN_PERSON)
    duration_minutes = serializers.IntegerField(min_value=5, max_value=24 * 60, default=60)
    required_qualification = serializers.PrimaryKeyRelatedField(
        queryset=Qualification.objects.all(), required=False, allow_null=True, default=None
    )
    default_capacity_seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS, default=30)


# Sessions.


class SessionListSerializer(serializers.ListSerializer):
    """A page of sessions has its facilitators' ids from its own query on PostgreSQL, else reads
    them in one query of id pairs; and who may see the join links of those that have one in
    another (none for a page without links)."""

    def to_representation(self, data):
        sessions = list(data.all() if hasattr(data, "all") else data)
        selectors.attach_facilitator_ids(sessions)
        selectors.mark_joinable(self.context["request"].user, sessions)
        return super().to_representation(sessions)


class SessionSerializer(ReadPlanModelSerializer):
    """A session as ``programs.api.views.session_queryset`` reads it (names as columns)."""

    program_title = serializers.CharField(read_only=True)
    school_name = serializers.CharField(read_only=True, allow_null=True)
    facilitators = serializers.SerializerMethodField()
    free_seats = serializers.IntegerField(read_only=True)
    join_url = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "program",
            "program_title",
            "starts_at",
            "ends_at",
            "location_kind",
            "school",
            "school_name",
            "venue",
            "join_url",
            "capacity_seats",
            "confirmed_seats",
            "free_seats",
            "booking_cutoff_hours",
            "waitlist_enabled",
            "facilitators",
            "status",
            "cancel_reason",
            "facilitator_notes",
            "ical_sequence",
        ]
        read_only_fields = fields
        list_serializer_class = SessionListSerializer

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_facilitators(self, session) -> list[int]:
        ids = getattr(session, "facilitator_ids", None)
        return ids if ids is not None else [user.pk for user in session.facilitators.all()]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_join_url(self, session) -> str | None:
        """Only facilitators and people whose booking is confirmed see the link. A list asks
        once for its page (``viewer_may_join``); else the selector decides."""
        user = self.context["request"].user
        if hasattr(session, "viewer_may_join"):
            allowed = selectors.may_join(session)
        else:
            allowed = selectors.can_see_join_link(user, session)
        return session.join_url if allowed else None


class ProgramRefSerializer(serializers.Serializer):
    program = ScopedProgramField()


class SessionCreateSerializer(serializers.Serializer):
    program = ScopedProgramField()
    starts_at = MomentField()
    ends_at = MomentField()
    location_kind = serializers.ChoiceField(choices=LocationKind.choices, default=LocationKind.SCHOOL)
    school = PartnerOrganizationField(required=False, allow_null=True, default=None)
    venue = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")
    join_url = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")
    capacity_seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS, required=False, default=None)
    booking_cutoff_hours = serializers.IntegerField(min_value=0, max_value=24 * 365, default=48)
    waitlist_enabled = serializers.BooleanField(default=True)
    facilitators = facilitators_field()
    override_reason = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": ["A session must end after it starts."]})
        return attrs


class RescheduleSerializer(serializers.Serializer):
    starts_at = MomentField()
    ends_at = MomentField()
    override_reason = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": ["A session must end after it starts."]})
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT)


class CapacitySerializer(serializers.Serializer):
    capacity_seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS)


class AttendanceSerializer(serializers.Serializer):
    attended = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_SEATS),
        help_text="Headcount of each confirmed booking, by booking id.",
    )
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")

    def validate_attended(self, value):
        counts = {}
        for key, count in value.items():
            try:
                booking_id = int(key)
            except (TypeError, ValueError):
                booking_id = None
            if booking_id is None or not 1 <= booking_id < 2**63:
                raise serializers.ValidationError(f"{key!r} is not a booking id.")
            counts[booking_id] = count
        return counts


# Bookings.


class BookingSerializer(ReadPlanModelSerializer):
    """A booking as ``programs.api.views.booking_queryset`` reads it (names as columns)."""

    program_title = serializers.CharField(read_only=True)
    session_starts_at = serializers.DateTimeField(read_only=True)
    institution_name = serializers.CharField(read_only=True)
    booked_by_name = serializers.CharField(read_only=True)
    waitlist_position = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "id",
            "session",
            "program_title",
            "session_starts_at",
            "institution",
            "institution_name",
            "booked_by",
            "booked_by_name",
            "group_name",
            "grade",
            "seats",
            "notes",
            "status",
            "waitlist_position",
            "waitlisted_at",
            "confirmed_at",
            "cancelled_at",
            "attended_count",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=1))
    def get_waitlist_position(self, booking) -> int | None:
        """1 for the first group in line; null unless waitlisted. A list counts the groups
        ahead in its one query (``groups_ahead``); else the selector counts them."""
        return selectors.waitlist_position(booking)


class SessionRefSerializer(serializers.Serializer):
    session = ScopedSessionField()


class BookingCreateSerializer(serializers.Serializer):
    session = ScopedSessionField()
    institution = OwnOrganizationField()
    group_name = serializers.CharField(max_length=120)
    grade = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS)
    notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class BookingCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


# Session requests.


# Named so no component ends in "Request": drf-spectacular reads "SessionRequest" as the request
# half of "Session" and would give it the sessions' status enum.
@extend_schema_serializer(component_name="SessionRequestDetail")
class SessionRequestSerializer(ReadPlanModelSerializer):
    program_title = serializers.CharField(source="program.title", read_only=True)
    preferred_start_time = WallClockField(read_only=True, help_text="Preferred start, in the school's time zone.")
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = SessionRequest
        fields = [
            "id",
            "program",
            "program_title",
            "institution",
            "institution_name",
            "requested_by",
            "window_starts_on",
            "window_ends_on",
            "preferred_start_time",
            "group_name",
            "seats",
            "notes",
            "status",
            "decline_reason",
            "session",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class SessionRequestCreateSerializer(serializers.Serializer):
    program = ScopedProgramField()
    institution = OwnOrganizationField()
    window_starts_on = DayField()
    window_ends_on = DayField()
    preferred_start_time = WallClockField(help_text="Preferred start, in the school's time zone.")
    group_name = serializers.CharField(max_length=120)
    seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS)
    notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["window_ends_on"] < attrs["window_starts_on"]:
            raise serializers.ValidationError({"window_ends_on": ["The window must end on or after its first day."]})
        if (attrs["window_ends_on"] - attrs["window_starts_on"]).days > 366:
            raise serializers.ValidationError({"window_ends_on": ["The window may span at most a year."]})
        return attrs


class ScheduleRequestSerializer(serializers.Serializer):
    starts_at = MomentField()
    facilitators = facilitators_field()
    capacity_seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS, required=False, default=None)
    override_reason = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class ProposedSlotsQuerySerializer(serializers.Serializer):
    facilitators = facilitators_field()


class ProposedSlotsSerializer(serializers.Serializer):
    slots = serializers.ListField(child=serializers.DateTimeField())

    @staticmethod
    def wrap(slots: list[datetime]) -> dict:
        return {"slots": slots}


# Academic calendars.


class TermSerializer(ReadPlanModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = Term
        fields = ["id", "institution", "institution_name", "name", "starts_on", "ends_on"]
        read_only_fields = fields


class TermRefSerializer(serializers.Serializer):
    institution = PartnerOrganizationField()


class TermCreateSerializer(TermRefSerializer):
    name = serializers.CharField(max_length=150)
    starts_on = DayField()
    ends_on = DayField()

    def validate(self, attrs):
        if attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError({"ends_on": ["The last day must be on or after the first day."]})
        return attrs


class BlackoutSerializer(ReadPlanModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = BlackoutPeriod
        fields = ["id", "organization", "organization_name", "name", "kind", "starts_on", "ends_on"]
        read_only_fields = fields


class BlackoutRefSerializer(serializers.Serializer):
    organization = PartnerOrganizationField()


# The request half of the "Blackout" component ("BlackoutRequest"), so "kind" is one enum
# (BlackoutKindEnum) rather than a collision with the organizations' "kind".
@extend_schema_serializer(component_name="Blackout")
class BlackoutCreateSerializer(BlackoutRefSerializer):
    name = serializers.CharField(max_length=150)
    kind = serializers.ChoiceField(choices=BlackoutKind.choices, default=BlackoutKind.HOLIDAY)
    starts_on = DayField()
    ends_on = DayField()

    def validate(self, attrs):
        if attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError({"ends_on": ["The last day must be on or after the first day."]})
        return attrs

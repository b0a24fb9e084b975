from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import access
from accounts.enums import OrganizationKind
from accounts.models import Organization, User
from config.serializers import ReadPlanModelSerializer
from partnerships.enums import DataCategory, DataDirection, LawfulBasis, ResponsibilityKind
from partnerships.models import (
    ActionItem,
    Agreement,
    AgreementParty,
    DataSharingTerm,
    FundingCommitment,
    Meeting,
    Objective,
    Responsibility,
    Signature,
)
from partnerships.selectors import partner_people
from partnerships.services import missing_items


@extend_schema_field(OpenApiTypes.INT)
class ScopedAgreementField(serializers.PrimaryKeyRelatedField):
    """An agreement the caller can see; any other id is "does not exist"."""

    def get_queryset(self):
        return access.visible(self.context["request"].user, Agreement)


class PartySerializer(ReadPlanModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = AgreementParty
        fields = ["id", "agreement", "organization", "organization_name", "role", "contact"]
        read_only_fields = fields


class SignatureSerializer(ReadPlanModelSerializer):
    class Meta:
        model = Signature
        fields = ["id", "agreement", "party", "signer_name", "signer_title", "signed_at"]
        read_only_fields = fields


class ObjectiveSerializer(ReadPlanModelSerializer):
    agreement = ScopedAgreementField()

    class Meta:
        model = Objective
        fields = ["id", "agreement", "description", "measure", "target_on"]


class _PartyScopedSerializer(ReadPlanModelSerializer):
    agreement = ScopedAgreementField()
    party = serializers.PrimaryKeyRelatedField(queryset=AgreementParty.objects.all())

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "party" in fields and not fields["party"].read_only:
            fields["party"].queryset = access.visible(request.user, AgreementParty)
        return fields


class ResponsibilitySerializer(_PartyScopedSerializer):
    kind = serializers.ChoiceField(choices=ResponsibilityKind.choices)

    class Meta:
        model = Responsibility
        fields = ["id", "agreement", "party", "kind", "description"]


class FundingSerializer(_PartyScopedSerializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3)

    class Meta:
        model = FundingCommitment
        fields = ["id", "agreement", "party", "amount", "currency", "period_start", "period_end", "purpose"]


class DataTermSerializer(ReadPlanModelSerializer):
    agreement = ScopedAgreementField()
    category = serializers.ChoiceField(choices=DataCategory.choices)
    direction = serializers.ChoiceField(choices=DataDirection.choices)
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices)
    retention_days = serializers.IntegerField(min_value=1, max_value=36500)

    class Meta:
        model = DataSharingTerm
        fields = ["id", "agreement", "category", "direction", "purpose", "lawful_basis", "retention_days"]


class MissingItemSerializer(serializers.Serializer):
    """One item of the completeness checklist that the agreement still lacks."""

    code = serializers.CharField()
    message = serializers.CharField()


class AgreementSerializer(ReadPlanModelSerializer):
    parties = PartySerializer(many=True, read_only=True)
    missing = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "lineage",
            "version",
            "previous_version",
            "title",
            "purpose",
            "lead_agency",
            "status",
            "starts_on",
            "ends_on",
            "review_interval_months",
            "review_on",
            "activated_at",
            "ended_at",
            "termination_reason",
            "termination_effective_on",
            "parties",
            "missing",
        ]
        read_only_fields = fields

    @extend_schema_field(MissingItemSerializer(many=True))
    def get_missing(self, agreement):
        return [{"code": item.code, "message": item.message} for item in missing_items(agreement)]


class AgreementCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    lead_agency = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(kind=OrganizationKind.AGENCY))
    institutions = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Organization.objects.filter(kind__in=OrganizationKind.institutions), allow_empty=False
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    review_interval_months = serializers.IntegerField(min_value=1, max_value=120, default=24)


class AgreementUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    review_interval_months = serializers.IntegerField(min_value=1, max_value=120, required=False)


class SignInputSerializer(serializers.Serializer):
    party = serializers.IntegerField(min_value=1)
    signer_title = serializers.CharField(max_length=150)


class TerminateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    effective_on = serializers.DateField()


class RenewInputSerializer(serializers.Serializer):
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)


class PartyCreateSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(kind__in=OrganizationKind.institutions)
    )


class MeetingSerializer(ReadPlanModelSerializer):
    agreement = ScopedAgreementField()
    attendees = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.all(), required=False)

    class Meta:
        model = Meeting
        fields = ["id", "agreement", "starts_at", "location", "agenda", "minutes", "status", "attendees"]
        read_only_fields = ["id", "minutes", "status"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["attendees"].child_relation.queryset = partner_people(request.user)
        return fields


class MinutesInputSerializer(serializers.Serializer):
    minutes = serializers.CharField(max_length=20000)


class ActionItemSerializer(ReadPlanModelSerializer):
    agreement = ScopedAgreementField()
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all(), required=False, allow_null=True)

    class Meta:
        model = ActionItem
        fields = ["id", "agreement", "meeting", "description", "owner", "due_on", "done_at"]
        read_only_fields = ["id", "done_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["owner"].queryset = partner_people(request.user)
            fields["meeting"].queryset = access.visible(request.user, Meeting)
        return fields

from rest_framework import serializers

from accounts import access
from accounts.enums import Role
from accounts.models import Invitation, Membership, Organization, User
from config.serializers import ReadPlanModelSerializer


class OrganizationSerializer(ReadPlanModelSerializer):
    contact_email = serializers.CharField(read_only=True)  # may be blank

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "kind",
            "district",
            "street_address",
            "city",
            "region",
            "postal_code",
            "time_zone",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        read_only_fields = fields


class PersonSerializer(ReadPlanModelSerializer):
    """What others see of a person: a name and an email, nothing else."""

    class Meta:
        model = User
        fields = ["id", "full_name", "email"]
        read_only_fields = fields


class MembershipSerializer(ReadPlanModelSerializer):
    user = PersonSerializer(read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "organization",
            "organization_name",
            "role",
            "title",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class MyMembershipSerializer(ReadPlanModelSerializer):
    organization = OrganizationSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "role", "title", "is_active"]
        read_only_fields = fields


class MeSerializer(ReadPlanModelSerializer):
    memberships = serializers.SerializerMethodField()
    is_admin = serializers.BooleanField(source="is_superuser", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "is_admin", "memberships"]
        read_only_fields = fields

    def get_memberships(self, user) -> list[dict]:
        return MyMembershipSerializer(access.active_memberships(user), many=True).data


class InvitationSerializer(ReadPlanModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Invitation
        fields = ["id", "organization", "email", "role", "status", "expires_at", "created_at"]
        read_only_fields = ["id", "status", "expires_at", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["organization"].queryset = access.visible(request.user, Organization)

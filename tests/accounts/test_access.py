import pytest

from accounts import access
from accounts.enums import Role
from accounts.models import AuditEntry, Invitation, Membership, Organization, User
from notifications.models import OutboundMessage
from tests.factories import MembershipFactory


def test_every_model_with_people_data_has_a_scope():
    assert {Organization, Membership, Invitation, AuditEntry, User, OutboundMessage} <= access.scoped_models()


def test_scope_of_unregistered_model_is_an_error(world):
    from django.contrib.sessions.models import Session

    with pytest.raises(LookupError):
        access.visible(world.admin, Session)


def test_organizations_visible_only_to_members(world):
    assert set(access.visible(world.staff_a, Organization)) == {world.school_a}
    assert set(access.visible(world.staff_b, Organization)) == {world.school_b}
    assert list(access.visible(world.loner, Organization)) == []
    assert access.visible(world.admin, Organization).count() == 3


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    for model in access.scoped_models():
        assert access.visible(AnonymousUser(), model).count() == 0


def test_deactivated_membership_gives_no_access(world):
    Membership.objects.filter(user=world.staff_a).update(is_active=False)
    world.staff_a.refresh_from_db()
    assert list(access.visible(world.staff_a, Organization)) == []


def test_deactivated_user_sees_nothing(world):
    world.staff_a.is_active = False
    world.staff_a.save()
    assert access.visible(world.staff_a, Organization).count() == 0


def test_other_school_memberships_are_invisible(world):
    visible = set(access.visible(world.coordinator_b, Membership))
    assert all(m.organization == world.school_b for m in visible)
    assert Membership.objects.filter(organization=world.school_a).count() == 3


def test_coordinator_sees_all_members_of_their_organization(world):
    visible = set(access.visible(world.coordinator_a, Membership).filter(organization=world.school_a))
    assert visible == set(Membership.objects.filter(organization=world.school_a))


def test_students_memberships_hidden_from_staff_and_other_students(world):
    other_student = MembershipFactory(organization=world.school_a, role=Role.STUDENT).user
    staff_sees = access.visible(world.staff_a, Membership)
    assert not staff_sees.filter(role=Role.STUDENT).exists()
    student_sees = set(access.visible(world.student_a, Membership).values_list("user_id", flat=True))
    assert other_student.pk not in student_sees
    assert world.student_a.pk in student_sees
    # students see who coordinates their school, and not the staff list
    assert world.coordinator_a.pk in student_sees
    assert world.staff_a.pk not in student_sees


def test_get_visible_or_404_hides_other_schools_objects(world):
    from django.http import Http404

    with pytest.raises(Http404):
        access.get_visible_or_404(world.staff_b, Organization, pk=world.school_a.pk)
    with pytest.raises(Http404):
        access.get_visible_or_404(world.staff_b, Organization, pk="not-a-number")
    assert access.get_visible_or_404(world.staff_a, Organization, pk=world.school_a.pk) == world.school_a


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("coordinator", True),
        ("admin", True),
        ("staff", False),
        ("student", False),
        ("outsider_coordinator", False),
        ("agency_coordinator", False),
    ],
)
def test_can_manage_organization_only_coordinators_of_it(world, role, expected):
    assert access.can_manage_organization(world.user(role), world.school_a) is expected


@pytest.mark.parametrize(
    ("org", "role", "expected"),
    [
        ("school_a", Role.STUDENT, True),
        ("school_a", Role.STAFF, True),
        ("school_a", Role.OFFICER, False),
        ("agency", Role.OFFICER, True),
        ("agency", Role.STUDENT, False),
    ],
)
def test_can_invite_only_roles_that_fit_the_organization(world, org, role, expected):
    organization = getattr(world, org)
    coordinator = world.coordinator_a if org == "school_a" else world.agency_coordinator
    assert access.can_invite(coordinator, organization, role) is expected


def test_coordinator_cannot_change_own_membership(world):
    own = Membership.objects.get(user=world.coordinator_a)
    other = Membership.objects.get(user=world.staff_a)
    assert access.can_change_membership(world.coordinator_a, own) is False
    assert access.can_change_membership(world.coordinator_a, other) is True
    assert access.can_change_membership(world.coordinator_b, other) is False


def test_messages_visible_only_to_their_recipient(world):
    mine = OutboundMessage.objects.create(
        dedupe_key="a", to_email=world.staff_a.email, user=world.staff_a, subject="s", body_text="b"
    )
    OutboundMessage.objects.create(
        dedupe_key="b", to_email=world.staff_b.email, user=world.staff_b, subject="s", body_text="b"
    )
    assert list(access.visible(world.staff_a, OutboundMessage)) == [mine]

import factory
from allauth.account.models import EmailAddress

from accounts.enums import OrganizationKind, Role
from accounts.models import Membership, Organization, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


# Where the test organizations are: behind the server's TIME_ZONE (New York), so a rule that
# counts days where the organization is, not on the server, is tested as such.
ORGANIZATION_TIME_ZONE = "America/Los_Angeles"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    kind = OrganizationKind.K12_SCHOOL
    city = "Riverside"
    time_zone = ORGANIZATION_TIME_ZONE


class SchoolFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"School {n}")
    kind = OrganizationKind.K12_SCHOOL


class AgencyFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Police Department {n}")
    kind = OrganizationKind.AGENCY


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(SchoolFactory)
    role = Role.STAFF


def member(organization, role, **user_fields) -> User:
    """A new person with one active membership."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organization=organization, role=role)
    return user

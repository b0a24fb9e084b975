"""A small, realistic world to try the product with: two agencies, a district with three
schools, a university, and one person in every role (students include minors)."""

from datetime import date

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.enums import OrganizationKind, Role
from accounts.models import Membership, Organization, User
from config.plugins import app_modules

DEMO_PASSWORD = "partners-demo-2026"

ORGANIZATIONS = [
    # key, name, kind, city, district key
    ("rpd", "Riverside Police Department", OrganizationKind.AGENCY, "Riverside", None),
    ("hcso", "Harbor County Sheriff's Office", OrganizationKind.AGENCY, "Port Harbor", None),
    ("rusd", "Riverside Unified School District", OrganizationKind.DISTRICT, "Riverside", None),
    ("lincoln", "Lincoln High School", OrganizationKind.K12_SCHOOL, "Riverside", "rusd"),
    ("washington", "Washington Middle School", OrganizationKind.K12_SCHOOL, "Riverside", "rusd"),
    ("jefferson", "Jefferson High School", OrganizationKind.K12_SCHOOL, "Eastvale", "rusd"),
    ("stateu", "Riverside State University", OrganizationKind.UNIVERSITY, "Riverside", None),
]

PEOPLE = [
    # email, name, birth date, [(org key, role, title)]
    ("admin@demo.test", "Avery Admin", None, []),
    (
        "coordinator.rpd@demo.test",
        "Dana Brooks",
        None,
        [("rpd", Role.COORDINATOR, "Community Programs Sergeant")],
    ),
    (
        "coordinator.hcso@demo.test",
        "Luis Ortega",
        None,
        [("hcso", Role.COORDINATOR, "Youth Services Lieutenant")],
    ),
    (
        "coordinator.rusd@demo.test",
        "Priya Natarajan",
        None,
        [("rusd", Role.COORDINATOR, "Director of Student Services")],
    ),
    (
        "coordinator.stateu@demo.test",
        "Morgan Lee",
        None,
        [("stateu", Role.COORDINATOR, "Career Center Director")],
    ),
    ("principal.lincoln@demo.test", "Rosa Delgado", None, [("lincoln", Role.COORDINATOR, "Principal")]),
    ("principal.washington@demo.test", "Henry Park", None, [("washington", Role.COORDINATOR, "Principal")]),
    ("principal.jefferson@demo.test", "Alicia Moore", None, [("jefferson", Role.COORDINATOR, "Principal")]),
    ("staff.lincoln@demo.test", "Grace Kim", None, [("lincoln", Role.STAFF, "Counselor")]),
    (
        "staff.washington@demo.test",
        "Samuel Okafor",
        None,
        [("washington", Role.STAFF, "Assistant Principal")],
    ),
    ("staff.jefferson@demo.test", "Elena Petrova", None, [("jefferson", Role.STAFF, "Health Teacher")]),
    (
        "officer.rpd@demo.test",
        "Officer Jamal Carter",
        None,
        [("rpd", Role.OFFICER, "School Resource Officer")],
    ),
    (
        "officer2.rpd@demo.test",
        "Officer Hannah Weiss",
        None,
        [("rpd", Role.OFFICER, "Crime Prevention Officer")],
    ),
    ("deputy.hcso@demo.test", "Deputy Marco Ruiz", None, [("hcso", Role.OFFICER, "Deputy Sheriff")]),
    ("student.minor@demo.test", "Taylor Nguyen", date(2010, 3, 14), [("lincoln", Role.STUDENT, "")]),
    ("student.senior@demo.test", "Jordan Alvarez", date(2008, 5, 2), [("jefferson", Role.STUDENT, "")]),
    ("student.university@demo.test", "Riley Chen", date(2005, 9, 30), [("stateu", Role.STUDENT, "")]),
]

LOGINS = [
    ("admin", "admin@demo.test"),
    ("coordinator (agency)", "coordinator.rpd@demo.test"),
    ("coordinator (district)", "coordinator.rusd@demo.test"),
    ("school staff", "staff.lincoln@demo.test"),
    ("officer", "officer.rpd@demo.test"),
    ("student (minor)", "student.minor@demo.test"),
    ("student (university)", "student.university@demo.test"),
]


class Command(BaseCommand):
    help = "Create demo organizations and one person per role (only into an empty database)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if organizations exist.")

    def handle(self, *args, if_empty=False, **options):
        if Organization.objects.exists():
            if not if_empty:
                self.stderr.write("The database already has organizations; demo data not loaded.")
            self.print_logins()
            return
        with transaction.atomic():
            orgs, users = self.create_world()
            # Each app adds its part of the demo world in <app>/demo.py: create(orgs, users).
            for demo in app_modules("demo"):
                demo.create(orgs=orgs, users=users)
        self.print_logins()

    def create_world(self):
        orgs = {}
        for key, name, kind, city, district in ORGANIZATIONS:
            orgs[key] = Organization.objects.create(
                name=name,
                kind=kind,
                city=city,
                region="CA",
                time_zone="America/Los_Angeles",
                district=orgs.get(district),
                contact_email=f"info@{key}.demo.test",
            )
        users = {}
        for email, name, born, memberships in PEOPLE:
            is_admin = email.startswith("admin@")
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                full_name=name,
                birth_date=born,
                is_staff=is_admin,
                is_superuser=is_admin,
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            users[email] = user
            for key, role, title in memberships:
                Membership.objects.create(user=user, organization=orgs[key], role=role, title=title)
        # One invitation, written through the outbox like every email.
        services.invitation_create(
            organization=orgs["rpd"],
            email="new.officer@demo.test",
            role=Role.OFFICER,
            by=users["coordinator.rpd@demo.test"],
        )
        return orgs, users

    def print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for label, email in LOGINS:
            self.stdout.write(f"  {label:<24} {email}")

"""Seed a database for a server under test: one school, one 25-seat-or-more session, and
school staff with API tokens. Run as ``python -m tests.faults.seed PEOPLE SEATS``; prints JSON."""

import json
import sys


def main(people: int, seats: int) -> dict:
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeding speed only
    from rest_framework.authtoken.models import Token

    from tests.factories import AgencyFactory, SchoolFactory
    from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, staff_of

    school, agency = SchoolFactory(), AgencyFactory()
    session = SessionFactory(program=ProgramFactory(agreement=active_agreement(agency, school)), capacity_seats=seats)
    tokens = [Token.objects.create(user=person).key for person in staff_of(school, people)]
    return {"session": session.pk, "school": school.pk, "tokens": tokens}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))

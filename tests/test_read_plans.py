"""Read plans (config/serializers.py) write exactly what DRF's own steps write.

Every GET operation of the API, for one person of every role of the demo world, answers the
same with plans and without; a page of each list opens its first row's detail too. Then the
edge cases of reading a value, on a serializer made for them.
"""

import re

import pytest
from django.core.management import call_command
from rest_framework import serializers

from accounts.models import User
from config import serializers as planned
from config.serializers import ReadPlanMixin, ReadPlanModelSerializer
from programs.api.serializers import BookingSerializer, SessionSerializer
from programs.enums import LocationKind
from programs.models import Session
from tests.programs.factories import world_session

pytestmark = pytest.mark.django_db

DEMO_PEOPLE = [
    "admin@demo.test",
    "coordinator.rpd@demo.test",
    "coordinator.rusd@demo.test",
    "principal.lincoln@demo.test",
    "staff.lincoln@demo.test",
    "officer.rpd@demo.test",
    "student.minor@demo.test",
    "student.university@demo.test",
]
# Answers that are not a serializer's JSON.
NOT_JSON = ("/calendar.ics", "/csv/", "/export/")


def _get_paths(client) -> tuple[list[str], list[str]]:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    gets = [path for path, item in schema["paths"].items() if "get" in item and not path.endswith(NOT_JSON)]
    lists = [p for p in gets if "{" not in p]
    details = [p for p in gets if re.fullmatch(r"[^{}]*\{id\}/", p)]
    return lists, details


def _both(client, monkeypatch, path):
    """The answer to ``path`` with read plans, and with DRF's own steps."""
    monkeypatch.setattr(planned, "ENABLED", True)
    with_plans = client.get(path)
    monkeypatch.setattr(planned, "ENABLED", False)
    without = client.get(path)
    monkeypatch.setattr(planned, "ENABLED", True)
    return with_plans, without


def test_every_api_answer_is_drfs_own_with_read_plans(client, monkeypatch, settings):
    # Each answer computed: a page kept in the table cache (config.api.KeptPages) would answer
    # the second request of a pair with the first's JSON.
    settings.TABLE_CACHE_SECONDS = 0
    call_command("seed_demo", "--if-empty", verbosity=0)
    lists, details = _get_paths(client)
    assert len(lists) > 20 and len(details) > 15
    compared = rows = 0
    for email in DEMO_PEOPLE:
        client.force_login(User.objects.get(email=email))
        for path in lists:
            with_plans, without = _both(client, monkeypatch, path)
            assert with_plans.status_code == without.status_code, (email, path)
            if with_plans.status_code != 200:
                continue
            assert with_plans.json() == without.json(), (email, path)
            compared += 1
            body = with_plans.json()
            results = body.get("results", body) if isinstance(body, dict) else body
            if not isinstance(results, list) or not results or "id" not in results[0]:
                continue
            rows += len(results)
            for detail in details:
                if detail.replace("{id}/", "") != path:
                    continue
                opened, plain = _both(client, monkeypatch, detail.replace("{id}", str(results[0]["id"])))
                assert opened.status_code == plain.status_code == 200, (email, detail)
                assert opened.json() == plain.json(), (email, detail)
                compared += 1
    # The demo world gives the comparison something to compare.
    assert compared > 300 and rows > 800, (compared, rows)


def test_the_lists_that_must_be_fast_are_planned_field_by_field():
    """The lists the benchmark drives read every field by plan, none through a field made per request."""
    for serializer in (SessionSerializer, BookingSerializer):
        plan = planned._plan_for(serializer)
        assert plan is not None, serializer
        assert [step for step in plan if step[1] == planned._BOUND] == [], serializer


# Reading a value: every case DRF handles, against DRF.


class Edge(ReadPlanModelSerializer):
    program = serializers.PrimaryKeyRelatedField(read_only=True)
    missing_nullable = serializers.CharField(read_only=True, allow_null=True)
    missing_with_default = serializers.CharField(read_only=True, default="dflt")
    missing_optional = serializers.CharField(read_only=True, required=False)
    callable_value = serializers.CharField(read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True, allow_null=True)
    nested_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True, default=list)
    shout = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "program",
            "school",
            "starts_at",
            "status",
            "missing_nullable",
            "missing_with_default",
            "missing_optional",
            "callable_value",
            "school_name",
            "nested_ids",
            "shout",
        ]

    def get_shout(self, session):
        return f"{session.status.upper()} for {self.context['who']}"


class DrfEdge(Edge):
    """The same fields through DRF's own steps (no plan: it makes its fields its own way)."""

    def get_fields(self):
        return super().get_fields()


@pytest.fixture
def sessions(world):
    """One session at a venue (no school: a dotted source through None) and one at school A."""
    return [
        world_session(world),
        world_session(world, location_kind=LocationKind.SCHOOL, school=world.school_a, venue=""),
    ]


def test_read_plan_edge_cases_match_drf(sessions):
    for session in sessions:
        session.callable_value = lambda: "called"
        session.nested_ids = [3, None, 5]
    plain = DrfEdge(sessions, many=True, context={"who": "A"}).data
    fast = Edge(sessions, many=True, context={"who": "A"}).data
    assert planned._plan_for(DrfEdge) is None
    assert planned._plan_for(Edge) is not None
    assert fast == plain
    at_venue, at_school = fast
    assert at_venue["school"] is None and at_venue["school_name"] is None
    assert at_school["school"] == sessions[1].school_id and at_school["school_name"] == "Lincoln High School"
    assert at_venue["program"] == sessions[0].program_id
    assert at_venue["missing_nullable"] is None
    assert at_venue["missing_with_default"] == "dflt"
    assert "missing_optional" not in at_venue
    assert at_venue["callable_value"] == "called"
    assert at_venue["nested_ids"] == [3, None, 5]
    # A method field sees the serializer at hand, never the one its plan was made from.
    assert Edge(sessions[0], context={"who": "B"}).data["shout"].endswith("for B")


def test_read_plan_refuses_a_missing_required_value_as_drf_does(sessions):
    session = sessions[0]

    class Strict(ReadPlanMixin, serializers.Serializer):
        absent = serializers.CharField()

    with pytest.raises(AttributeError) as fast:
        Strict(session).data  # noqa: B018
    monkey = planned.ENABLED
    planned.ENABLED = False
    try:
        with pytest.raises(AttributeError) as plain:
            Strict(session).data  # noqa: B018
    finally:
        planned.ENABLED = monkey
    assert str(fast.value) == str(plain.value)


def test_read_plan_writes_mappings_by_drfs_steps():
    """DRF reads a mapping by key before any attribute: a mapping whose class has an attribute
    of a field's name must still give the key's value."""

    class Row(ReadPlanMixin, serializers.Serializer):
        items = serializers.IntegerField()
        name = serializers.CharField()

    class Record(dict):
        name = "the class attribute"

    assert Row(Record(items=3, name="x")).data == {"items": 3, "name": "x"}

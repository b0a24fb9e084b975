"""Results: aggregates only; nothing but counts below the minimum group, also per school in a
breakdown and in the CSV; free text to agency users only once published; CSV cells escaped."""

import csv
import io
from datetime import timedelta

import pytest

from evaluations import results, surveys
from evaluations.enums import TextReview
from evaluations.models import Answer
from tests.evaluations import factories as ef
from tests.factories import SchoolFactory
from tests.programs.factories import active_agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_survey(world):
    return ef.survey("workshop-staff", ef.world_delivered(world))


def _question(result, kind):
    return next(q for q in result["questions"] if q["kind"] == kind)


def test_results_hidden_below_the_minimum_group_size(world, staff_survey):
    ef.invitation(staff_survey)  # one invited who has not answered
    for score in (5, 4):
        ef.respond(staff_survey, institution=world.school_a, likert=score, text="Great")
    hidden = results.survey_results(staff_survey, user=world.coordinator_a)
    assert hidden["hidden"] is True
    assert (hidden["response_count"], hidden["invited_count"], hidden["response_rate"]) == (2, 3, 66.7)
    assert hidden["questions"] == []
    ef.respond(staff_survey, institution=world.school_a, likert=3)
    shown = results.survey_results(staff_survey, user=world.coordinator_a)
    assert shown["hidden"] is False
    likert = _question(shown, "likert")
    assert likert["distribution"] == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert likert["mean"] == 4.0
    assert _question(shown, "scale")["distribution"][8] == 3
    assert _question(shown, "choice")["distribution"] == {"Yes": 3, "Maybe": 0, "No": 0}
    assert sorted(_question(shown, "text")["texts"]) == ["Great", "Great"]


def test_a_survey_with_a_larger_minimum_stays_hidden_longer(world, staff_survey):
    staff_survey.min_group_size = 5
    staff_survey.save(update_fields=["min_group_size"])
    for _ in range(4):
        ef.respond(staff_survey)
    assert results.survey_results(staff_survey, user=world.admin)["hidden"] is True


def test_free_text_reaches_agency_users_only_once_published_and_withheld_text_nobody(world, staff_survey):
    for text in ("Pending words", "Published words", "Withheld words"):
        ef.respond(staff_survey, institution=world.school_a, text=text)
    Answer.objects.filter(text="Published words").update(review=TextReview.PUBLISHED)
    Answer.objects.filter(text="Withheld words").update(review=TextReview.WITHHELD)
    agency = _question(results.survey_results(staff_survey, user=world.agency_coordinator), "text")["texts"]
    school = _question(results.survey_results(staff_survey, user=world.coordinator_a), "text")["texts"]
    admin = _question(results.survey_results(staff_survey, user=world.admin), "text")["texts"]
    assert agency == ["Published words"]
    assert sorted(school) == sorted(admin) == ["Pending words", "Published words"]


def test_aggregate_over_surveys_of_one_template_counts_all_and_hides_small_totals(world):
    first = ef.survey("workshop-staff", ef.world_delivered(world))
    second = ef.survey("workshop-staff", ef.world_delivered(world, ended_ago=timedelta(days=1)))
    ef.respond(first, likert=5)
    ef.respond(second, likert=3)
    assert results.aggregate_results([first, second], user=world.admin)["hidden"] is True
    ef.respond(second, likert=4)
    combined = results.aggregate_results([first, second], user=world.admin)
    assert combined["response_count"] == 3 and combined["hidden"] is False
    assert _question(combined, "likert")["mean"] == 4.0
    students = ef.survey("workshop-students", first.session)
    with pytest.raises(ValueError):
        results.aggregate_results([first, students], user=world.admin)


def _two_schools_survey(world, *, a: int, b: int):
    agreement = active_agreement(world.agency, world.school_a, world.school_b)
    session = ef.delivered_session(world.agency, world.school_a)
    session.program.agreement = agreement
    session.program.save(update_fields=["agreement"])
    survey = ef.survey("workshop-staff", session)
    for _ in range(a):
        ef.respond(survey, institution=world.school_a, likert=5, text="From A")
    for _ in range(b):
        ef.respond(survey, institution=world.school_b, likert=1, text="From B")
    return survey


def test_breakdown_suppresses_a_school_below_the_minimum(world):
    third = SchoolFactory(name="Adams Middle School")
    survey = _two_schools_survey(world, a=4, b=3)
    ef.respond(survey, institution=third, likert=2, text="From C")
    split = results.breakdown([survey], user=world.admin, by="institution")
    groups = {g["label"]: g for g in split["groups"]}
    small = groups["Adams Middle School"]
    assert small["hidden"] is True
    assert small["response_count"] is None and small["questions"] == []
    assert small["display_count"] == "fewer than 3"
    # A lone suppressed group would be the total minus the others: the smallest shown goes too.
    assert groups["Jefferson High School"]["hidden"] is True
    assert groups["Lincoln High School"]["hidden"] is False
    assert _question(groups["Lincoln High School"], "likert")["distribution"][5] == 4


def test_breakdown_shows_every_group_at_or_above_the_minimum(world):
    survey = _two_schools_survey(world, a=3, b=3)
    split = results.breakdown([survey], user=world.admin)
    assert [g["hidden"] for g in split["groups"]] == [False, False]
    assert [g["response_count"] for g in split["groups"]] == [3, 3]


def test_csv_of_a_hidden_survey_holds_counts_and_no_answers(world, staff_survey):
    for _ in range(2):
        ef.respond(staff_survey, likert=5, text="Secret remark")
    content = results.results_csv(results.survey_results(staff_survey, user=world.admin))
    assert "Secret remark" not in content
    assert "hidden" in content
    answer_rows = [row for row in csv.reader(io.StringIO(content)) if row[2]]  # rows with a question kind
    assert answer_rows == [["group", "question", "kind", "answer", "count", "mean"]]


def test_csv_of_a_breakdown_leaves_out_suppressed_groups_answers(world):
    third = SchoolFactory(name="Adams Middle School")
    survey = _two_schools_survey(world, a=4, b=3)
    ef.respond(survey, institution=third, likert=2, text="From C")
    content = results.results_csv(results.breakdown([survey], user=world.admin))
    assert "From C" not in content and "From B" not in content  # B is suppressed with C
    assert "From A" in content
    assert "fewer than 3" in content


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cell_escapes_formula_starts(start):
    assert results.csv_cell(f"{start}cmd") == f"'{start}cmd"


def test_csv_cell_leaves_plain_values_alone():
    assert results.csv_cell("Good session") == "Good session"
    assert results.csv_cell(4.5) == "4.5"
    assert results.csv_cell(None) == ""


def test_csv_export_escapes_injection_in_free_text_answers(world, staff_survey):
    payloads = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)"]
    for payload in payloads:
        ef.respond(staff_survey, institution=world.school_a, text=payload)
    content = results.results_csv(results.survey_results(staff_survey, user=world.admin))
    cells = [cell for row in csv.reader(io.StringIO(content, newline="")) for cell in row]
    for payload in payloads:
        assert "'" + payload in cells
        assert payload not in cells


def test_csv_export_escapes_tab_and_carriage_return_starts_in_any_cell():
    """Answers are stripped, but a question's text (an admin's edit) or a label is not."""
    shown = {
        "title": "=Title",
        "response_count": 3,
        "invited_count": 3,
        "response_rate": 100.0,
        "min_group_size": 3,
        "hidden": False,
        "questions": [
            {"kind": "choice", "text": "\tQuestion", "distribution": {"\rOption": 3}, "mean": None, "texts": []},
        ],
    }
    cells = [cell for row in csv.reader(io.StringIO(results.results_csv(shown), newline="")) for cell in row]
    assert {"'=Title", "'\tQuestion", "'\rOption"} <= set(cells)
    assert not {"=Title", "\tQuestion", "\rOption"} & set(cells)


def test_results_queries_do_not_grow_with_responses(world, staff_survey, django_assert_max_num_queries):
    for _ in range(3):
        ef.respond(staff_survey, text="x")
    surveys.close_due_surveys()
    with django_assert_max_num_queries(12):
        results.survey_results(staff_survey, user=world.admin)
    for _ in range(20):
        ef.respond(staff_survey, text="y")
    with django_assert_max_num_queries(12):
        results.survey_results(staff_survey, user=world.admin)

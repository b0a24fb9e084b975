"""Survey results: aggregates only, computed in SQL, and nothing at all for a small group.

A group (a survey, several surveys of one template, one school within them) with fewer
respondents than its minimum shows its counts and nothing else, so one answer can never be
read off a page or a CSV. In a breakdown, a lone suppressed group would be the total minus the
others, so the smallest shown group is suppressed with it. Free text reaches agency users only
once the school has published it; withheld text is shown to nobody.

The caller fetches the surveys through the user's scope (``access.visible``); ``user`` here
decides only which free text is shown.
"""

import csv
import io
from collections import defaultdict

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from accounts.models import Organization
from evaluations import rules
from evaluations.enums import Audience, QuestionKind, SurveyStatus, TextReview
from evaluations.models import Answer, Question, Response, Survey, SurveyInvitation

DEFAULT_MIN_GROUP = 3
SCALE_VALUES = {QuestionKind.LIKERT: range(1, 6), QuestionKind.SCALE: range(11)}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def fewer_than(n: int) -> str:
    return _("fewer than %(n)s") % {"n": n}


def _text_reviews_for(user, surveys: list[Survey]) -> list[str]:
    """Agency users read published text only; the school side and admins also what awaits review."""
    if any(rules.is_agency_user(user, survey.agreement) for survey in surveys):
        return [TextReview.PUBLISHED]
    return [TextReview.PUBLISHED, TextReview.PENDING]


def _counts(survey_ids: list[int]) -> tuple[int, int]:
    responses = Response.objects.filter(survey_id__in=survey_ids).count()
    invited = SurveyInvitation.objects.filter(
        Q(withdrawn=False) | Q(used_on__isnull=False), survey_id__in=survey_ids
    ).count()
    return responses, invited


def _rate(responses: int, invited: int) -> float | None:
    return round(100 * responses / invited, 1) if invited else None


def _question_rows(questions: list[Question], answers, reviews: list[str]) -> list[dict]:
    """Distributions, means and visible texts of ``answers`` (a queryset), per question: a few
    grouped queries whatever the number of responses."""
    numbers = defaultdict(dict)
    for row in answers.filter(number__isnull=False).values("question_id", "number").annotate(n=Count("id")):
        numbers[row["question_id"]][row["number"]] = row["n"]
    choices = defaultdict(dict)
    for row in answers.exclude(choice="").values("question_id", "choice").annotate(n=Count("id")):
        choices[row["question_id"]][row["choice"]] = row["n"]
    means = {
        row["question_id"]: row["mean"]
        for row in answers.filter(number__isnull=False).values("question_id").annotate(mean=Avg("number"))
    }
    texts = defaultdict(list)
    text_counts = defaultdict(int)
    for row in answers.exclude(text="").values("question_id", "text", "review").order_by("id"):
        text_counts[row["question_id"]] += 1
        if row["review"] in reviews:
            texts[row["question_id"]].append(row["text"])
    rows = []
    for question in questions:
        row = {
            "id": question.pk,
            "position": question.position,
            "kind": question.kind,
            "text": question.text,
            "texts": [],
        }
        if question.kind in SCALE_VALUES:
            found = numbers.get(question.pk, {})
            row["distribution"] = {value: found.get(value, 0) for value in SCALE_VALUES[question.kind]}
            mean = means.get(question.pk)
            row["mean"] = round(float(mean), 2) if mean is not None else None
            row["answered"] = sum(found.values())
        elif question.kind == QuestionKind.CHOICE:
            found = choices.get(question.pk, {})
            row["distribution"] = {value: found.get(value, 0) for value in question.choices}
            row["distribution"].update({k: v for k, v in found.items() if k not in row["distribution"]})
            row["mean"] = None
            row["answered"] = sum(found.values())
        else:
            row["distribution"] = {}
            row["mean"] = None
            row["answered"] = text_counts.get(question.pk, 0)
            row["texts"] = texts.get(question.pk, [])
        rows.append(row)
    return rows


def _results(surveys: list[Survey], *, user, min_group_size: int) -> dict:
    survey_ids = [s.pk for s in surveys]
    responses, invited = _counts(survey_ids)
    hidden = responses < min_group_size
    result = {
        "surveys": survey_ids,
        "response_count": responses,
        "invited_count": invited,
        "response_rate": _rate(responses, invited),
        "min_group_size": min_group_size,
        "hidden": hidden,
        "questions": [],
    }
    if hidden or not surveys:
        return result
    questions = list(surveys[0].template.questions.all())
    answers = Answer.objects.filter(response__survey_id__in=survey_ids)
    result["questions"] = _question_rows(questions, answers, _text_reviews_for(user, surveys))
    return result


def survey_results(survey: Survey, *, user) -> dict:
    """The aggregate of one survey; below its minimum group size, its counts only."""
    result = _results([survey], user=user, min_group_size=survey.min_group_size)
    result.update(
        {
            "survey": survey.pk,
            "title": survey.title,
            "template": survey.template_id,
            "is_open": survey.status == SurveyStatus.OPEN,
        }
    )
    return result


def _one_template(surveys) -> list[Survey]:
    surveys = list(surveys)
    if len({s.template_id for s in surveys}) > 1:
        raise ValueError("Aggregate results combine surveys of one template only.")
    return surveys


def _threshold(surveys: list[Survey], min_group_size: int) -> int:
    """The strictest minimum of the combined surveys and the one asked for."""
    return max([min_group_size, *(s.min_group_size for s in surveys)])


def aggregate_results(surveys, *, user, min_group_size: int = DEFAULT_MIN_GROUP) -> dict:
    """The aggregate of several surveys of one template (a program, an agreement, a period)."""
    return aggregate_results_many([surveys], user=user, min_group_size=min_group_size)[0]


def aggregate_results_many(groups, *, user, min_group_size: int = DEFAULT_MIN_GROUP) -> list[dict]:
    """``aggregate_results`` of several groups (each of one template: a report's blocks) in a
    fixed number of queries however many groups: counts grouped by survey, answers grouped by
    question (a question belongs to one template). Free text follows the strictest reading any
    of the surveys gives the user."""
    groups = [_one_template(group) for group in groups]
    every = [s for group in groups for s in group]
    ids = [s.pk for s in every]
    responses = dict(
        Response.objects.filter(survey_id__in=ids)
        .values("survey_id")
        .annotate(n=Count("pk"))
        .values_list("survey_id", "n")
    )
    invited = dict(
        SurveyInvitation.objects.filter(Q(withdrawn=False) | Q(used_on__isnull=False), survey_id__in=ids)
        .values("survey_id")
        .annotate(n=Count("pk"))
        .values_list("survey_id", "n")
    )
    results, shown = [], []
    for group in groups:
        survey_ids = [s.pk for s in group]
        answered = sum(responses.get(pk, 0) for pk in survey_ids)
        asked = sum(invited.get(pk, 0) for pk in survey_ids)
        threshold = _threshold(group, min_group_size)
        hidden = answered < threshold
        results.append(
            {
                "surveys": survey_ids,
                "response_count": answered,
                "invited_count": asked,
                "response_rate": _rate(answered, asked),
                "min_group_size": threshold,
                "hidden": hidden,
                "questions": [],
                "template": group[0].template_id if group else None,
            }
        )
        if group and not hidden:
            shown.append((group, results[-1]))
    if shown:
        questions = [q for group, _result in shown for q in group[0].template.questions.all()]
        answers = Answer.objects.filter(response__survey_id__in=[s.pk for group, _r in shown for s in group])
        rows = {row["id"]: row for row in _question_rows(questions, answers, _text_reviews_for(user, every))}
        for group, result in shown:
            result["questions"] = [rows[q.pk] for q in group[0].template.questions.all()]
    return results


BREAKDOWNS = {
    "institution": ("response__institution_id", "institution_id"),
    "audience": ("response__audience", "audience"),
    "survey": ("response__survey_id", "survey_id"),
}


def breakdown(surveys, *, user, by: str = "institution", min_group_size: int = DEFAULT_MIN_GROUP) -> dict:
    """Results per group (school, audience or survey). A group below the minimum shows
    "fewer than N" instead of its count, and nothing else; if only one group would be
    suppressed, the next smallest is too, so no group is the total minus the others."""
    if by not in BREAKDOWNS:
        raise ValueError(f"Unknown breakdown: {by}")
    answer_key, response_key = BREAKDOWNS[by]
    surveys = _one_template(surveys)
    threshold = _threshold(surveys, min_group_size)
    survey_ids = [s.pk for s in surveys]
    sizes = {
        row[response_key]: row["n"]
        for row in Response.objects.filter(survey_id__in=survey_ids)
        .values(response_key)
        .annotate(n=Count("id"))
        .order_by()
    }
    suppressed = {key for key, n in sizes.items() if n < threshold}
    shown = sorted((n, str(key)) for key, n in sizes.items() if key not in suppressed)
    if len(suppressed) == 1 and shown:
        smallest = next(key for key in sizes if str(key) == shown[0][1])
        suppressed.add(smallest)
    labels = _labels(by, sizes, surveys)
    questions = list(surveys[0].template.questions.all()) if surveys else []
    reviews = _text_reviews_for(user, surveys)
    groups = []
    for key in sorted(sizes, key=lambda k: labels[k]):
        group = {"key": key, "label": labels[key], "hidden": key in suppressed, "questions": []}
        if key in suppressed:
            group["response_count"] = None
            group["display_count"] = fewer_than(threshold) if sizes[key] < threshold else _("suppressed")
        else:
            group["response_count"] = sizes[key]
            group["display_count"] = str(sizes[key])
            answers = Answer.objects.filter(response__survey_id__in=survey_ids, **{answer_key: key})
            group["questions"] = _question_rows(questions, answers, reviews)
        groups.append(group)
    responses, invited = _counts(survey_ids)
    return {
        "by": by,
        "surveys": survey_ids,
        "min_group_size": threshold,
        "response_count": responses,
        "invited_count": invited,
        "response_rate": _rate(responses, invited),
        "groups": groups,
    }


def _labels(by: str, sizes: dict, surveys: list[Survey]) -> dict:
    if by == "institution":
        names = dict(Organization.objects.filter(pk__in=[k for k in sizes if k]).values_list("pk", "name"))
        return {k: names.get(k, "") if k else _("Agency respondents") for k in sizes}
    if by == "audience":
        return {k: str(Audience(k).label) for k in sizes}
    titles = {s.pk: s.title for s in surveys}
    return {k: titles.get(k, str(k)) for k in sizes}


# CSV.


def csv_cell(value) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @, a tab or a carriage return
    gets a leading apostrophe (OWASP's advice against CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


HEADER = ["group", "question", "kind", "answer", "count", "mean"]


def _summary_rows(group: str, results: dict) -> list[list]:
    return [
        [group, _("responses"), "", "", results.get("display_count", results["response_count"]), ""],
        [group, _("invited"), "", "", results.get("invited_count", ""), ""],
        [group, _("response rate (%)"), "", "", results.get("response_rate", ""), ""],
    ]


def _question_csv_rows(group: str, questions: list[dict]) -> list[list]:
    rows = []
    for question in questions:
        for value, count in question["distribution"].items():
            rows.append([group, question["text"], question["kind"], value, count, ""])
        if question["mean"] is not None:
            rows.append([group, question["text"], question["kind"], _("mean"), "", question["mean"]])
        for text in question["texts"]:
            rows.append([group, question["text"], question["kind"], text, "", ""])
    return rows


def results_csv(results: dict) -> str:
    """A CSV of ``survey_results``, ``aggregate_results`` or ``breakdown``: every cell escaped,
    and a hidden group written as its counts (or "fewer than N") and a note, nothing more."""
    rows = [HEADER]
    if "groups" in results:
        rows += [["", _("responses"), "", "", results["response_count"], ""]]
        for group in results["groups"]:
            label = group["label"]
            if group["hidden"]:
                rows.append([label, _("responses"), "", "", group["display_count"], ""])
                rows.append([label, _("results hidden: too few respondents"), "", "", "", ""])
            else:
                rows.append([label, _("responses"), "", "", group["response_count"], ""])
                rows += _question_csv_rows(label, group["questions"])
    else:
        label = results.get("title", _("all"))
        rows += _summary_rows(label, results)
        if results["hidden"]:
            rows.append(
                [label, _("results hidden: %(fewer)s respondents") % {"fewer": fewer_than(results["min_group_size"])}]
                + ["", "", "", ""]
            )
        else:
            rows += _question_csv_rows(label, results["questions"])
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()

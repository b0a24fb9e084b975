"""The public survey pages behind a single-use link (no account).

The emailed link carries the token once: ``survey_open`` moves it into the session and
redirects, so it never lingers in the address bar, a Referer or an access log. Opening and
reading the form change nothing; only the POST spends the link. A link that cannot be answered
(unknown, used, withdrawn, closed) gets a page that says so, with status 410.
"""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.errors import DomainError
from evaluations import surveys
from evaluations.enums import QuestionKind

SESSION_KEY = "survey_token"

GONE_EXPLANATIONS = {
    "token_used": _("Each survey link works once, and this one has already been used. Thank you for answering."),
    "token_expired": _("The survey has closed, so it no longer takes answers."),
    "withdrawn": _("A newer set of links was handed out, or the survey was withdrawn."),
    "token_unknown": _(
        "The link may be mistyped, or replaced by a newer one: a reminder email carries a new link "
        "and the older one stops working."
    ),
}

SCALE_LABELS = {
    QuestionKind.LIKERT: [
        (1, _("Strongly disagree")),
        (2, _("Disagree")),
        (3, _("Neither agree nor disagree")),
        (4, _("Agree")),
        (5, _("Strongly agree")),
    ],
    QuestionKind.SCALE: [(n, str(n)) for n in range(11)],
}


def _no_referrer(response):
    """For a response whose URL holds the token: the next page must not learn it from a Referer."""
    response["Referrer-Policy"] = "no-referrer"
    return response


def _same_origin_referrer(response):
    """For the pages after the token left the URL: no Referer leaves the site, and the browser's
    own form posts keep their Origin (under no-referrer Chromium sends "Origin: null", which
    Django's CSRF check refuses)."""
    response["Referrer-Policy"] = "same-origin"
    return response


def _gone(request, error: DomainError, *, at_token_url=False):
    page = render(
        request,
        "evaluations/respond/gone.html",
        {"message": error.message, "explanation": GONE_EXPLANATIONS.get(error.code, ""), "code": error.code},
        status=410,
    )
    return _no_referrer(page) if at_token_url else _same_origin_referrer(page)


def _questions(survey, values: dict, errors: dict) -> list[dict]:
    rows = []
    for question in survey.template.questions.all():
        name = f"q{question.pk}"
        if question.kind in SCALE_LABELS:
            options = [(str(value), label) for value, label in SCALE_LABELS[question.kind]]
        elif question.kind == QuestionKind.CHOICE:
            options = [(choice, choice) for choice in question.choices]
        else:
            options = []
        rows.append(
            {
                "question": question,
                "name": name,
                "options": options,
                "value": values.get(name, ""),
                "error": errors.get(name, ""),
                "is_text": question.kind == QuestionKind.TEXT,
            }
        )
    return rows


@login_not_required
@never_cache
@require_GET
def survey_open(request, token):
    """The emailed (or printed) link: keep the token in the session and take it out of the URL."""
    try:
        surveys.invitation_for_token(token)
    except DomainError as error:
        return _gone(request, error, at_token_url=True)
    request.session[SESSION_KEY] = token
    return _no_referrer(redirect("evaluations:survey_respond"))


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey_respond(request):
    """GET shows the questions; POST records the answers (once) and thanks the respondent."""
    token = request.session.get(SESSION_KEY, "")
    try:
        invitation = surveys.invitation_for_token(token)
    except DomainError as error:
        request.session.pop(SESSION_KEY, None)
        return _gone(request, error)
    survey = invitation.survey
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        names = {f"q{q.pk}": q.pk for q in survey.template.questions.all()}
        values = {name: request.POST.get(name, "") for name in names}
        try:
            surveys.submit_response(token=token, answers={pk: values[name] for name, pk in names.items()})
        except surveys.SurveyError as error:
            if not error.errors:
                request.session.pop(SESSION_KEY, None)
                return _gone(request, error)
            errors, status = error.errors, 400
        except DomainError as error:
            request.session.pop(SESSION_KEY, None)
            return _gone(request, error)
        else:
            request.session.pop(SESSION_KEY, None)
            return _same_origin_referrer(render(request, "evaluations/respond/thanks.html", {"survey": survey}))
    return _same_origin_referrer(
        render(
            request,
            "evaluations/respond/form.html",
            {"survey": survey, "questions": _questions(survey, values, errors), "errors": errors},
            status=status,
        )
    )

"""Races on PostgreSQL: one survey link answered by twenty posts at once, and the generation
task run by several workers at once.

The link is spent by a conditional UPDATE (used_on IS NULL → today) in the transaction that
writes the response, so exactly one of twenty concurrent submissions wins. The control run
replays the same twenty submissions through a check-then-write version without the condition,
which must record more than one: otherwise the harness could not see a race at all.
"""

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from accounts.errors import DomainError
from evaluations import surveys
from evaluations.models import Answer, Response, Survey, SurveyInvitation
from tests.evaluations import factories as ef
from tests.factories import AgencyFactory, SchoolFactory, member
from tests.programs.factories import booking

POSTS = 20


def _run_together(targets):
    barrier = threading.Barrier(len(targets))
    results, errors = [], []

    def run(target):
        barrier.wait()
        try:
            close_old_connections()
            results.append(target())
        except DomainError as refusal:
            results.append(refusal)
        except Exception as error:  # every other failure is counted; none may happen
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors, time.monotonic() - started


def _link():
    school, agency = SchoolFactory(), AgencyFactory()
    session = ef.delivered_session(agency, school)
    survey = ef.survey("workshop-staff", session)
    _invitation, token = ef.invitation(survey, institution=school)
    return survey, token


def _naive_submit(token, answers):
    """What submit_response would be without the conditional UPDATE: check, wait, write."""
    invitation = surveys.invitation_for_token(token)
    time.sleep(0.05)
    with transaction.atomic():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(used_on=timezone.localdate())
        return Response.objects.create(
            survey_id=invitation.survey_id, audience=invitation.audience, submitted_on=timezone.localdate()
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_survey_link_records_one_response_under_twenty_concurrent_posts():
    survey, token = _link()
    answers = ef.answers_for("workshop-staff", text="Once")
    results, errors, seconds = _run_together(
        [lambda: surveys.submit_response(token=token, answers=answers) for _ in range(POSTS)]
    )
    won = [r for r in results if isinstance(r, Response)]
    refused = [r for r in results if isinstance(r, DomainError) and r.code == "token_used"]
    print(f"survey link race: {len(won)} response, {len(refused)} refused, {errors=} in {seconds:.2f}s")
    assert errors == []
    assert len(won) == 1 and len(refused) == POSTS - 1
    assert Response.objects.filter(survey=survey).count() == 1
    assert Answer.objects.filter(response__survey=survey, text="Once").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_conditional_update_records_several_responses():
    survey, token = _link()
    answers = ef.answers_for("workshop-staff")
    _results, errors, _seconds = _run_together([lambda: _naive_submit(token, answers) for _ in range(POSTS)])
    recorded = Response.objects.filter(survey=survey).count()
    print(f"control: {recorded} responses from one link, {errors=}")
    assert recorded > 1, "the race test cannot see a race: the harness is broken"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_generation_run_by_eight_workers_at_once_creates_each_survey_once():
    school, agency = SchoolFactory(), AgencyFactory()
    session = ef.delivered_session(agency, school)
    staff = member(school, "staff")
    booking(session, institution=school, by=staff)
    ef.facilitate(session, member(agency, "officer"))
    results, errors, seconds = _run_together([surveys.generate_surveys for _ in range(8)])
    print(f"generation race: created {sorted(results)} in {seconds:.2f}s, {errors=}")
    assert errors == []
    assert sum(results) == 3
    assert Survey.objects.filter(session=session).count() == 3
    assert SurveyInvitation.objects.filter(survey__session=session).count() == 2

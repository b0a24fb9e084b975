"""Writes to surveys: generation after delivery, single-use invitations, class link sheets,
consent for protected topics, anonymous responses, reminders, closing and text review.

Anonymity is kept here as much as in the schema: ``submit_response`` marks the invitation used
(a date) and writes the answers (a date, random keys, no person) in one transaction, and nothing
else in this module records who answered or when. Raw tokens exist only in the email or on the
teacher's sheet; the database keeps their SHA-256.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.enums import OrganizationKind
from accounts.errors import ConflictError, DomainError
from accounts.services import hash_token, record_audit
from config import tablecache
from evaluations import rules
from evaluations.enums import Audience, QuestionKind, Subject, SurveyStatus, TextReview
from evaluations.models import (
    Answer,
    Distribution,
    Question,
    Response,
    Survey,
    SurveyConsent,
    SurveyInvitation,
    SurveyTemplate,
)
from internships.enums import PlacementStatus
from internships.models import Placement
from internships.rules import is_minor_on
from notifications.services import notify
from programs.enums import BookingStatus, SessionStatus
from programs.models import Booking, Session

# Sessions and placements that ended longer ago than this get no survey (a late first run of the
# task, or data imported from the past, must not send surveys about last year's workshops).
GENERATION_LOOKBACK = timedelta(days=30)
# Reminders to non-respondents: at most two, this long before the survey closes.
REMINDERS_BEFORE = (timedelta(days=3), timedelta(days=1))
MAX_TEXT_CHARS = 2000
MAX_TOKEN_CHARS = 100
NUMERIC_RANGE = {QuestionKind.LIKERT: (1, 5), QuestionKind.SCALE: (0, 10)}
# Institutions whose students are children: a class there answers protected topics only with consent.
K12_KINDS = (OrganizationKind.K12_SCHOOL, OrganizationKind.DISTRICT)


class SurveyError(DomainError):
    """A rule of surveys refused the change; the message is for the person.

    ``errors`` holds every field error of a refused response (``field`` is the first of them),
    so the page can show each one next to its question.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid", errors=None):
        super().__init__(message, field=field, code=code)
        self.errors = errors or ({field: message} if field else {})


def survey_days() -> int:
    return int(getattr(settings, "EVALUATIONS_SURVEY_DAYS", 14))


# Small helpers.


def _ensure(allowed: bool, message: str) -> None:
    if not allowed:
        raise SurveyError(message, code="forbidden")


def _new_token() -> tuple[str, str]:
    """A 256-bit secret and its hash; only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def _link(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def respond_link(token: str) -> str:
    """The emailed link (``surveys/r/<token>/``); the page moves the token out of the URL at once."""
    return _link("evaluations:survey_open", token)


def _protected(template: SurveyTemplate) -> bool:
    return template.has_protected_topics


def _is_k12(organization) -> bool:
    return organization is not None and organization.kind in K12_KINDS


def _student_may_answer(template: SurveyTemplate, student, day) -> bool:
    """The protected-topic rule for one intern: an adult, or a minor with a recorded consent
    (an unknown date of birth counts as a minor)."""
    if not _protected(template) or not is_minor_on(student, day):
        return True
    return SurveyConsent.objects.filter(template=template, student=student).exists()


def _invite(survey: Survey, *, user, audience: str, institution=None) -> SurveyInvitation | None:
    """One personal invitation, emailed with its raw link once; None if the person has one already."""
    token, token_hash = _new_token()
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                survey=survey,
                token_hash=token_hash,
                audience=audience,
                user=user,
                email=user.email,
                institution=institution,
            )
    except IntegrityError:
        return None
    _invitation_email(invitation, token, template="survey_invitation", key="invitation")
    return invitation


def _invitation_email(invitation: SurveyInvitation, token: str, *, template: str, key: str) -> None:
    survey = invitation.survey
    notify(
        to=invitation.email or invitation.user.email,
        user=invitation.user,
        template=f"evaluations/email/{template}",
        context={
            "name": invitation.user.get_short_name() if invitation.user else "",
            "title": survey.title,
            "closes": timezone.localtime(survey.closes_at).date().isoformat(),
            "link": respond_link(token),
            "protected": _protected(survey.template),
        },
        dedupe_key=f"evaluations:{key}:{invitation.pk}",
    )


# Generation.


def _session_title(template: SurveyTemplate, session: Session) -> str:
    day = timezone.localtime(session.starts_at).date().isoformat()
    return f"{template.name}: {session.program.title}, {day}"[:250]


def _placement_title(template: SurveyTemplate, placement: Placement) -> str:
    return f"{template.name}: {placement.posting.title}, {placement.posting.agency.name}"[:250]


def _create_survey(template: SurveyTemplate, *, now: datetime, **subject) -> Survey | None:
    """The survey of ``template`` about ``subject``, or None if it exists already (the unique
    constraints decide, so two runs at once create one)."""
    lookup = {f"{name}_id": value.pk for name, value in subject.items() if name in ("session", "placement")}
    if Survey.objects.filter(template=template, **lookup).exists():
        return None
    try:
        with transaction.atomic():
            return Survey.objects.create(
                template=template, opened_at=now, closes_at=now + timedelta(days=survey_days()), **subject
            )
    except IntegrityError:
        return None


def _generate_for_session(template: SurveyTemplate, session: Session, now: datetime) -> int:
    with transaction.atomic():
        survey = _create_survey(
            template,
            now=now,
            session=session,
            agreement=session.program.agreement,
            program=session.program,
            title=_session_title(template, session),
        )
        if survey is None:
            return 0
        confirmed = list(
            session.bookings.filter(status=BookingStatus.CONFIRMED).select_related("booked_by", "institution")
        )
        if template.audience == Audience.STAFF:
            seen = set()
            for booking in confirmed:
                if booking.booked_by_id in seen or not booking.booked_by.is_active:
                    continue
                seen.add(booking.booked_by_id)
                _invite(survey, user=booking.booked_by, audience=Audience.STAFF, institution=booking.institution)
        elif template.audience == Audience.FACILITATORS:
            for facilitation in session.facilitations.filter(live=True).select_related("officer"):
                if facilitation.officer.is_active:
                    _invite(survey, user=facilitation.officer, audience=Audience.FACILITATORS)
        elif template.audience == Audience.STUDENTS:
            for booking in confirmed:
                _link_sheet_email(survey, booking)
    return 1


def _link_sheet_email(survey: Survey, booking: Booking) -> None:
    """Students get no personal email: the teacher who booked hands out a sheet of links."""
    needs_consent = _protected(survey.template) and _is_k12(booking.institution)
    notify(
        to=booking.booked_by.email,
        user=booking.booked_by,
        template="evaluations/email/link_sheet_ready",
        context={
            "name": booking.booked_by.get_short_name(),
            "title": survey.title,
            "group": booking.group_name,
            "closes": timezone.localtime(survey.closes_at).date().isoformat(),
            "needs_consent": needs_consent,
            "link": _link("evaluations:distribution", survey.pk, booking.pk),
        },
        dedupe_key=f"evaluations:link_sheet:{survey.pk}:{booking.pk}",
    )


def _generate_for_placement(template: SurveyTemplate, placement: Placement, now: datetime) -> int:
    with transaction.atomic():
        survey = _create_survey(
            template,
            now=now,
            placement=placement,
            agreement=placement.posting.agreement,
            program=None,
            title=_placement_title(template, placement),
        )
        if survey is None:
            return 0
        if template.audience == Audience.INTERNS:
            _invite_intern(survey, placement)
        elif template.audience == Audience.MENTORS and placement.mentor is not None and placement.mentor.is_active:
            _invite(survey, user=placement.mentor, audience=Audience.MENTORS)
    return 1


def _invite_intern(survey: Survey, placement: Placement) -> SurveyInvitation | None:
    """The intern, unless the survey touches protected topics and they are a minor without consent."""
    student = placement.student
    if not student.is_active or not _student_may_answer(survey.template, student, timezone.localdate()):
        return None
    return _invite(survey, user=student, audience=Audience.INTERNS, institution=placement.application.institution)


def generate_surveys(*, now: datetime | None = None) -> int:
    """Periodic: one survey per active template about every session delivered (ended in the last
    30 days) and every placement completed in that time, exactly once (the unique constraints
    decide, so running twice, or twice at once, creates nothing more). Returns surveys created."""
    now = now or timezone.now()
    templates = list(SurveyTemplate.objects.filter(is_active=True).prefetch_related("questions"))
    created = 0
    session_templates = [t for t in templates if t.subject == Subject.SESSION]
    if session_templates:
        sessions = Session.objects.filter(
            status=SessionStatus.DELIVERED, ends_at__lte=now, ends_at__gt=now - GENERATION_LOOKBACK
        ).select_related("program__agreement")
        for session in sessions:
            for template in session_templates:
                created += _generate_for_session(template, session, now)
    placement_templates = [t for t in templates if t.subject == Subject.PLACEMENT]
    if placement_templates:
        since = timezone.localdate(now) - GENERATION_LOOKBACK
        placements = Placement.objects.filter(status=PlacementStatus.COMPLETED).filter(
            Q(ended_on__gt=since) | Q(ended_on__isnull=True, end_date__gt=since)
        )
        placements = placements.select_related(
            "posting__agreement", "posting__agency", "student", "mentor", "application__institution"
        )
        for placement in placements:
            for template in placement_templates:
                created += _generate_for_placement(template, placement, now)
    return created


# Consent for protected topics.


def record_group_consent(
    *, template: SurveyTemplate, booking: Booking, students_count: int, by, note=""
) -> SurveyConsent:
    """The teacher (or the school's coordinator) records how many students of the class have a
    guardian's consent for a survey with protected topics; a class link sheet never exceeds it."""
    _ensure(
        rules.can_record_group_consent(by, booking),
        _("Only the teacher who booked or the school's coordinators can record consent for this class."),
    )
    if template.audience != Audience.STUDENTS:
        raise SurveyError(_("Group consent is recorded only for student surveys."), field="template")
    if not isinstance(students_count, int) or students_count < 1:
        raise SurveyError(_("Give the number of students with consent (at least one)."), field="students_count")
    if students_count > booking.seats:
        raise SurveyError(
            _("The class has %(n)s seats; consent cannot cover more students.") % {"n": booking.seats},
            field="students_count",
        )
    with transaction.atomic():
        consent, _created = SurveyConsent.objects.update_or_create(
            template=template,
            booking=booking,
            defaults={"students_count": students_count, "note": note[:250], "recorded_by": by},
        )
        record_audit(
            actor=by,
            action="survey_consent.group_recorded",
            target=consent,
            organization=booking.institution,
            students=students_count,
        )
    return consent


def record_student_consent(*, template: SurveyTemplate, student, by, note: str = "") -> SurveyConsent:
    """A school records a minor's consent form for a survey with protected topics; an open
    survey of that template waiting for the student's consent is sent at once."""
    _ensure(
        rules.can_record_student_consent(by, student),
        _("Only the student's school can record their survey consent."),
    )
    with transaction.atomic():
        consent, created = SurveyConsent.objects.get_or_create(
            template=template, student=student, defaults={"note": note[:250], "recorded_by": by}
        )
        if created:
            record_audit(actor=by, action="survey_consent.student_recorded", target=consent)
        waiting = (
            Survey.objects.filter(
                template=template,
                placement__student=student,
                status=SurveyStatus.OPEN,
                closes_at__gt=timezone.now(),
            )
            .exclude(invitations__user=student)
            .select_related("template", "placement__application__institution", "placement__student")
        )
        for survey in waiting:
            _invite_intern(survey, survey.placement)
    return consent


# Class link sheets.


def open_distribution(*, survey: Survey, booking: Booking, size: int, by) -> tuple[Distribution, list[str]]:
    """The teacher prints a sheet of single-use links for their class: at most the students who
    attended (or the seats), and for a K-12 class and protected topics at most the students with
    consent; a new sheet withdraws the unused links of the one before. Returns the raw links once."""
    _ensure(rules.can_distribute(by, booking), _("Only the teacher who booked can hand out links to this class."))
    if survey.template.audience != Audience.STUDENTS:
        raise SurveyError(_("Only student surveys are handed out as class link sheets."), code="not_students")
    if survey.session_id is None or booking.session_id != survey.session_id:
        raise SurveyError(_("This class did not book the session of this survey."), code="wrong_booking")
    if not isinstance(size, int) or size < 1:
        raise SurveyError(_("Ask for at least one link."), field="size")
    now = timezone.now()
    with transaction.atomic():
        # The booking row serializes two sheets for one class, so the caps below hold.
        booking = Booking.objects.select_for_update(of=("self",)).select_related("institution").get(pk=booking.pk)
        survey = Survey.objects.select_related("template").get(pk=survey.pk)
        if booking.status != BookingStatus.CONFIRMED:
            raise SurveyError(_("Only a confirmed booking's class answers this survey."), code="wrong_booking")
        if survey.status != SurveyStatus.OPEN or survey.closes_at <= now:
            raise SurveyError(_("This survey is closed."), code="closed")
        used = SurveyInvitation.objects.filter(
            survey=survey, distribution__booking=booking, used_on__isnull=False
        ).count()
        group = booking.attended_count if booking.attended_count is not None else booking.seats
        limit, reason = group, _("The class has %(n)s more students who can answer.")
        if _protected(survey.template) and _is_k12(booking.institution):
            consent = SurveyConsent.objects.filter(template=survey.template, booking=booking).first()
            if consent is None:
                raise SurveyError(
                    _(
                        "This survey asks about protected topics: record how many students have a guardian's "
                        "consent before handing out links."
                    ),
                    code="consent_required",
                )
            if consent.students_count < limit:
                limit, reason = consent.students_count, _("Only %(n)s more students have consent on file.")
        available = max(0, limit - used)
        if size > available:
            raise SurveyError(reason % {"n": available}, field="size", code="too_many")
        previous = Distribution.objects.filter(survey=survey, booking=booking, withdrawn_at__isnull=True)
        SurveyInvitation.objects.filter(distribution__in=previous, used_on__isnull=True).update(withdrawn=True)
        previous.update(withdrawn_at=now)
        distribution = Distribution.objects.create(survey=survey, booking=booking, size=size, created_by=by)
        tokens, rows = [], []
        for _i in range(size):
            token, token_hash = _new_token()
            tokens.append(token)
            rows.append(
                SurveyInvitation(
                    survey=survey,
                    token_hash=token_hash,
                    audience=Audience.STUDENTS,
                    institution=booking.institution,
                    distribution=distribution,
                )
            )
        SurveyInvitation.objects.bulk_create(rows)
        record_audit(
            actor=by,
            action="survey.links_handed_out",
            target=distribution,
            organization=booking.institution,
            size=size,
        )
    return distribution, tokens


# Answering.


def invitation_for_token(token: str) -> SurveyInvitation:
    """The invitation a link points to, if it may still be answered; otherwise a SurveyError whose
    code says why: token_unknown, token_used, withdrawn or token_expired."""
    invitation = None
    if token and len(token) <= MAX_TOKEN_CHARS:
        invitation = (
            SurveyInvitation.objects.select_related("survey__template").filter(token_hash=hash_token(token)).first()
        )
    if invitation is None:
        raise SurveyError(
            _("This survey link is not known. It may have been replaced by a newer one."), code="token_unknown"
        )
    if invitation.used_on is not None:
        raise SurveyError(_("This survey link has already been used. Thank you for answering."), code="token_used")
    if invitation.withdrawn:
        raise SurveyError(_("This survey link has been withdrawn."), code="withdrawn")
    survey = invitation.survey
    if survey.status != SurveyStatus.OPEN or survey.closes_at <= timezone.now():
        raise SurveyError(_("This survey has closed."), code="token_expired")
    return invitation


def _clean_answer(question: Question, value) -> dict | None:
    """The stored fields of one answer, None when left empty; SurveyError when out of shape."""
    field = f"q{question.pk}"
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if question.required:
            raise SurveyError(_("Please answer this question."), field=field, code="required")
        return None
    if question.kind in NUMERIC_RANGE:
        low, high = NUMERIC_RANGE[question.kind]
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(value, bool) or str(number) != str(value) or not low <= number <= high:
            raise SurveyError(_("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}, field=field)
        return {"number": number}
    if question.kind == QuestionKind.CHOICE:
        if not isinstance(value, str) or value not in question.choices:
            raise SurveyError(_("Choose one of the options."), field=field)
        return {"choice": value}
    if not isinstance(value, str):
        raise SurveyError(_("Write your answer as text."), field=field)
    if len(value) > MAX_TEXT_CHARS:
        raise SurveyError(
            _("Keep your answer under %(n)s characters.") % {"n": MAX_TEXT_CHARS}, field=field, code="too_long"
        )
    return {"text": value, "review": TextReview.PENDING}


def _clean_answers(questions: list[Question], answers: dict) -> list[tuple[Question, dict]]:
    by_id = {}
    for key, value in answers.items():
        try:
            by_id[int(key)] = value
        except (TypeError, ValueError):
            raise SurveyError(_("The form does not match this survey."), code="unknown_question") from None
    known = {q.pk for q in questions}
    if set(by_id) - known:
        raise SurveyError(_("The form does not match this survey."), code="unknown_question")
    cleaned, errors, codes = [], {}, []
    for question in questions:
        try:
            fields = _clean_answer(question, by_id.get(question.pk))
        except SurveyError as error:
            errors[error.field] = error.message
            codes.append(error.code)
            continue
        if fields is not None:
            cleaned.append((question, fields))
    if errors:
        first = next(iter(errors))
        raise SurveyError(errors[first], field=first, code=codes[0], errors=errors)
    return cleaned


def submit_response(*, token: str, answers: dict) -> Response:
    """Record one anonymous response: the link is spent by a conditional UPDATE (so twenty posts
    at once give one response) in the same transaction that writes answers holding no person, no
    invitation and no time, only the day."""
    invitation = invitation_for_token(token)
    questions = list(invitation.survey.template.questions.all())
    cleaned = _clean_answers(questions, answers)
    today = timezone.localdate()
    # The link, the response and its answers are the survey's: only its agreement's figures are
    # computed again (config.tablecache).
    rows = tablecache.rows_of("agreement", invitation.survey.agreement_id, SurveyInvitation, Response, Answer)
    with transaction.atomic(), rows:
        spent = SurveyInvitation.objects.filter(
            pk=invitation.pk, token_hash=invitation.token_hash, used_on__isnull=True, withdrawn=False
        ).update(used_on=today)
        if not spent:
            raise ConflictError(
                _("This survey link has already been used. Thank you for answering."), code="token_used"
            )
        response = Response.objects.create(
            survey_id=invitation.survey_id,
            audience=invitation.audience,
            institution_id=invitation.institution_id,
            submitted_on=today,
        )
        Answer.objects.bulk_create(Answer(response=response, question=q, **fields) for q, fields in cleaned)
    return response


# Reminders and closing.


def send_survey_reminders(*, now: datetime | None = None) -> int:
    """Remind people who have not answered, at most twice (3 days and 1 day before closing);
    never respondents or withdrawn links. The raw link is not kept, so each reminder carries a
    fresh one and the older link stops working (as consent reminders do). A run that missed the
    first date sends one reminder, not two; a run twice sends nothing more (a conditional UPDATE
    on the count, and dedupe keys)."""
    now = now or timezone.now()
    sent = 0
    waiting = SurveyInvitation.objects.filter(
        user__isnull=False,
        user__is_active=True,
        used_on__isnull=True,
        withdrawn=False,
        reminders_sent__lt=len(REMINDERS_BEFORE),
        survey__status=SurveyStatus.OPEN,
        survey__closes_at__gt=now,
        survey__closes_at__lte=now + REMINDERS_BEFORE[0],
    )
    for invitation in waiting.select_related("survey__template", "user"):
        due = sum(1 for before in REMINDERS_BEFORE if now >= invitation.survey.closes_at - before)
        if invitation.reminders_sent >= due:
            continue
        token, token_hash = _new_token()
        with transaction.atomic():
            won = SurveyInvitation.objects.filter(
                pk=invitation.pk, used_on__isnull=True, withdrawn=False, reminders_sent=invitation.reminders_sent
            ).update(token_hash=token_hash, reminders_sent=due)
            if not won:
                continue
            invitation.token_hash, invitation.reminders_sent = token_hash, due
            _invitation_email(invitation, token, template="survey_reminder", key=f"reminder{due}")
        sent += 1
    return sent


def close_due_surveys(*, now: datetime | None = None) -> int:
    """Periodic: open surveys past their closing time close (their links stop working)."""
    now = now or timezone.now()
    return Survey.objects.filter(status=SurveyStatus.OPEN, closes_at__lte=now).update(status=SurveyStatus.CLOSED)


def close_survey(*, survey: Survey, by) -> Survey:
    """A coordinator closes a survey early; unanswered links stop working."""
    _ensure(rules.can_close_survey(by, survey), _("Only the agreement's coordinators can close this survey."))
    with transaction.atomic():
        if not Survey.objects.filter(pk=survey.pk, status=SurveyStatus.OPEN).update(status=SurveyStatus.CLOSED):
            raise SurveyError(_("This survey is already closed."), code="invalid_transition")
        survey.refresh_from_db()
        record_audit(actor=by, action="survey.closed", target=survey)
    return survey


def review_text(*, answer: Answer, by, publish: bool) -> Answer:
    """A coordinator of the respondent's school publishes a free-text answer to agency users, or
    withholds it; the decision can be changed."""
    _ensure(rules.can_review_text(by, answer), _("Only the respondent's school reviews this answer."))
    if not answer.text:
        raise SurveyError(_("Only free-text answers are reviewed."), code="not_text")
    answer.review = TextReview.PUBLISHED if publish else TextReview.WITHHELD
    answer.save(update_fields=["review"])
    return answer

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts import services
from notifications.services import notify_rendered

INVITATION_SESSION_KEY = "invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    """allauth, fitted to a product people join only by invitation."""

    def is_open_for_signup(self, request):
        token = request.session.get(INVITATION_SESSION_KEY)
        invitation = services.invitation_for_token(token) if token else None
        return bool(invitation and invitation.is_usable)

    def clean_email(self, email):
        # An invitation's sign-up is for the invited address only. Another address would get the
        # invited one attached as verified (allauth's stashed email), and a taken address would
        # answer differently from a free one: an account-existence oracle (ASVS 6.3.8).
        email = super().clean_email(email)
        request = self.request
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name != "account_signup":
            return email
        token = request.session.get(INVITATION_SESSION_KEY)
        invitation = services.invitation_for_token(token) if token else None
        if invitation is not None and invitation.email.lower() != email.lower():
            raise ValidationError(_("Please sign up with the email address your invitation was sent to."))
        return email

    def send_mail(self, template_prefix, email, context):
        # Account emails (confirmation, password reset) go through the outbox too.
        request = context.get("request")
        message = self.render_mail(template_prefix, email, {"request": request, "email": email, **context})
        html = next(
            (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"),
            "",
        )
        notify_rendered(
            to=email,
            subject=message.subject,
            text=message.body,
            html=html,
            user=get_user_model().objects.filter(email__iexact=email).first(),
            dedupe_key=f"account:{template_prefix.rsplit('/', 1)[-1]}:{uuid.uuid4().hex}",
        )

    def set_password(self, user, password):
        # A new password ends every other way in: other sessions fail Django's session hash
        # check on their next request, and API tokens are revoked here (ASVS 7.4.3).
        super().set_password(user, password)
        Token.objects.filter(user=user).delete()

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.full_name = form.cleaned_data.get("full_name", "").strip()
        if commit:
            user.save()
        return user

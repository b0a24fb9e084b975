import uuid

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import get_user_model

from accounts import services
from notifications.services import notify_rendered

INVITATION_SESSION_KEY = "invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    """allauth, fitted to a product people join only by invitation."""

    def is_open_for_signup(self, request):
        token = request.session.get(INVITATION_SESSION_KEY)
        invitation = services.invitation_for_token(token) if token else None
        return bool(invitation and invitation.is_usable)

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

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.full_name = form.cleaned_data.get("full_name", "").strip()
        if commit:
            user.save()
        return user

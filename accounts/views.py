from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access, selectors, services
from accounts import home as home_panels
from accounts.adapters import INVITATION_SESSION_KEY
from accounts.forms import InvitationForm
from accounts.models import Invitation, Membership, Organization

PAGE_SIZE = 25


@login_not_required
@require_GET
def landing(request):
    if access.is_signed_in(request.user):
        return redirect("home")
    return render(request, "accounts/landing.html")


@login_not_required
@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def home(request):
    """The person's home: their organizations, then every app's panels for their roles."""
    user = request.user
    memberships = selectors.my_memberships(user)
    roles = {m.role for m in memberships}
    context = {
        "memberships": memberships,
        "is_admin": access.is_admin(user),
        "sections": home_panels.sections_for(user, roles),
    }
    return render(request, "accounts/home.html", context)


@require_GET
def organization_list(request):
    page = Paginator(selectors.organizations_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/organization_list.html", {"page": page})


@require_GET
def organization_detail(request, pk):
    organization = access.get_visible_or_404(request.user, Organization, pk=pk)
    can_manage = access.can_manage_organization(request.user, organization)
    members = Paginator(selectors.members_of(request.user, organization), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "organization": organization,
        "members": members,
        "can_manage": can_manage,
        "invitations": selectors.pending_invitations_for(request.user, organization)[:50] if can_manage else [],
        "form": InvitationForm(organization=organization) if can_manage else None,
    }
    if request.htmx:
        return render(request, "accounts/organization_detail.html#members", context)
    return render(request, "accounts/organization_detail.html", context)


@require_http_methods(["GET", "POST"])
def invitation_create(request, pk):
    organization = access.get_visible_or_404(request.user, Organization, pk=pk)
    if not access.can_manage_organization(request.user, organization):
        raise PermissionDenied
    form = InvitationForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                organization=organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=request.user,
            )
        except services.AccountsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("accounts:organization_detail", pk=organization.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/invitation_form.html", {"organization": organization, "form": form}, status=status)


@require_POST
def invitation_revoke(request, pk):
    invitation = access.get_visible_or_404(request.user, Invitation, pk=pk)
    if not access.can_revoke_invitation(request.user, invitation):
        raise PermissionDenied
    try:
        services.invitation_revoke(invitation=invitation, by=request.user)
    except services.AccountsError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
    return redirect("accounts:organization_detail", pk=invitation.organization_id)


@require_POST
def membership_set_active(request, pk, active):
    membership = access.get_visible_or_404(request.user, Membership, pk=pk)
    if not access.can_change_membership(request.user, membership):
        raise PermissionDenied
    try:
        services.membership_set_active(membership=membership, active=active, by=request.user)
    except services.AccountsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            (_("%(name)s can sign in to %(org)s again.") if active else _("%(name)s no longer has access to %(org)s."))
            % {"name": membership.user, "org": membership.organization},
        )
    return redirect("accounts:organization_detail", pk=membership.organization_id)


@login_not_required
@never_cache
@require_GET
def invitation_open(request, token):
    """The emailed link: keep the token in the session and take it out of the URL."""
    request.session[INVITATION_SESSION_KEY] = token
    invitation = services.invitation_for_token(token)
    if invitation is not None and invitation.is_usable:
        # Whoever signs up with the invited address has just proved they receive its mail.
        get_adapter(request).stash_verified_email(request, invitation.email)
    return redirect("accounts:invitation_accept")


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request):
    token = request.session.get(INVITATION_SESSION_KEY)
    invitation = services.invitation_for_token(token) if token else None
    usable = invitation is not None and invitation.is_usable
    if request.method == "POST":
        if not access.is_signed_in(request.user):
            return redirect(f"{reverse('account_login')}?next={reverse('accounts:invitation_accept')}")
        try:
            membership = services.invitation_accept(token=token or "", user=request.user)
        except services.AccountsError as error:
            messages.error(request, str(error))
            return render(
                request,
                "accounts/invitation_accept.html",
                {"invitation": invitation, "usable": False},
                status=400,
            )
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(
            request,
            _("Welcome: you are now %(role)s at %(org)s.")
            % {"role": membership.get_role_display().lower(), "org": membership.organization},
        )
        return redirect("home")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation if usable else None, "usable": usable},
        status=200 if usable else 410,
    )

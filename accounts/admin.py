from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEntry, Invitation, Membership, Organization, User

# The admin login is throttled like the site's (allauth's rate limits, shared cache).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Partnerships administration")
admin.site.site_title = _("Partnerships admin")


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["organization"]
    fields = ["organization", "role", "title", "grade_level", "is_active"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "birth_date"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "district", "city", "region", "time_zone"]
    list_filter = ["kind", "region", "time_zone"]
    search_fields = ["name", "city", "contact_name", "contact_email"]
    autocomplete_fields = ["district"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "title", "grade_level", "is_active", "created_at"]
    list_filter = ["role", "grade_level", "is_active", "organization__kind"]
    fields = ["user", "organization", "role", "title", "grade_level", "is_active", "invited_by"]
    search_fields = ["user__email", "user__full_name", "organization__name"]
    autocomplete_fields = ["user", "organization", "invited_by"]
    list_select_related = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "status", "expires_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token_hash", "accepted_at", "accepted_by", "invited_by", "created_at"]
    list_select_related = ["organization"]

    def has_add_permission(self, request):
        # Invitations carry a secret that is emailed once: coordinators send them from
        # the organization page, where the email goes through the outbox.
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor", "organization", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_id", "actor__email"]
    date_hierarchy = "at"
    list_select_related = ["actor", "organization"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

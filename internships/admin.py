"""Internships in the admin. Statuses, mentors and decisions move only through the services
(they check the rules, take the locks and tell people), so here they are read-only; the
recorded history (pipeline steps, reads of student records) cannot be added, changed or deleted.
Secrets and personal files stay out: a consent's token hash is never shown, and résumés and
consent scans are opened through the app's pages, which check access and log the read."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from internships.enums import HoursStatus
from internships.models import (
    Application,
    ApplicationTransition,
    CheckIn,
    Clearance,
    ClearanceKind,
    CompletionEvaluation,
    GuardianConsent,
    HoursEntry,
    Interview,
    Offer,
    Placement,
    Posting,
    StudentRecordAccess,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Recorded history: viewable, never added, changed or deleted by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Postings.


@admin.register(Posting)
class PostingAdmin(admin.ModelAdmin):
    list_display = ["title", "agency", "agreement", "status", "start_date", "end_date", "apply_by", "slots"]
    list_filter = ["status", "is_remote", "is_paid", "agency"]
    search_fields = ["title", "description", "unit", "location", "agency__name", "agreement__title"]
    date_hierarchy = "apply_by"
    list_select_related = ["agency", "agreement"]
    autocomplete_fields = ["agreement", "agency", "institutions"]
    # Opening and closing go through publish_posting/close_posting (active agreement, places left).
    readonly_fields = ["status", "closed_reason", "created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A posting's agency is fixed once it is made: its applications carry it (Application.agency).
        return [*self.readonly_fields, "agency"] if obj is not None else self.readonly_fields


# Applications and their pipeline.


class TransitionInline(ReadOnlyInline):
    model = ApplicationTransition
    fields = ["at", "from_status", "to_status", "by", "note"]
    show_change_link = False


class InterviewInline(ReadOnlyInline):
    model = Interview
    fields = ["starts_at", "duration_minutes", "location", "status", "sequence"]


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ["created_at", "status", "expires_at", "answered_at", "made_by"]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["student", "posting", "institution", "status", "submitted_at", "created_at"]
    list_filter = ["status", "rejection_reason", "agency"]
    search_fields = ["student__email", "student__full_name", "posting__title", "institution__name"]
    date_hierarchy = "created_at"
    list_select_related = ["student", "posting__agency", "institution"]
    # The résumé file is opened through the application page (access checked, read logged).
    fields = [
        "posting",
        "agency",
        "student",
        "institution",
        "status",
        "submitted_at",
        "rejection_reason",
        "statement",
        "availability",
        "resume_name",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "posting",
        "agency",
        "student",
        "institution",
        "status",
        "submitted_at",
        "rejection_reason",
        "resume_name",
        "created_at",
        "updated_at",
    ]
    inlines = [TransitionInline, InterviewInline, OfferInline]

    def has_add_permission(self, request):
        return False  # students apply through the posting page (eligibility, one per posting)


@admin.register(ApplicationTransition)
class ApplicationTransitionAdmin(ReadOnlyAdmin):
    list_display = ["at", "application", "from_status", "to_status", "by"]
    list_filter = ["to_status", "from_status"]
    search_fields = [
        "application__student__email",
        "application__student__full_name",
        "application__posting__title",
        "note",
    ]
    date_hierarchy = "at"
    list_select_related = ["application__student", "application__posting", "by"]


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    list_display = ["application", "starts_at", "duration_minutes", "location", "status", "sequence"]
    list_filter = ["status"]
    search_fields = ["application__student__email", "application__posting__title", "location"]
    date_hierarchy = "starts_at"
    list_select_related = ["application__student", "application__posting"]
    # A new time goes through schedule_interview: same calendar UID, a higher SEQUENCE, a new invite.
    readonly_fields = [
        "application",
        "starts_at",
        "duration_minutes",
        "status",
        "scheduled_by",
        "uid",
        "sequence",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["application", "status", "expires_at", "answered_at", "made_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["application__student__email", "application__student__full_name", "application__posting__title"]
    date_hierarchy = "expires_at"
    list_select_related = ["application__student", "application__posting", "made_by"]
    readonly_fields = ["application", "status", "answered_at", "made_by", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # make_offer counts the places under the posting's row lock


# Placements, consent, hours, check-ins.


class HoursInline(ReadOnlyInline):
    model = HoursEntry
    fields = ["day", "hours", "activity", "status", "reviewed_by", "reviewed_at", "comment"]


class CheckInInline(ReadOnlyInline):
    model = CheckIn
    fields = ["due_on", "status", "held_on", "observable_setting", "recorded_by", "flagged_at"]


class ConsentInline(ReadOnlyInline):
    model = GuardianConsent
    fields = ["status", "guardian_name", "guardian_email", "method", "sent_at", "expires_at", "decided_at"]


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["student", "posting", "mentor", "status", "start_date", "end_date", "needs_consent"]
    list_filter = ["status", "needs_consent", "posting__agency"]
    search_fields = ["student__email", "student__full_name", "mentor__email", "mentor__full_name", "posting__title"]
    date_hierarchy = "start_date"
    list_select_related = ["student", "mentor", "posting__agency"]
    # The mentor is named through assign_mentor, which checks the clearances for every day.
    readonly_fields = [
        "application",
        "posting",
        "student",
        "mentor",
        "status",
        "needs_consent",
        "ended_on",
        "end_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [ConsentInline, CheckInInline, HoursInline]

    def has_add_permission(self, request):
        return False  # a placement is made by accepting an offer


@admin.register(GuardianConsent)
class GuardianConsentAdmin(admin.ModelAdmin):
    list_display = ["placement", "guardian_name", "guardian_email", "status", "method", "reminders_sent", "expires_at"]
    list_filter = ["status", "method"]
    search_fields = ["guardian_name", "guardian_email", "placement__student__email", "placement__student__full_name"]
    date_hierarchy = "created_at"
    list_select_related = ["placement__student", "placement__posting__agency"]
    # Neither the token hash nor the scan is shown; the decision is the guardian's (or a
    # coordinator's, with the signed paper form, on the placement page).
    fields = [
        "placement",
        "status",
        "guardian_name",
        "guardian_email",
        "named_by",
        "sent_at",
        "expires_at",
        "reminders_sent",
        "method",
        "decided_at",
        "recorded_by",
        "has_scan",
        "revoked_at",
        "note",
        "created_at",
        "updated_at",
    ]
    # A new guardian or address goes through name_guardian, which sends a fresh link.
    readonly_fields = [f for f in fields if f != "note"]

    @admin.display(boolean=True, description=_("signed form on file"))
    def has_scan(self, obj):
        return bool(obj.scan)

    def has_add_permission(self, request):
        return False


@admin.register(HoursEntry)
class HoursEntryAdmin(admin.ModelAdmin):
    list_display = ["placement", "day", "hours", "status", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["placement__student__email", "placement__student__full_name", "activity"]
    date_hierarchy = "day"
    list_select_related = ["placement__student", "placement__posting__agency", "reviewed_by"]
    readonly_fields = ["placement", "status", "reviewed_by", "reviewed_at", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == HoursStatus.APPROVED:
            return [f.name for f in self.model._meta.fields]  # approved hours are locked
        return self.readonly_fields

    def has_add_permission(self, request):
        return False  # log_hours checks the dates and the 24-hour day


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["placement", "due_on", "status", "held_on", "observable_setting", "flagged_at"]
    list_filter = ["status", "observable_setting"]
    search_fields = ["placement__student__email", "placement__mentor__email", "notes"]
    date_hierarchy = "due_on"
    list_select_related = ["placement__student", "placement__posting__agency"]
    readonly_fields = [
        "placement",
        "status",
        "held_on",
        "observable_setting",
        "recorded_by",
        "flagged_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False  # scheduled when the placement starts, every check_in_every_days


@admin.register(CompletionEvaluation)
class CompletionEvaluationAdmin(ReadOnlyAdmin):
    list_display = ["placement", "author_role", "author", "rating", "submitted_at"]
    list_filter = ["author_role", "rating"]
    search_fields = ["placement__student__email", "author__email", "went_well", "to_improve"]
    date_hierarchy = "submitted_at"
    list_select_related = ["placement__student", "placement__posting__agency", "author"]


# Mentors' clearances.


@admin.register(ClearanceKind)
class ClearanceKindAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "is_required"]
    list_filter = ["is_required", "agency"]
    search_fields = ["name", "description", "agency__name"]
    list_select_related = ["agency"]
    autocomplete_fields = ["agency"]


@admin.register(Clearance)
class ClearanceAdmin(admin.ModelAdmin):
    list_display = ["officer", "kind", "reference", "issued_on", "expires_on", "verified_by"]
    list_filter = ["kind__agency", "kind"]
    search_fields = ["officer__email", "officer__full_name", "kind__name", "reference"]
    date_hierarchy = "expires_on"
    list_select_related = ["officer", "kind__agency", "verified_by"]
    autocomplete_fields = ["officer"]
    readonly_fields = ["verified_by", "verified_at", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.verified_by = request.user  # whoever records a clearance vouches for it
        super().save_model(request, obj, form, change)


# The record of agency staff's reads of student records.


@admin.register(StudentRecordAccess)
class StudentRecordAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "viewer", "student", "record", "purpose", "categories", "agreement"]
    list_filter = ["purpose"]
    search_fields = ["viewer__email", "viewer__full_name", "student__email", "student__full_name", "record"]
    date_hierarchy = "at"
    list_select_related = ["viewer", "student", "agreement"]

from django.contrib import admin

from programs.models import (
    BlackoutPeriod,
    Booking,
    CalendarFeedToken,
    Facilitation,
    OfficerQualification,
    Program,
    Qualification,
    Session,
    SessionRequest,
    Term,
)


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(OfficerQualification)
class OfficerQualificationAdmin(admin.ModelAdmin):
    list_display = ["officer", "qualification", "earned_on", "expires_on"]
    list_filter = ["qualification"]
    search_fields = ["officer__email", "officer__full_name", "qualification__name"]
    list_select_related = ["officer", "qualification"]
    autocomplete_fields = ["officer"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["title", "topic", "grade_band", "format", "agreement", "default_capacity_seats"]
    list_filter = ["topic", "grade_band", "format"]
    search_fields = ["title", "description", "agreement__title"]
    list_select_related = ["agreement"]


class BookingInline(admin.TabularInline):
    model = Booking
    extra = 0
    fields = ["institution", "group_name", "seats", "status", "waitlisted_at", "attended_count"]
    readonly_fields = fields
    can_delete = False


class FacilitationInline(admin.TabularInline):
    model = Facilitation
    extra = 0
    fields = ["officer", "starts_at", "ends_at", "live"]
    readonly_fields = fields
    can_delete = False


@admin.register(Facilitation)
class FacilitationAdmin(admin.ModelAdmin):
    """Who facilitates what, when: written by the scheduling service, read here."""

    list_display = ["officer", "session", "starts_at", "ends_at", "live"]
    list_filter = ["live"]
    search_fields = ["officer__email", "officer__full_name", "session__program__title"]
    list_select_related = ["officer", "session__program"]
    date_hierarchy = "starts_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["program", "starts_at", "location_kind", "school", "capacity_seats", "confirmed_seats", "status"]
    list_filter = ["status", "location_kind"]
    search_fields = ["program__title", "school__name", "venue"]
    list_select_related = ["program", "school"]
    date_hierarchy = "starts_at"
    # Time, seats, status and facilitators change only through the services (pages and API),
    # which check the calendars, hold the row lock and tell everyone with a new SEQUENCE.
    readonly_fields = [
        "starts_at",
        "ends_at",
        "capacity_seats",
        "confirmed_seats",
        "status",
        "ical_uid",
        "ical_sequence",
        "created_by",
    ]
    inlines = [FacilitationInline, BookingInline]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["group_name", "session", "institution", "seats", "status", "waitlisted_at"]
    list_filter = ["status"]
    search_fields = ["group_name", "institution__name", "session__program__title", "booked_by__email"]
    list_select_related = ["session__program", "institution"]
    readonly_fields = ["status", "waitlisted_at", "confirmed_at", "cancelled_at", "booked_by", "session", "seats"]


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "institution", "starts_on", "ends_on"]
    list_filter = ["institution"]
    search_fields = ["name", "institution__name"]
    list_select_related = ["institution"]


@admin.register(BlackoutPeriod)
class BlackoutPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "starts_on", "ends_on"]
    list_filter = ["kind"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]


@admin.register(SessionRequest)
class SessionRequestAdmin(admin.ModelAdmin):
    list_display = ["program", "institution", "window_starts_on", "window_ends_on", "seats", "status"]
    list_filter = ["status"]
    search_fields = ["program__title", "institution__name", "group_name"]
    list_select_related = ["program", "institution"]


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_used_at"]
    list_filter = ["created_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    readonly_fields = ["token_hash", "created_at", "last_used_at"]

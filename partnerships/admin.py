from django.contrib import admin

from partnerships.models import (
    ActionItem,
    Agreement,
    AgreementDocument,
    AgreementParty,
    DataSharingTerm,
    FundingCommitment,
    Meeting,
    Objective,
    Responsibility,
    Signature,
)


class PartyInline(admin.TabularInline):
    model = AgreementParty
    extra = 0
    autocomplete_fields = ["organization", "contact"]


class ObjectiveInline(admin.TabularInline):
    model = Objective
    extra = 0


class DataTermInline(admin.TabularInline):
    model = DataSharingTerm
    extra = 0


class SignatureInline(admin.TabularInline):
    model = Signature
    extra = 0
    readonly_fields = ["party", "signed_by", "signer_name", "signer_title", "signed_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "status", "lead_agency", "starts_on", "ends_on", "review_on"]
    list_filter = ["status", "ends_on"]
    search_fields = ["title", "purpose", "lead_agency__name", "parties__organization__name"]
    date_hierarchy = "ends_on"
    list_select_related = ["lead_agency"]
    autocomplete_fields = ["lead_agency", "created_by"]
    readonly_fields = [
        "lineage",
        "version",
        "previous_version",
        "status",
        "activated_at",
        "ended_at",
        "created_at",
        "updated_at",
    ]
    inlines = [PartyInline, ObjectiveInline, DataTermInline, SignatureInline]


@admin.register(AgreementParty)
class AgreementPartyAdmin(admin.ModelAdmin):
    list_display = ["organization", "agreement", "role", "contact"]
    list_filter = ["role"]
    search_fields = ["organization__name", "agreement__title"]
    list_select_related = ["organization", "agreement", "contact"]
    autocomplete_fields = ["organization", "agreement", "contact"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["description", "agreement", "measure", "target_on"]
    search_fields = ["description", "measure", "agreement__title"]
    list_select_related = ["agreement"]


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["agreement", "party", "kind"]
    list_filter = ["kind"]
    search_fields = ["description", "agreement__title", "party__organization__name"]
    list_select_related = ["agreement", "party__organization"]


@admin.register(FundingCommitment)
class FundingCommitmentAdmin(admin.ModelAdmin):
    list_display = ["agreement", "party", "amount", "currency", "period_start", "period_end"]
    list_filter = ["currency"]
    search_fields = ["purpose", "agreement__title"]
    list_select_related = ["agreement", "party__organization"]


@admin.register(DataSharingTerm)
class DataSharingTermAdmin(admin.ModelAdmin):
    list_display = ["agreement", "category", "direction", "lawful_basis", "retention_days"]
    list_filter = ["category", "direction", "lawful_basis"]
    search_fields = ["purpose", "agreement__title"]
    list_select_related = ["agreement"]


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ["agreement", "party", "signer_name", "signer_title", "signed_at"]
    search_fields = ["signer_name", "agreement__title"]
    list_select_related = ["agreement", "party__organization"]
    readonly_fields = ["agreement", "party", "signed_by", "signer_name", "signer_title", "signed_at"]

    def has_add_permission(self, request):
        return False  # signatures are given by the parties' coordinators, on the agreement page


@admin.register(AgreementDocument)
class AgreementDocumentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "agreement", "size_bytes", "uploaded_by", "uploaded_at"]
    search_fields = ["original_name", "agreement__title"]
    list_select_related = ["agreement", "uploaded_by"]
    readonly_fields = ["file", "original_name", "size_bytes", "uploaded_by", "uploaded_at"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["agreement", "starts_at", "location", "status"]
    list_filter = ["status"]
    search_fields = ["agenda", "minutes", "agreement__title"]
    date_hierarchy = "starts_at"
    list_select_related = ["agreement"]
    filter_horizontal = ["attendees"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["description", "agreement", "owner", "due_on", "done_at"]
    list_filter = ["due_on"]
    search_fields = ["description", "agreement__title", "owner__email"]
    list_select_related = ["agreement", "owner"]

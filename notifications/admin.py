from django.contrib import admin, messages

from notifications import services
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_email", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["to_email", "subject", "dedupe_key"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again now (failed or pending messages)")
    def retry(self, request, queryset):
        count = queryset.filter(status__in=[MessageStatus.FAILED, MessageStatus.PENDING]).update(
            status=MessageStatus.PENDING, next_attempt_at=services.timezone.now()
        )
        services.sweep()
        self.message_user(request, f"{count} message(s) queued again.", messages.SUCCESS)

from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.enums import MessageStatus


class OutboundMessage(models.Model):
    """An email the system owes someone: written in the transaction that caused it,
    delivered after commit by a task, or later by the sweep. The dedupe key makes
    writing it twice (a task run twice, two beats) one email."""

    dedupe_key = models.CharField(max_length=200, unique=True)
    to_email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    subject = models.CharField(max_length=250)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    ics_content = models.TextField(blank=True)
    ics_method = models.CharField(max_length=20, blank=True)
    ics_filename = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notifications_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="notifications_sending",
            ),
            models.Index(fields=["user", "-created_at"], name="notifications_user_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MessageStatus.values),
                name="notifications_outboundmessage_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {self.to_email} ({self.status})"

from rest_framework import serializers

from notifications.models import OutboundMessage


class OutboundMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboundMessage
        fields = ["id", "subject", "to_email", "status", "created_at", "sent_at"]
        read_only_fields = fields

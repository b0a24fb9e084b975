from config.serializers import ReadPlanModelSerializer
from notifications.models import OutboundMessage


class OutboundMessageSerializer(ReadPlanModelSerializer):
    class Meta:
        model = OutboundMessage
        fields = ["id", "subject", "to_email", "status", "created_at", "sent_at"]
        read_only_fields = fields

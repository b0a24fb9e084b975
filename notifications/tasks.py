from celery import shared_task

from notifications import services


@shared_task(ignore_result=True)
def deliver_message(message_id: int) -> bool:
    return services.deliver(message_id)


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    return services.sweep()

"""The laptop mailer: every message as a file in var/mail/, and one line on the console."""

import datetime
import logging
import os
import uuid

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend

logger = logging.getLogger("notifications.mail")


class FolderEmailBackend(FileEmailBackend):
    """Write each message to its own .eml file and say so on the console.

    The console line names the recipient and subject only: bodies may hold one-time
    links, which must not end up in logs.
    """

    def open(self):
        return False  # a file is opened per message

    def close(self):
        pass

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = os.path.join(self.file_path, f"{stamp}-{uuid.uuid4().hex[:12]}.eml")
            with open(path, "wb") as stream:
                stream.write(message.message().as_bytes())
            logger.info("mail to %s: %s (%s)", ", ".join(message.to), message.subject, path)
            sent += 1
        return sent

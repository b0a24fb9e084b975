"""A mail server that is slow to answer: SLOW_MAIL_SECONDS before the message is written
(SLOW_MAIL_WHEN=before, the server has not accepted it yet) or after (=after, accepted,
and the worker has not yet heard back)."""

import os
import time

from notifications.mail import FolderEmailBackend


class SlowFolderEmailBackend(FolderEmailBackend):
    def send_messages(self, email_messages):
        pause = float(os.environ.get("SLOW_MAIL_SECONDS", "0"))
        after = os.environ.get("SLOW_MAIL_WHEN", "before") == "after"
        if not after:
            time.sleep(pause)
        sent = super().send_messages(email_messages)
        if after:
            time.sleep(pause)
        return sent

BEAT_SCHEDULE = {
    "programs-reminders": {"task": "programs.tasks.send_session_reminders", "schedule": 900.0},
}

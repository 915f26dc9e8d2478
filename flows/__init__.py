"""Prefect flows composing the library steps as tasks; no business logic lives here."""

import os

# Quiet, offline-friendly Prefect defaults (GUIDE §5); explicit environment settings win.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# the library's own warnings (lock waits, retries, skipped rows) in each flow run's Prefect log
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "painpoints")

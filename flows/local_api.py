"""Start Prefect's temporary local API in the background, so a cold ``painpoints run`` does not wait
for it and then for its own imports one after the other.

With no ``PREFECT_API_URL``, the first flow of a process starts a temporary API server in a
subprocess and waits until it answers (≈6 s here). Starting it first and loading the embedding model
and clustering libraries meanwhile overlaps the two (the server uses the second core). Prefect's own
``SubprocessASGIServer`` is a per-process singleton whose ``start()`` is safe to call again, so the
flow then finds it running. Call the returned function before the flow starts: ``start()`` marks
the server running before it answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def start_in_background() -> Callable[[], None]:
    """Begin starting the temporary API if this process will need one; returns ``wait()``."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return lambda: None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()

    def start() -> None:
        try:
            server.start()
        except Exception:  # noqa: BLE001  (running is reset; the flow's own start() retries and reports)
            pass

    thread = threading.Thread(target=start, name="prefect-local-api", daemon=True)
    thread.start()
    return thread.join

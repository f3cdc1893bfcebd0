"""A blocking QMP client built on ``qemu.qmp``'s :class:`~qemu.qmp.QMPClient`.

``qemu.qmp`` is asyncio; tests and harnesses are mostly not. The client runs
its own event loop on a private thread, so it works the same from plain
code and from inside a running asyncio loop (an async test).
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, Dict, List, Optional, TypeVar

from qemu.qmp import QMPClient

T = TypeVar("T")


class SyncQMPClient:
    """One negotiated QMP connection to a unix socket, used synchronously.

    >>> client = SyncQMPClient("/tmp/qmpfleet-xyz/sockets/fleet.qmp")
    >>> client.execute("query-vms")
    [...]
    >>> client.close()

    Errors of commands raise :class:`qemu.qmp.ExecuteError`, as with ``QMPClient``.
    """

    def __init__(self, path: str, timeout: float = 30.0, name: str = "qmpfleet") -> None:
        self.path = path
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"{name}-qmp", daemon=True)
        self._thread.start()
        self._client: Optional[QMPClient] = None
        try:
            self._client = self._run(self._connect(name))
        except BaseException:
            self._stop_loop()
            raise

    async def _connect(self, name: str) -> QMPClient:
        client = QMPClient(name)
        await client.connect(self.path)
        return client

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout)

    def execute(self, command: str, arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Runs ``command`` and returns its ``return`` value."""
        assert self._client is not None, "client is closed"
        return self._run(self._client.execute(command, arguments))

    def events(self) -> List[Dict[str, Any]]:
        """The events received so far (each once)."""
        assert self._client is not None, "client is closed"
        client = self._client

        async def drain() -> List[Dict[str, Any]]:
            await asyncio.sleep(0)
            return [dict(event) for event in client.events.clear()]

        return self._run(drain())

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                self._run(client.disconnect())
            except Exception:
                pass
        self._stop_loop()

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> "SyncQMPClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

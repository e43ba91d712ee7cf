"""``/_b24local/snapshots`` (contract test-portal.md T4): ``GET`` lists the snapshots, ``PUT …/NAME``
saves the whole state as NAME (replacing one of that name), ``GET …/NAME`` shows one, ``DELETE
…/NAME`` removes it. Restoring one is ``POST /_b24local/reset`` with ``{"to": NAME}`` (admin/reset.py).
"""

from __future__ import annotations

from b24local.admin import state
from b24local.admin.http import ReadBody, Send, error_body, send_json
from b24local.storage.base import Storage
from b24local.storage.errors import BusyPastDeadline

PREFIX = "/_b24local/snapshots"
BUSY = error_body("QUERY_LIMIT_EXCEEDED", "The database stayed busy: nothing was changed; try again")


class SnapshotsHandler:
    """Everything under :data:`PREFIX` (the surface routes the prefix here, the token checked)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def __call__(self, http_method: str, path: str, read_body: ReadBody, send: Send) -> None:
        name = path[len(PREFIX) :].removeprefix("/")
        try:
            if not name:
                await self._collection(http_method, send)
            elif not state.valid_name(name):
                await send_json(send, 400, error_body("INVALID_REQUEST", state.NAME_RULE), http_method)
            else:
                await self._one(http_method, name, send)
        except BusyPastDeadline:
            await send_json(send, 503, BUSY, http_method)

    async def _collection(self, http_method: str, send: Send) -> None:
        if http_method not in ("GET", "HEAD"):
            await _not_allowed(send, http_method, "GET, HEAD")
            return
        found = [state.described(s) for s in state.listing(self.storage)]
        await send_json(send, 200, {"snapshots": found}, http_method)

    async def _one(self, http_method: str, name: str, send: Send) -> None:
        if http_method == "PUT":
            info, replaced = state.save(self.storage, name)
            await send_json(send, 200 if replaced else 201, state.described(info), http_method)
        elif http_method in ("GET", "HEAD"):
            found = [s for s in state.listing(self.storage) if s.name == name]
            if found:
                await send_json(send, 200, state.described(found[0]), http_method)
            else:
                await _unknown(send, http_method, name)
        elif http_method == "DELETE":
            if state.delete(self.storage, name):
                await send_json(send, 200, {"deleted": name}, http_method)
            else:
                await _unknown(send, http_method, name)
        else:
            await _not_allowed(send, http_method, "GET, HEAD, PUT, DELETE")


async def _unknown(send: Send, http_method: str, name: str) -> None:
    await send_json(send, 404, error_body("NOT_FOUND", f"No snapshot named {name}"), http_method)


async def _not_allowed(send: Send, http_method: str, allowed: str) -> None:
    refusal = error_body("METHOD_NOT_ALLOWED", f"Use {allowed}")
    await send_json(send, 405, refusal, http_method, [(b"allow", allowed.encode())])

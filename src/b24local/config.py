"""Server settings, from the command line and the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///b24local.db"
DATABASE_ENV = "B24LOCAL_DATABASE_URL"
ADMIN_TOKEN_ENV = "B24LOCAL_ADMIN_TOKEN"  # noqa: S105 (the name of a variable, not a secret)


def redacted_url(url: str) -> str:
    """``url`` without its password, for messages (``postgresql://user:***@host/db``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in credentials else ''}@{host}"


#: The start of a URL (``postgresql:``, ``mysql:``): text without it is taken for a file path.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def database_url(given: str | None) -> str:
    """``--database``, else ``$B24LOCAL_DATABASE_URL``, else ``sqlite:///b24local.db``. A bare file
    path (``./x.db``, ``/tmp/x.db``, ``x.db``) names an SQLite database: ``sqlite:///./x.db``."""
    url = given or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL
    return url if _SCHEME.match(url) else f"sqlite:///{url}"


#: Addresses that listen on every interface, and the loopback address a local client calls instead.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104 (compared, not bound)


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = 8 * 1024 * 1024
    tls: bool = False
    #: The token of the test portal's surface (/_b24local/, contract T2); None keeps it closed.
    #: Out of the repr, so that printing a Config never shows it.
    admin_token: str | None = field(default=None, repr=False)
    #: Origins whose pages may call the server from a browser (T10); "*" for any, () for none.
    cors_origins: tuple[str, ...] = ()
    #: A file of fault rules (T9) that ``serve`` sets at start, replacing those of the database.
    faults_file: str | None = None
    #: A seed document applied at start when the database is empty (T5); None: none.
    seed: str | None = None
    #: ``--webhook-code`` (T6): user 1's webhook has it at every start, and again after ``reset`` with
    #: ``{"all": true}``; None: a random code. Out of the repr, as the admin token.
    webhook_code: str | None = field(default=None, repr=False)
    #: Entries the request journal keeps (T7); 0: no journal.
    journal_size: int = 10_000
    #: One line per call on stdout (T8): "text", "json", or None for none.
    log_format: str | None = None

    @property
    def listen_url(self) -> str:
        """The address the server listens on (``http://0.0.0.0:8000`` for every interface)."""
        return self._url(self.host)

    @property
    def base_url(self) -> str:
        """Where a client on this machine reaches the server: a wildcard address (``0.0.0.0``, ``::``)
        is no address to call, so webhook URLs name the loopback address instead."""
        return self._url(_WILDCARDS.get(self.host, self.host))

    def _url(self, host: str) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{shown}:{self.port}"

    def webhook_url(self, user_id: int, code: str) -> str:
        return f"{self.base_url}/rest/{user_id}/{code}/"


def admin_token(given: str | None) -> str | None:
    """``--admin-token``, else ``$B24LOCAL_ADMIN_TOKEN``, else None (an empty value counts as none)."""
    return given or os.environ.get(ADMIN_TOKEN_ENV) or None


def data_dir(given: str | None, url: str) -> Path:
    """Where b24local keeps files beside the database (the local CA): ``--data-dir``, or ``.b24local``
    next to an SQLite database file, or ``.b24local`` in the working directory."""
    if given:
        return Path(given)
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :]).parent / ".b24local"
    return Path(".b24local")

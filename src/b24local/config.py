"""Server settings, from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///b24local.db"
DATABASE_ENV = "B24LOCAL_DATABASE_URL"


def database_url(given: str | None) -> str:
    return given or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = 8 * 1024 * 1024

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def webhook_url(self, user_id: int, code: str) -> str:
        return f"{self.base_url}/rest/{user_id}/{code}/"

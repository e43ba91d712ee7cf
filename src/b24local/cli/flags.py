"""What several commands share: the error a command prints, where the database is, a webhook code."""

from __future__ import annotations

import argparse


class CliError(Exception):
    """A one-line message for the user."""


DATABASE_HELP = (
    "sqlite:///path, a bare file path (./x.db), or postgresql://user:password@host:port/db "
    "(default: $B24LOCAL_DATABASE_URL, else sqlite:///b24local.db in the working directory)"
)


def add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP)


def webhook_code(text: str) -> str:
    if not text or not text.isascii() or not all(c.isalnum() or c in "_-" for c in text):
        raise argparse.ArgumentTypeError("a webhook code is letters, digits, '_' and '-'")
    if text.isdigit():
        raise argparse.ArgumentTypeError("a webhook code must not be all digits")
    return text

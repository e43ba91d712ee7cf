"""The options of ``b24local serve`` and the checks of their values (cli/parser.py builds the rest)."""

from __future__ import annotations

import argparse

from b24local.auth.limits import CHOICES as LIMIT_PROFILES
from b24local.cli.flags import add_database, webhook_code
from b24local.storage.sqlite import DEFAULT_SYNCHRONOUS as DEFAULT_SQLITE_SYNCHRONOUS
from b24local.storage.sqlite import SYNCHRONOUS as SQLITE_SYNCHRONOUS


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def _connection_count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a number of connections from 1, not {text!r}")
    return int(text)


def _journal_size(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) > 10_000_000:
        raise argparse.ArgumentTypeError(f"a number of journal entries from 0 to 10000000, not {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"a number of workers from 1 to 64, not {text!r}")
    return int(text)


def _ttl(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}")
    return int(text)


def _origin(text: str) -> str:
    from b24local.protocol.cors import normalise_origin

    try:
        return normalise_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: The deals of one pipeline other than the default one (crm.permissions.partition_key).


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on")
    add_database(serve)
    serve.add_argument(
        "--webhook-code",
        type=webhook_code,
        metavar="CODE",
        help="make sure user 1 has a crm webhook with this code at every start, so its URL is known "
        "beforehand (default: $B24LOCAL_WEBHOOK_CODE, else a random code on a new database)",
    )
    serve.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a certificate from a local CA (default: HTTP)"
    )
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (with --tls-key)")
    serve.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    serve.add_argument("--data-dir", metavar="DIR", help="where the local CA is kept (default: .b24local)")
    serve.add_argument(
        "--limits",
        choices=LIMIT_PROFILES,
        default="off",
        help="portal limits: request rate (503) and operating time (429) (default: off)",
    )
    serve.add_argument(
        "--operating-limit",
        type=_seconds,
        metavar="SECONDS",
        help="operating-time limit per method and webhook/app in 10 minutes (default: the profile's 480)",
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        help="keep the limits' state in Redis (redis://host:port/db), shared by every server process "
        "of the portal; without it, in the database (default: $B24LOCAL_REDIS_URL)",
    )
    serve.add_argument(
        "--fake-clock",
        metavar="FILE",
        help="testing aid: the limits read the current Unix time from FILE, read again on every call "
        "(default: the real clock)",
    )
    for flag, default, what in (
        ("--oauth-code-ttl", 30, "authorization code"),
        ("--oauth-access-ttl", 3600, "OAuth access token"),
        ("--oauth-refresh-ttl", 180 * 86400, "OAuth refresh token"),
    ):
        serve.add_argument(flag, type=_ttl, default=default, metavar="SECONDS", help=f"{what} lifetime (s)")
    serve.add_argument(
        "--auto-approve-user",
        type=int,
        metavar="ID",
        help="testing aid: /oauth/authorize/ approves at once as this user, without the sign-in page "
        "(default: the user approves by pasting a webhook URL)",
    )

    serve.add_argument(
        "--header-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="a request's head must arrive whole within this, from connect or from the previous answer "
        "(default: 10)",
    )
    serve.add_argument(
        "--max-connections",
        type=_connection_count,
        metavar="N",
        help="open connections per process; more are answered 503 and closed "
        "(default: 1024, or fewer if the descriptor limit is lower)",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="server processes sharing the port and the database (default: 1)",
    )
    serve.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="the Bearer token of the test portal's surface under /_b24local/ (default: "
        "$B24LOCAL_ADMIN_TOKEN; without either that surface stays closed, health aside)",
    )
    serve.add_argument(
        "--cors-origin",
        type=_origin,
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let pages of ORIGIN (scheme://host[:port], or * for any) call the server from a browser; "
        "repeatable (default: none)",
    )
    serve.add_argument(
        "--faults",
        metavar="FILE",
        help="set these fault rules at start (a JSON list, or YAML for .yaml/.yml; the format of PUT "
        "/_b24local/faults), replacing the database's (default: none, keep the database's rules)",
    )
    serve.add_argument(
        "--seed",
        metavar="FILE",
        help="apply this seed document (JSON, or YAML for .yaml/.yml) when the database is empty; "
        "skipped on a database with users or records (default: none)",
    )
    serve.add_argument(
        "--journal-size",
        type=_journal_size,
        default=10_000,
        metavar="N",
        help="entries the request journal (GET /_b24local/journal) keeps; 0 turns it off (default: 10000)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="print one line per call on stdout, secrets left out (default: no lines)",
    )
    serve.add_argument(
        "--sqlite-synchronous",
        choices=SQLITE_SYNCHRONOUS,
        default=DEFAULT_SQLITE_SYNCHRONOUS,
        help="SQLite only: normal loses no answered write when the server crashes, but a power "
        "loss may undo the last ones; full keeps them too, at an fsync per write (docs/reliability.md) "
        "(default: %(default)s)",
    )

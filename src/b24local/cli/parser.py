"""The ``b24local`` argument parser: its commands, their flags and the checks of the flags' values."""

from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

from b24local import __version__
from b24local.auth.limits import CHOICES as LIMIT_PROFILES
from b24local.crm.entities import ENTITIES
from b24local.crm.permissions import ACTIONS, Level
from b24local.storage.sqlite import DEFAULT_SYNCHRONOUS as DEFAULT_SQLITE_SYNCHRONOUS
from b24local.storage.sqlite import SYNCHRONOUS as SQLITE_SYNCHRONOUS


class CliError(Exception):
    """A one-line message for the user."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def _scopes(text: str) -> list[str]:
    scopes = [s.strip().lower() for s in text.split(",") if s.strip()]
    if not scopes:
        raise argparse.ArgumentTypeError("at least one scope is needed")
    return scopes


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


def _workers(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"a number of workers from 1 to 64, not {text!r}")
    return int(text)


def _ttl(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}")
    return int(text)


def _code(text: str) -> str:
    if not text or not text.isascii() or not all(c.isalnum() or c in "_-" for c in text):
        raise argparse.ArgumentTypeError("a webhook code is letters, digits, '_' and '-'")
    if text.isdigit():
        raise argparse.ArgumentTypeError("a webhook code must not be all digits")
    return text


def _redirect_uri(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise argparse.ArgumentTypeError("an http(s) URL without a #fragment is needed")
    return text


def _origin(text: str) -> str:
    from b24local.protocol.cors import normalise_origin

    try:
        return normalise_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: The deals of one pipeline other than the default one (crm.permissions.partition_key).
_PIPELINE = re.compile(r"^deal_c[1-9][0-9]{0,9}$")


def _perm(text: str) -> list[tuple[str, str, Level]]:
    """``ENTITY:ACTION:LEVEL`` (``*`` for every entity or action) as (entity, action, level) triples."""
    parts = [p.strip().lower() for p in text.split(":")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected ENTITY:ACTION:LEVEL, got {text!r}")
    entity, action, level = parts
    if entity != "*" and entity not in ENTITIES and not _PIPELINE.match(entity):
        known = ", ".join(ENTITIES)
        raise argparse.ArgumentTypeError(
            f"unknown entity {entity!r} (one of {known}, deal_c<pipeline id>, *)"
        )
    if action != "*" and action not in ACTIONS:
        raise argparse.ArgumentTypeError(f"unknown action {action!r} (one of {', '.join(ACTIONS)}, *)")
    names = {lv.name.lower(): lv for lv in Level}
    if level not in names:
        raise argparse.ArgumentTypeError(f"unknown level {level!r} (one of {', '.join(names)})")
    entities = list(ENTITIES) if entity == "*" else [entity]
    actions = list(ACTIONS) if action == "*" else [action]
    return [(e, a, names[level]) for e in entities for a in actions]


def _access_parsers(commands: Any, user_commands: Any) -> None:
    """user update, department create, role create/assign."""
    user_update = user_commands.add_parser("update", help="change a user")
    user_update.add_argument("--database", metavar="URL")
    user_update.add_argument("--id", type=int, required=True, metavar="ID")
    user_update.add_argument("--name")
    user_update.add_argument("--last-name")
    user_update.add_argument("--admin", action=argparse.BooleanOptionalAction, default=None)
    user_update.add_argument("--active", dest="active", action="store_const", const=True, default=None)
    user_update.add_argument("--inactive", dest="active", action="store_const", const=False)
    user_update.add_argument(
        "--crm-access",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="hold the built-in CRM role Employee (level own everywhere)",
    )
    in_departments = user_update.add_mutually_exclusive_group()
    in_departments.add_argument(
        "--department",
        type=int,
        nargs="+",
        action="extend",
        metavar="ID",
        help="the user's departments (replaces the ones it had)",
    )
    in_departments.add_argument(
        "--no-department", action="store_true", help="take the user out of every department"
    )

    department = commands.add_parser("department", help="manage departments")
    department_commands = department.add_subparsers(dest="action", required=True, parser_class=Parser)
    department_create = department_commands.add_parser("create", help="create a department and print its id")
    department_create.add_argument("--database", metavar="URL")
    department_create.add_argument("--name", required=True)
    department_create.add_argument("--parent", type=int, metavar="ID", help="the parent department")

    role = commands.add_parser("role", help="manage CRM roles")
    role_commands = role.add_subparsers(dest="action", required=True, parser_class=Parser)
    role_create = role_commands.add_parser("create", help="create a CRM role and print its id")
    role_create.add_argument("--database", metavar="URL")
    role_create.add_argument("--name", required=True)
    role_create.add_argument(
        "--perm",
        type=_perm,
        action="append",
        required=True,
        metavar="ENTITY:ACTION:LEVEL",
        help="e.g. lead:read:all, contact:*:own or deal_c2:read:none (deals of pipeline 2; a pipeline "
        "without levels of its own has those of deal); levels none, own, department, subdepartments, "
        "open, all",
    )
    pipeline = commands.add_parser("pipeline", help="manage deal pipelines")
    pipeline_commands = pipeline.add_subparsers(dest="action", required=True, parser_class=Parser)
    pipeline_create = pipeline_commands.add_parser(
        "create", help='create a deal pipeline and print its id (its stages: "C<id>:NEW" ...)'
    )
    pipeline_create.add_argument("--database", metavar="URL")
    pipeline_create.add_argument("--name", required=True)
    role_assign = role_commands.add_parser("assign", help="give a CRM role to a user or a department")
    role_assign.add_argument("--database", metavar="URL")
    role_assign.add_argument("--role", type=int, required=True, metavar="ID")
    holder = role_assign.add_mutually_exclusive_group(required=True)
    holder.add_argument("--user", type=int, metavar="ID")
    holder.add_argument("--department", type=int, metavar="ID")


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///path or postgresql://user:password@host:port/db (default: $B24LOCAL_DATABASE_URL)",
    )
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with a certificate from a local CA")
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
        help="testing aid: the limits read the current Unix time from FILE, read again on every call",
    )
    for flag, default, what in (
        ("--oauth-code-ttl", 30, "authorization code"),
        ("--oauth-access-ttl", 3600, "OAuth access token"),
        ("--oauth-refresh-ttl", 180 * 86400, "OAuth refresh token"),
    ):
        serve.add_argument(flag, type=_ttl, default=default, metavar="SECONDS", help=f"{what} lifetime")
    serve.add_argument(
        "--auto-approve-user",
        type=int,
        metavar="ID",
        help="testing aid: /oauth/authorize/ approves at once as this user, without the sign-in page",
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
        "--sqlite-synchronous",
        choices=SQLITE_SYNCHRONOUS,
        default=DEFAULT_SQLITE_SYNCHRONOUS,
        help="SQLite only: normal (default) loses no answered write when the server crashes, but a power "
        "loss may undo the last ones; full keeps them too, at an fsync per write (docs/reliability.md)",
    )


def build_parser() -> Parser:
    parser = Parser(prog="b24local", description="A local server speaking the Bitrix24 REST protocol.")
    parser.add_argument("--version", action="version", version=f"b24local {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    _serve_arguments(commands.add_parser("serve", help="run the server"))

    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(dest="action", required=True, parser_class=Parser)
    db_upgrade = db_commands.add_parser("upgrade", help="apply pending migrations, print the schema version")
    db_upgrade.add_argument("--database", metavar="URL", help="(default: $B24LOCAL_DATABASE_URL)")
    db_reset = db_commands.add_parser(
        "reset",
        help="remove every CRM record, binding and multifield (ids start at 1); keep users and credentials",
    )
    db_reset.add_argument("--database", metavar="URL", help="(default: $B24LOCAL_DATABASE_URL)")

    app = commands.add_parser("app", help="manage OAuth 2.0 applications")
    app_commands = app.add_subparsers(dest="action", required=True, parser_class=Parser)
    app_create = app_commands.add_parser("create", help="register an application, print its client id/secret")
    app_create.add_argument("--database", metavar="URL")
    app_create.add_argument("--name", required=True)
    app_create.add_argument("--scope", type=_scopes, required=True, metavar="crm[,user,...]")
    app_create.add_argument("--redirect-uri", type=_redirect_uri, required=True, metavar="URL")

    webhook = commands.add_parser("webhook", help="manage incoming webhooks")
    webhook_commands = webhook.add_subparsers(dest="action", required=True, parser_class=Parser)
    create = webhook_commands.add_parser("create", help="create an incoming webhook and print its URL")
    create.add_argument("--database", metavar="URL")
    create.add_argument("--user", type=int, required=True, metavar="ID")
    create.add_argument("--scope", type=_scopes, required=True, metavar="crm[,user,...]")
    create.add_argument("--code", type=_code, metavar="CODE")
    create.add_argument("--host", default="127.0.0.1", help="host shown in the printed URL")
    create.add_argument("--port", type=int, default=8000, help="port shown in the printed URL")
    for action, text in (("disable", "disable a webhook (calls get 401)"), ("delete", "delete a webhook")):
        revoke = webhook_commands.add_parser(action, help=text)
        revoke.add_argument("--database", metavar="URL")
        revoke.add_argument("--user", type=int, required=True, metavar="ID")
        revoke.add_argument("--code", type=_code, required=True, metavar="CODE")

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="action", required=True, parser_class=Parser)
    user_create = user_commands.add_parser("create", help="create a user and print its id")
    user_create.add_argument("--database", metavar="URL")
    user_create.add_argument("--name", required=True)
    user_create.add_argument("--last-name", default="")
    user_create.add_argument("--admin", action="store_true")
    user_create.add_argument(
        "--no-crm-access", action="store_true", help="the user may not read any CRM entity (no CRM role)"
    )
    _access_parsers(commands, user_commands)
    return parser

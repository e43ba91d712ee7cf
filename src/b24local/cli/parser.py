"""The ``b24local`` argument parser: its commands, their flags and the checks of the flags' values."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import Any, NoReturn

from b24local import __version__
from b24local.cli import environment
from b24local.cli.flags import CliError, add_database, webhook_code
from b24local.cli.serve_options import add_serve_arguments
from b24local.crm.entities import ENTITIES
from b24local.crm.permissions import ACTIONS, Level


#: What ``--database`` says in every command's help.
class HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to an option's help when it has a default worth showing and its help
    does not name one itself (argparse's ArgumentDefaultsHelpFormatter also prints "default: None")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
        if shown and "default" not in text and "%(default)" not in text:
            text += " (default: %(default)s)"
        name = getattr(action, "env_variable", None)
        if name is not None and f"${name}" not in text:
            several = isinstance(action, argparse._AppendAction) or action.nargs in ("+", "*")
            text += f" [env: ${name}{', separated by commas' if several else ''}]"
        return text


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def add_group(commands: Any, name: str, text: str) -> Any:
    """A command with actions of its own (``db upgrade``); without one it prints its own help."""
    group = commands.add_parser(name, help=text)
    group.set_defaults(usage_of=group)
    return group.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)


def _scopes(text: str) -> list[str]:
    scopes = [s.strip().lower() for s in text.split(",") if s.strip()]
    if not scopes:
        raise argparse.ArgumentTypeError("at least one scope is needed")
    return scopes


def _redirect_uri(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise argparse.ArgumentTypeError("an http(s) URL without a #fragment is needed")
    return text


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
    add_database(user_update)
    user_update.add_argument("--id", type=int, required=True, metavar="ID", help="the user to change")
    user_update.add_argument("--name", help="the new first name")
    user_update.add_argument("--last-name", help="the new last name")
    user_update.add_argument(
        "--admin", action=argparse.BooleanOptionalAction, default=None, help="make (or stop making) an admin"
    )
    user_update.add_argument(
        "--active", dest="active", action="store_const", const=True, default=None, help="reactivate the user"
    )
    user_update.add_argument(
        "--inactive", dest="active", action="store_const", const=False, help="deactivate (its calls get 401)"
    )
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

    department_commands = add_group(commands, "department", "manage departments")
    department_create = department_commands.add_parser("create", help="create a department and print its id")
    add_database(department_create)
    department_create.add_argument("--name", required=True, help="the department's name")
    department_create.add_argument("--parent", type=int, metavar="ID", help="the parent department")

    role_commands = add_group(commands, "role", "manage CRM roles")
    role_create = role_commands.add_parser("create", help="create a CRM role and print its id")
    add_database(role_create)
    role_create.add_argument("--name", required=True, help="the role's name")
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
    pipeline_commands = add_group(commands, "pipeline", "manage deal pipelines")
    pipeline_create = pipeline_commands.add_parser(
        "create", help='create a deal pipeline and print its id (its stages: "C<id>:NEW" ...)'
    )
    add_database(pipeline_create)
    pipeline_create.add_argument("--name", required=True, help="the pipeline's name")
    role_assign = role_commands.add_parser("assign", help="give a CRM role to a user or a department")
    add_database(role_assign)
    role_assign.add_argument("--role", type=int, required=True, metavar="ID", help="the role to give")
    holder = role_assign.add_mutually_exclusive_group(required=True)
    holder.add_argument("--user", type=int, metavar="ID", help="the user who gets it")
    holder.add_argument("--department", type=int, metavar="ID", help="the department whose members get it")


def build_parser() -> Parser:
    parser = Parser(prog="b24local", description="A local server speaking the Bitrix24 REST protocol.")
    parser.add_argument("--version", action="version", version=f"b24local {__version__}")
    parser.set_defaults(usage_of=parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    serve = commands.add_parser("serve", help="run the server")
    add_serve_arguments(serve)
    environment.name_variables(serve)  # every serve option also from $B24LOCAL_<OPTION>

    db_commands = add_group(commands, "db", "manage the database")
    db_upgrade = db_commands.add_parser("upgrade", help="apply pending migrations, print the schema version")
    add_database(db_upgrade)
    db_reset = db_commands.add_parser(
        "reset",
        help="remove every CRM record, binding and multifield (ids start at 1); keep users and credentials",
    )
    add_database(db_reset)
    from b24local.cli import snapshots  # it imports this module

    snapshots.add_reset_options(db_reset)
    snapshots.add_parsers(add_group(commands, "snapshot", "save, list, restore and delete snapshots"))

    _seed_parsers(commands)

    app_commands = add_group(commands, "app", "manage OAuth 2.0 applications")
    app_create = app_commands.add_parser("create", help="register an application, print its client id/secret")
    add_database(app_create)
    app_create.add_argument("--name", required=True, help="the application's name")
    app_create.add_argument(
        "--scope", type=_scopes, required=True, metavar="crm[,user,...]", help="the scopes it may ask for"
    )
    app_create.add_argument(
        "--redirect-uri",
        type=_redirect_uri,
        required=True,
        metavar="URL",
        help="where /oauth/authorize/ sends",
    )
    _webhook_parsers(add_group(commands, "webhook", "manage incoming webhooks"))

    user_commands = add_group(commands, "user", "manage users")
    user_create = user_commands.add_parser("create", help="create a user and print its id")
    add_database(user_create)
    user_create.add_argument("--name", required=True, help="the user's first name")
    user_create.add_argument("--last-name", default="", help="the user's last name (default: none)")
    user_create.add_argument("--admin", action="store_true", help="an administrator (sees every CRM record)")
    user_create.add_argument(
        "--no-crm-access", action="store_true", help="the user may not read any CRM entity (no CRM role)"
    )
    _access_parsers(commands, user_commands)
    # ``usage_of`` is the parser whose help ``main`` prints when no command (or action) was named: the
    # last one with actions of its own that the command line reached; a complete command sets None.
    for each in parsers(parser):
        if not any(isinstance(a, argparse._SubParsersAction) for a in each._actions):
            each.set_defaults(usage_of=None)
    return parser


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parser and those of all its commands and actions, depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from parsers(child)


def _webhook_parsers(webhook_commands: Any) -> None:
    create = webhook_commands.add_parser("create", help="create an incoming webhook and print its URL")
    add_database(create)
    create.add_argument("--user", type=int, required=True, metavar="ID", help="the webhook's user")
    create.add_argument(
        "--scope", type=_scopes, required=True, metavar="crm[,user,...]", help="the scopes it grants"
    )
    create.add_argument(
        "--code", type=webhook_code, metavar="CODE", help="its code (default: 16 random characters)"
    )
    create.add_argument(
        "--host",
        help="host in the printed URL (default: that of the database's last `serve`, else 127.0.0.1)",
    )
    create.add_argument(
        "--port",
        type=int,
        help="port in the printed URL (default: that of the database's last `serve`, else 8000)",
    )
    for action, text in (("disable", "disable a webhook (calls get 401)"), ("delete", "delete a webhook")):
        revoke = webhook_commands.add_parser(action, help=text)
        add_database(revoke)
        revoke.add_argument("--user", type=int, required=True, metavar="ID", help="the webhook's user")
        revoke.add_argument(
            "--code", type=webhook_code, required=True, metavar="CODE", help="the code in its URL"
        )
    listing = webhook_commands.add_parser(
        "list", help="print every webhook (id, user, scope, state), no code"
    )
    add_database(listing)


def _seed_parsers(commands: Any) -> None:
    seed = commands.add_parser(
        "seed", help="add users, credentials and CRM records from a seed document (all or nothing)"
    )
    add_database(seed)
    seed.add_argument("file", metavar="FILE", help="the document: JSON, or YAML for .yaml/.yml")
    export = commands.add_parser("export", help="write the whole state as a seed document")
    add_database(export)
    export.add_argument(
        "--format",
        choices=("json", "yaml"),
        help="the document's format (default: yaml for a FILE ending .yaml/.yml, else json)",
    )
    export.add_argument("file", metavar="FILE", nargs="?", help="where to write it (default: stdout)")

"""The ``b24local`` command line: serve, db upgrade/reset, seed, export, app create, webhook
create/list/disable/delete, user create/update, department create, role create/assign, snapshot
save/list/restore/delete.

Every failure the user can cause (a wrong flag, an unreachable database, a port in use) ends in one
line on stderr and a non-zero exit, never a traceback.

The parser is in parser.py, ``serve`` in serve.py (its worker processes in b24local.supervisor), the
webhook commands in webhooks.py, the other commands in admin.py.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from b24local.cli import environment, serve
from b24local.cli.admin import USER_COMMANDS, app_create, db_reset, db_upgrade
from b24local.cli.flags import CliError
from b24local.cli.parser import build_parser
from b24local.cli.seed import export_command, seed_command
from b24local.cli.serve import serving_storage
from b24local.cli.snapshots import SNAPSHOT_COMMANDS
from b24local.cli.webhooks import WEBHOOK_COMMANDS
from b24local.storage.errors import StorageError

__all__ = ["CliError", "build_parser", "main", "serving_storage"]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        if args.usage_of is not None:
            # No command (or a command group without its action): argparse's convention for an
            # incomplete command line, a usage error (exit 2, on stderr), so that a script calling
            # `b24local $EMPTY` fails; but with the whole help, not one line saying what is missing.
            print(args.usage_of.format_help(), end="", file=sys.stderr)
            return 2
        if args.command == "serve":
            _serve_environment(argv, args)
            return serve.serve(args)
        if args.command == "seed":
            return seed_command(args)
        if args.command == "export":
            return export_command(args)
        if args.command == "app":
            return app_create(args)
        if args.command == "db":
            return db_upgrade(args) if args.action == "upgrade" else db_reset(args)
        if args.command == "webhook":
            return WEBHOOK_COMMANDS[args.action](args)
        if args.command == "snapshot":
            return SNAPSHOT_COMMANDS[args.action](args)
        return USER_COMMANDS[(args.command, args.action)](args)
    except CliError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _serve_environment(argv: list[str] | None, args: argparse.Namespace) -> None:
    """The ``serve`` options that the command line leaves out, from $B24LOCAL_<OPTION>."""
    try:
        environment.apply(build_parser, "serve", sys.argv[1:] if argv is None else argv, args, os.environ)
    except environment.BadVariable as exc:
        raise CliError(str(exc)) from None

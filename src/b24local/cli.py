"""The ``b24local`` command line: serve, webhook create, user create.

Every failure the user can cause (a wrong flag, an unreachable database, a port in use) ends in one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import NoReturn

from b24local import __version__
from b24local.auth.webhooks import hash_secret, new_code
from b24local.config import Config, data_dir, database_url
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from b24local.storage.sqlite import StorageError
from b24local.tls import TlsFiles, local_certificate

DEFAULT_SCOPES = ("crm",)
SERVER_LOOP = "asyncio"


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


def _code(text: str) -> str:
    if not text or not text.isascii() or not all(c.isalnum() or c in "_-" for c in text):
        raise argparse.ArgumentTypeError("a webhook code is letters, digits, '_' and '-'")
    if text.isdigit():
        raise argparse.ArgumentTypeError("a webhook code must not be all digits")
    return text


def build_parser() -> Parser:
    parser = Parser(prog="b24local", description="A local server speaking the Bitrix24 REST protocol.")
    parser.add_argument("--version", action="version", version=f"b24local {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--database", metavar="URL", help="sqlite:///path (default: $B24LOCAL_DATABASE_URL)")
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with a certificate from a local CA")
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (with --tls-key)")
    serve.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    serve.add_argument("--data-dir", metavar="DIR", help="where the local CA is kept (default: .b24local)")

    webhook = commands.add_parser("webhook", help="manage incoming webhooks")
    webhook_commands = webhook.add_subparsers(dest="action", required=True, parser_class=Parser)
    create = webhook_commands.add_parser("create", help="create an incoming webhook and print its URL")
    create.add_argument("--database", metavar="URL")
    create.add_argument("--user", type=int, required=True, metavar="ID")
    create.add_argument("--scope", type=_scopes, required=True, metavar="crm[,user,...]")
    create.add_argument("--code", type=_code, metavar="CODE")
    create.add_argument("--host", default="127.0.0.1", help="host shown in the printed URL")
    create.add_argument("--port", type=int, default=8000, help="port shown in the printed URL")

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
    return parser


def _bootstrap(storage: Storage) -> str | None:
    """On an empty database: user 1 (an administrator) and a crm webhook for it; returns the code."""
    with storage.write() as tx:
        if tx.user_count() > 0:
            return None
        user_id = tx.user_add("Admin", "", True)
        code = new_code()
        tx.webhook_add(user_id, hash_secret(code), DEFAULT_SCOPES)
        return code


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # With the protocol named, asyncio's own loop sets TCP_NODELAY on accepted connections.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _tls_files(args: argparse.Namespace, url: str) -> TlsFiles | None:
    if args.tls_cert:
        for path in (args.tls_cert, args.tls_key):
            if not Path(path).is_file():
                raise CliError(f"no such file: {path}")
        return TlsFiles(cert=Path(args.tls_cert), key=Path(args.tls_key), ca=None)
    if not args.tls:
        return None
    folder = data_dir(args.data_dir, url) / "tls"
    try:
        return local_certificate(folder)
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot prepare the local CA in {folder}: {exc}") from None


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from b24local.app import App

    if not 0 < args.port < 65536:
        raise CliError(f"invalid port {args.port}")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("--tls-cert and --tls-key go together")
    url = database_url(args.database)
    tls = _tls_files(args, url)
    config = Config(host=args.host, port=args.port, database_url=url, tls=tls is not None)
    sock = _bind(config.host, config.port)
    storage = open_storage(config.database_url, serving=True)
    code = _bootstrap(storage)
    print(f"b24local {__version__} on {config.base_url} with {config.database_url}", flush=True)
    if tls is not None and tls.ca is not None:
        print(
            f"TLS: local CA certificate {tls.ca.resolve()} "
            "(point REQUESTS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS at it)",
            flush=True,
        )
    if code is not None:
        print("Created user 1 (administrator) and a webhook with scope crm:", flush=True)
        print(config.webhook_url(1, code), flush=True)
    else:
        print(
            "Existing database: use the webhook URL printed when it was created, or make another with "
            "'b24local webhook create --user 1 --scope crm'.",
            flush=True,
        )
    server_config = uvicorn.Config(
        App(config, storage),
        # The standard loop: as fast as uvloop on b24local's calls and a p99 6x lower under saturation
        # (docs/performance.md, "Tail latency").
        loop=SERVER_LOOP,
        http="httptools",
        lifespan="on",
        access_log=False,  # request paths carry webhook codes: never logged
        log_level="warning",
        server_header=False,
        # Idle keep-alive connections (a TLS close waits for the peer) must not hold up a stop.
        timeout_graceful_shutdown=3,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    server = uvicorn.Server(server_config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal under the handlers
    # that were in place before: make those end the process with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stopped)
    with contextlib.suppress(_Stopped):
        server.run(sockets=[sock])
    return 0


class _Stopped(Exception):
    pass


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped


def webhook_create(args: argparse.Namespace) -> int:
    storage = open_storage(database_url(args.database))
    try:
        code = args.code or new_code()
        with storage.write() as tx:
            if tx.user_get(args.user) is None:
                raise CliError(f"no user with id {args.user}")
            tx.webhook_add(args.user, hash_secret(code), args.scope)
    finally:
        storage.close()
    print(Config(host=args.host, port=args.port).webhook_url(args.user, code))
    return 0


def user_create(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            user_id = tx.user_add(args.name, args.last_name, args.admin, not args.no_crm_access)
    finally:
        storage.close()
    print(user_id)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        if args.command == "serve":
            return serve(args)
        if args.command == "webhook":
            return webhook_create(args)
        return user_create(args)
    except CliError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

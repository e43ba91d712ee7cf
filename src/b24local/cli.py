"""The ``b24local`` command line: serve, db upgrade, webhook create, user create/update, department
create, role create/assign.

Every failure the user can cause (a wrong flag, an unreachable database, a port in use) ends in one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from b24local import __version__, clock
from b24local.auth import oauth
from b24local.auth.limits import CHOICES as LIMIT_PROFILES
from b24local.auth.limits import Limits
from b24local.auth.webhooks import hash_secret, new_code
from b24local.config import Config, data_dir, database_url, redacted_url
from b24local.crm.entities import ENTITIES
from b24local.crm.permissions import ACTIONS, Level
from b24local.parent_watch import ParentPipe, watch_parent
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from b24local.storage.sqlite import DEFAULT_SYNCHRONOUS as DEFAULT_SQLITE_SYNCHRONOUS
from b24local.storage.sqlite import SYNCHRONOUS as SQLITE_SYNCHRONOUS
from b24local.storage.sqlite import StorageError
from b24local.tls import TlsFiles, local_certificate

if TYPE_CHECKING:
    from b24local.server import ConnectionLimits

DEFAULT_SCOPES = ("crm",)
#: The signals that stop a server: the parent forwards them to its workers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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


def _code(text: str) -> str:
    if not text or not text.isascii() or not all(c.isalnum() or c in "_-" for c in text):
        raise argparse.ArgumentTypeError("a webhook code is letters, digits, '_' and '-'")
    if text.isdigit():
        raise argparse.ArgumentTypeError("a webhook code must not be all digits")
    return text


def _perm(text: str) -> list[tuple[str, str, Level]]:
    """``ENTITY:ACTION:LEVEL`` (``*`` for every entity or action) as (entity, action, level) triples."""
    parts = [p.strip().lower() for p in text.split(":")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected ENTITY:ACTION:LEVEL, got {text!r}")
    entity, action, level = parts
    if entity != "*" and entity not in ENTITIES:
        raise argparse.ArgumentTypeError(f"unknown entity {entity!r} (one of {', '.join(ENTITIES)}, *)")
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
        help="e.g. lead:read:all or contact:*:own; levels none, own, department, subdepartments, open, all",
    )
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
    # A stop signal ends the process with status 0 at any moment: before the server runs (the
    # handlers below), while it runs (uvicorn's own, which shut down gracefully and then re-raise the
    # signal under these), and after.
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stopped)
    try:
        return _serve(args)
    except _Stopped:
        return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: F401  (imported once, before any worker is forked)

    from b24local.app import App

    if not 0 < args.port < 65536:
        raise CliError(f"invalid port {args.port}")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("--tls-cert and --tls-key go together")
    url = database_url(args.database)
    tls = _tls_files(args, url)
    config = Config(host=args.host, port=args.port, database_url=url, tls=tls is not None)
    limits = _limits(args)
    connections = _connection_limits(args)
    sock = _bind(config.host, config.port)
    workers = args.workers
    if workers > 1 and not hasattr(os, "fork"):
        raise CliError("--workers above 1 needs a system with fork()")
    # With workers, each opens its own storage after the fork: a connection never crosses one.
    storage = serving_storage(args, config.database_url, serving=workers == 1)
    try:
        code = _bootstrap(storage)
    finally:
        if workers > 1:
            storage.close()
    print(f"b24local {__version__} on {config.base_url} with {config.database_url}", flush=True)
    if workers > 1:
        print(f"{workers} worker processes", flush=True)
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
    if workers > 1:
        return _supervise(workers, lambda: _worker(args, config, limits, tls, sock, connections=connections))
    _run_uvicorn(App(config, storage, limits, _oauth_settings(args)), tls, sock, connections)
    return 0


def serving_storage(args: argparse.Namespace, url: str, *, serving: bool = True) -> Storage:
    """The storage a server process opens, with the settings of its ``serve`` command line."""
    return open_storage(url, serving=serving, sqlite_synchronous=args.sqlite_synchronous)


def _connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    from b24local import server

    most = args.max_connections
    if most is None:
        most = server.default_max_connections()
    elif not server.make_room_for(most):
        raise CliError(
            f"--max-connections {most}: the descriptor limit (ulimit -n) allows at most "
            f"{server.hard_room()} per process"
        )
    head_timeout = server.DEFAULT_HEAD_TIMEOUT if args.header_timeout is None else args.header_timeout
    return server.ConnectionLimits(head_timeout=head_timeout, max_connections=most)


def _run_uvicorn(app: Any, tls: TlsFiles | None, sock: socket.socket, limits: ConnectionLimits) -> None:
    from b24local import server

    server.run(
        app,
        sock,
        limits,
        # Idle keep-alive connections (a TLS close waits for the peer) must not hold up a stop.
        timeout_graceful_shutdown=3,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )


def _worker(
    args: argparse.Namespace,
    config: Config,
    limits: Limits,
    tls: TlsFiles | None,
    sock: socket.socket,
    *,
    connections: ConnectionLimits,
) -> None:
    """One worker process: its own storage (and WAL checkpointer) and its own uvicorn on the socket."""
    from b24local.app import App

    storage = serving_storage(args, config.database_url)
    _run_uvicorn(App(config, storage, limits, _oauth_settings(args)), tls, sock, connections)


#: A worker that dies within this many seconds of its start counts as failing to start; after
#: ``CRASH_LIMIT`` such deaths in a row the server stops (exit 1) rather than restart it forever.
QUICK_DEATH = 5.0
CRASH_LIMIT = 3
#: How long the workers have to stop after SIGTERM before they are killed.
STOP_GRACE = 10.0


def _supervise(count: int, run_worker: Callable[[], None]) -> int:
    """Fork ``count`` workers, restart one that dies on its own, forward SIGINT/SIGTERM as SIGTERM.

    Returns 0 once the workers have stopped after a stop signal, 1 when workers keep dying at start.
    """
    children: dict[int, float] = {}  # pid -> start time
    stopping: list[float] = []  # when the stop signal came (empty while serving)
    parent = os.getpid()
    pipe = ParentPipe()  # its EOF tells the workers that this process is gone, however it died
    signalled: set[int] = set()

    def on_signal(signum: int, frame: object) -> None:
        if not stopping:
            stopping.append(time.monotonic())
        for pid in list(children):
            if pid not in signalled:  # a second SIGTERM would make uvicorn skip its graceful stop
                signalled.add(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

    def start() -> None:
        children[_fork_worker(parent, run_worker, pipe)] = time.monotonic()

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    for _ in range(count):
        if not stopping:
            start()
    quick_deaths = 0
    status = 0
    while children:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if stopping:
                on_signal(signal.SIGTERM, None)  # a worker forked just as the signal came
            if stopping and time.monotonic() - stopping[0] > STOP_GRACE:
                for other in list(children):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(other, signal.SIGKILL)
            time.sleep(0.05)
            continue
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH else 0
        print(f"b24local: worker {pid} died ({_describe(code)})", file=sys.stderr, flush=True)
        if quick_deaths >= CRASH_LIMIT:
            print("b24local: error: workers keep dying at start; stopping", file=sys.stderr, flush=True)
            status = 1
            on_signal(signal.SIGTERM, None)
            continue
        start()
    pipe.close()
    return status


def _fork_worker(parent: int, run_worker: Callable[[], None], pipe: ParentPipe) -> int:
    """Fork one worker; returns its pid. Stop signals wait (blocked) across the fork until the worker
    has its own handlers: one that came just after the fork would otherwise run the parent's handler in
    the worker, and a worker whose parent had been killed would go on serving alone."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = _worker_main(parent, run_worker, pipe)
            finally:
                # Never returns, even when a late stop signal escapes _worker_main: the code after
                # this is the parent's.
                os._exit(status)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    return pid


def _describe(code: int) -> str:
    if os.WIFSIGNALED(code):
        return f"signal {os.WTERMSIG(code)}"
    return f"exit {os.waitstatus_to_exitcode(code)}"


def _worker_main(parent: int, run_worker: Callable[[], None], pipe: ParentPipe) -> int:
    """The body of a forked worker; returns its exit status (the caller ``os._exit``s with it)."""
    code = 1
    try:
        # Stop signals go to the parent, which forwards them: Ctrl-C in a terminal must not reach a
        # worker twice. A worker whose parent dies (even by SIGKILL) is stopped too: by the death
        # signal, and, should that be lost, by the pipe's watcher.
        os.setpgid(0, 0)
        watch_parent(pipe, STOP_GRACE)
        _die_with_parent()
        if os.getppid() != parent:
            return 0
        for sig in STOP_SIGNALS:
            signal.signal(sig, _stopped)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked since the fork (_supervise)
        run_worker()
        code = 0
    except _Stopped:
        code = 0
    except StorageError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
    except BaseException:
        logging.getLogger("b24local").exception("worker %s failed", os.getpid())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _die_with_parent() -> None:
    """Linux: SIGTERM to this process when its parent dies (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)


def db_upgrade(args: argparse.Namespace) -> int:
    """``db upgrade``: opening a storage applies its pending migrations; print what it did."""
    storage = open_storage(database_url(args.database))
    try:
        applied = list(getattr(storage, "applied_migrations", []))
        version = getattr(storage, "schema_version", None)
        current = version() if callable(version) else None
    finally:
        storage.close()
    if applied:
        print(f"Applied migrations: {', '.join(str(v) for v in applied)}")
    else:
        print("No pending migrations.")
    if current is not None:
        print(f"Schema version: {current}")
    return 0


class _Stopped(SystemExit):
    """A stop signal. A SystemExit, because asyncio's callback runner re-raises only SystemExit and
    KeyboardInterrupt: any other exception raised by a signal landing inside a callback (while uvicorn
    starts, before its own handlers are installed) would be logged and lost, and the server would run
    on."""


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped(0)


def _limits(args: argparse.Namespace) -> Limits:
    if args.operating_limit is not None and args.limits == "off":
        raise CliError("--operating-limit needs --limits standard or enterprise")
    if args.fake_clock:
        try:
            clock.use(clock.FileClock(Path(args.fake_clock)))
        except (OSError, ValueError):
            raise CliError(f"--fake-clock: {args.fake_clock} must hold a Unix time in seconds") from None
    redis_url = args.redis or os.environ.get("B24LOCAL_REDIS_URL") or None
    if args.redis and args.limits == "off":
        raise CliError("--redis needs --limits standard or enterprise")
    if redis_url is not None and args.limits != "off":
        _check_redis(redis_url)
    return Limits(args.limits, operating_limit=args.operating_limit, shared=True, redis_url=redis_url)


def _check_redis(url: str) -> None:
    """Fail at start, in one line, when Redis cannot be reached (without printing the URL's password)."""
    import redis

    shown = redacted_url(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    except ValueError as exc:
        raise CliError(f"--redis: {shown}: {exc}") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        raise CliError(f"--redis: cannot reach {shown}: {type(exc).__name__}") from None
    finally:
        client.close()


def webhook_revoke(args: argparse.Namespace) -> int:
    """``webhook disable`` / ``webhook delete``: the webhook of ``--user`` whose code is ``--code``."""
    storage = open_storage(database_url(args.database))
    try:
        presented = hash_secret(args.code)
        with storage.write() as tx:
            found = [h for h in tx.webhooks_of_user(args.user) if hmac.compare_digest(h.code_hash, presented)]
            if not found:
                raise CliError(f"user {args.user} has no webhook with that code")
            for hook in found:
                if args.action == "delete":
                    tx.webhook_delete(hook.id)
                else:
                    tx.webhook_set_active(hook.id, False)
    finally:
        storage.close()
    print(f"Webhook {found[0].id} of user {args.user} {args.action}d.")
    return 0


def _ttl(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}")
    return int(text)


def _redirect_uri(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise argparse.ArgumentTypeError("an http(s) URL without a #fragment is needed")
    return text


def _oauth_settings(args: argparse.Namespace) -> oauth.OAuthSettings:
    return oauth.OAuthSettings(
        code_ttl=args.oauth_code_ttl,
        access_ttl=args.oauth_access_ttl,
        refresh_ttl=args.oauth_refresh_ttl,
        auto_approve_user=args.auto_approve_user,
    )


def app_create(args: argparse.Namespace) -> int:
    """``app create``: prints ``client_id: …`` and ``client_secret: …`` (the secret is stored hashed)."""
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            client_id, secret = oauth.create_app(tx, args.name.strip(), args.scope, args.redirect_uri)
    finally:
        storage.close()
    print(f"client_id: {client_id}")
    print(f"client_secret: {secret}")
    return 0


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


def user_update(args: argparse.Namespace) -> int:
    changes: dict[str, object] = {}
    for name, value in (
        ("name", args.name),
        ("last_name", args.last_name),
        ("is_admin", args.admin),
        ("active", args.active),
        ("crm_access", args.crm_access),
    ):
        if value is not None:
            changes[name] = value
    if args.name is not None and not args.name.strip():
        raise CliError("--name must not be empty")
    departments = [] if args.no_department else args.department
    if not changes and departments is None:
        raise CliError("nothing to change")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            if tx.user_get(args.id) is None:
                raise CliError(f"no user with id {args.id}")
            for department_id in departments or ():
                if not tx.department_exists(department_id):
                    raise CliError(f"no department with id {department_id}")
            tx.user_update(args.id, changes)
            if departments is not None:
                tx.user_departments_set(args.id, departments)
    finally:
        storage.close()
    return 0


def department_create(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            if args.parent is not None and not tx.department_exists(args.parent):
                raise CliError(f"no department with id {args.parent}")
            department_id = tx.department_add(args.name, args.parent)
    finally:
        storage.close()
    print(department_id)
    return 0


def role_create(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise CliError("--name must not be empty")
    levels: dict[tuple[str, str], int] = {}
    for triples in args.perm:  # a later --perm overrides an earlier one for the same pair
        for entity, action, level in triples:
            levels[(entity, action)] = int(level)
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            role_id = tx.role_add(args.name, levels)
    finally:
        storage.close()
    print(role_id)
    return 0


def role_assign(args: argparse.Namespace) -> int:
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            if not tx.role_exists(args.role):
                raise CliError(f"no role with id {args.role}")
            if args.user is not None:
                if tx.user_get(args.user) is None:
                    raise CliError(f"no user with id {args.user}")
                tx.role_assign(args.role, user_id=args.user)
            else:
                if not tx.department_exists(args.department):
                    raise CliError(f"no department with id {args.department}")
                tx.role_assign(args.role, department_id=args.department)
    finally:
        storage.close()
    return 0


USER_COMMANDS = {
    ("user", "create"): user_create,
    ("user", "update"): user_update,
    ("department", "create"): department_create,
    ("role", "create"): role_create,
    ("role", "assign"): role_assign,
}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        if args.command == "serve":
            return serve(args)
        if args.command == "app":
            return app_create(args)
        if args.command == "db":
            return db_upgrade(args)
        if args.command == "webhook":
            return webhook_create(args) if args.action == "create" else webhook_revoke(args)
        return USER_COMMANDS[(args.command, args.action)](args)
    except CliError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"b24local: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

"""``b24local serve``: the database's first user and webhook, TLS files, portal and connection limits,
the listening socket, then uvicorn in this process or in forked workers (b24local.supervisor).

uvicorn and the app are imported inside the functions: admin commands stay cheap.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b24local import __version__, clock
from b24local.admin import token as admin_token_module
from b24local.auth import oauth
from b24local.auth.limits import Limits
from b24local.cli import flags
from b24local.cli.flags import CliError
from b24local.cli.progress import MigrationBar
from b24local.cli.seed import seed_at_start
from b24local.cli.webhooks import bootstrap
from b24local.config import Config, admin_token, data_dir, database_url, redacted_url
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from b24local.supervisor import STOP_SIGNALS, Stopped, raise_stopped, supervise
from b24local.tls import TlsFiles, local_certificate

if TYPE_CHECKING:
    from b24local.server import ConnectionLimits

#: Where ``serve`` reads the webhook code of T6 when ``--webhook-code`` is not given.
WEBHOOK_CODE_ENV = "B24LOCAL_WEBHOOK_CODE"


def webhook_code(args: argparse.Namespace) -> str | None:
    """``--webhook-code``, else ``$B24LOCAL_WEBHOOK_CODE`` (checked as the flag is), else None."""
    if args.webhook_code is not None:
        return str(args.webhook_code)
    given = os.environ.get(WEBHOOK_CODE_ENV) or None
    if given is None:
        return None
    try:
        return flags.webhook_code(given)
    except argparse.ArgumentTypeError as exc:
        raise CliError(f"${WEBHOOK_CODE_ENV}: {exc}") from None


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
        signal.signal(sig, raise_stopped)
    try:
        return _serve(args)
    except Stopped:
        return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: F401  (imported once, before any worker is forked)

    from b24local.app import App

    if not 0 < args.port < 65536:
        raise CliError(f"invalid port {args.port}")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("--tls-cert and --tls-key go together")
    url = database_url(args.database)
    code = webhook_code(args)
    tls = _tls_files(args, url)
    config = serving_config(args, url, tls=tls is not None)
    limits = _limits(args)
    connections = _connection_limits(args)
    sock = _bind(config.host, config.port)
    workers = args.workers
    if workers > 1 and not hasattr(os, "fork"):
        raise CliError("--workers above 1 needs a system with fork()")
    # With workers, each opens its own storage after the fork: a connection never crosses one.
    storage = serving_storage(args, config.database_url, serving=workers == 1)
    try:
        seeded = None if config.seed is None else seed_at_start(storage, config.seed)
        code, created = bootstrap(storage, config.base_url, code)
        new_database = created or (seeded is not None and seeded[1])
        if config.faults_file is not None:
            _set_faults(storage, Path(config.faults_file))
        made_token = (
            admin_token_module.make_stored(storage) if new_database and config.admin_token is None else None
        )
    finally:
        if workers > 1:
            storage.close()
    shown_url = redacted_url(config.database_url)
    print(f"b24local {__version__} on {config.listen_url} with {shown_url}", flush=True)
    if workers > 1:
        print(f"{workers} worker processes", flush=True)
    if tls is not None and tls.ca is not None:
        print(
            f"TLS: local CA certificate {tls.ca.resolve()} "
            "(point REQUESTS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS at it)",
            flush=True,
        )
    _print_webhook(args, config, code, created=created, seeded=new_database and not created)
    if made_token is not None:
        print("Admin token for /_b24local/ (stored hashed, shown once):", made_token, flush=True)
    if seeded is not None:
        print(seeded[0], flush=True)
    if workers > 1:
        return supervise(workers, lambda: _worker(args, config, limits, tls, sock, connections=connections))
    _run_uvicorn(App(config, storage, limits, _oauth_settings(args)), tls, sock, connections)
    return 0


def serving_config(args: argparse.Namespace, url: str, *, tls: bool = False) -> Config:
    """The settings of a server process from its ``serve`` command line."""
    token = admin_token(args.admin_token)
    if token is not None and (not token.isascii() or not token.isprintable() or " " in token):
        raise CliError("the admin token must be printable ASCII without spaces (it goes in a header)")
    return Config(
        host=args.host,
        port=args.port,
        database_url=url,
        tls=tls,
        admin_token=token,
        cors_origins=tuple(args.cors_origin),
        faults_file=args.faults,
        seed=args.seed,
        webhook_code=webhook_code(args),
        journal_size=args.journal_size,
        log_format=args.log_format,
    )


def _set_faults(storage: Storage, path: Path) -> None:
    """``--faults FILE``: its rules replace the database's, for every process (before any serves)."""
    from b24local.admin import fault_admin
    from b24local.admin.fault_rules import RuleError

    try:
        fault_admin.replace_rules(storage, fault_admin.read_file(path))
    except OSError as exc:
        raise CliError(f"--faults: cannot read {path}: {exc.strerror}") from None
    except RuleError as exc:
        raise CliError(f"--faults {path}: {exc}") from None


def _print_webhook(
    args: argparse.Namespace, config: Config, code: str | None, *, created: bool, seeded: bool = False
) -> None:
    if code is None and seeded:
        print(
            "Users and webhooks come from the seed: use the codes it gives (b24local webhook list)",
            flush=True,
        )
    elif code is not None:
        what = "Created user 1 (administrator) and a webhook" if created else "The webhook of user 1"
        print(f"{what} with scope crm:", flush=True)
        print(config.webhook_url(1, code), flush=True)
    else:
        # The command names this server's database, so that it works when pasted in the same
        # directory; webhook create prints this server's base URL, which serve recorded in it.
        shown = redacted_url(config.database_url)
        where = "" if args.database is None else f"--database {shlex.quote(shown)} "
        password = " (the password in place of ***)" if shown != config.database_url else ""
        print(
            f"Existing database: use the webhook URL printed when it was created, or make another on "
            f"{config.base_url} with: b24local webhook create {where}--user 1 --scope crm{password}",
            flush=True,
        )


def serving_storage(args: argparse.Namespace, url: str, *, serving: bool = True) -> Storage:
    """The storage a server process opens, with the settings of its ``serve`` command line."""
    return open_storage(
        url, serving=serving, sqlite_synchronous=args.sqlite_synchronous, migration_progress=MigrationBar()
    )


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


def _oauth_settings(args: argparse.Namespace) -> oauth.OAuthSettings:
    return oauth.OAuthSettings(
        code_ttl=args.oauth_code_ttl,
        access_ttl=args.oauth_access_ttl,
        refresh_ttl=args.oauth_refresh_ttl,
        auto_approve_user=args.auto_approve_user,
    )

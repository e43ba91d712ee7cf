"""Every ``serve`` option from ``$B24LOCAL_<OPTION>`` (src/b24local/cli/environment.py): the command
line wins, a bad value is the option's error, the help names the variable; and a live server started
from variables alone (as the container starts it)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from b24local.cli import environment
from b24local.cli.parser import build_parser
from tests.conftest import free_port


def serve_args(
    argv: list[str], environ: dict[str, str], build: Callable[[], argparse.ArgumentParser] = build_parser
) -> argparse.Namespace:
    """``b24local serve ...`` parsed as main() parses it, with ``environ`` as the environment."""
    args = build().parse_args(["serve", *argv])
    environment.apply(build, "serve", ["serve", *argv], args, environ)
    return args


def test_variables_set_what_the_command_line_leaves_out() -> None:
    args = serve_args(
        ["--host", "10.0.0.1"],
        {
            "B24LOCAL_HOST": "0.0.0.0",
            "B24LOCAL_PORT": "9123",
            "B24LOCAL_DATABASE_URL": "sqlite:////data/x.db",
            "B24LOCAL_WEBHOOK_CODE": "ci_code_1",
            "B24LOCAL_LIMITS": "standard",
            "B24LOCAL_HEADER_TIMEOUT": "2.5",
            "B24LOCAL_TLS": "true",
            "B24LOCAL_CORS_ORIGIN": "http://localhost:3000, https://app.example.com",
            "B24LOCAL_SQLITE_SYNCHRONOUS": "full",
            "B24LOCAL_UNRELATED": "x",
        },
    )
    assert (args.host, args.port, args.database, args.webhook_code) == (
        "10.0.0.1",
        9123,
        "sqlite:////data/x.db",
        "ci_code_1",
    )
    assert (args.limits, args.header_timeout, args.tls, args.sqlite_synchronous) == (
        "standard",
        2.5,
        True,
        "full",
    )
    assert args.cors_origin == ["http://localhost:3000", "https://app.example.com"]


def test_the_command_line_wins_even_with_the_default_value() -> None:
    args = serve_args(
        ["--port", "8000", "--cors-origin", "http://a.test", "--workers=1"],
        {"B24LOCAL_PORT": "9000", "B24LOCAL_CORS_ORIGIN": "http://b.test", "B24LOCAL_WORKERS": "4"},
    )
    assert (args.port, args.cors_origin, args.workers) == (8000, ["http://a.test"], 1)


def test_without_variables_the_defaults_stay() -> None:
    assert vars(serve_args([], {})) == vars(build_parser().parse_args(["serve"]))


def test_empty_and_false_values_count_as_unset() -> None:
    args = serve_args([], {"B24LOCAL_PORT": "", "B24LOCAL_TLS": "0", "B24LOCAL_CORS_ORIGIN": " "})
    assert (args.port, args.tls, args.cors_origin) == (8000, False, [])


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("B24LOCAL_PORT", "eighty", "$B24LOCAL_PORT: invalid int value: 'eighty'"),
        (
            "B24LOCAL_LIMITS",
            "huge",
            "$B24LOCAL_LIMITS: invalid choice: 'huge' (choose from 'off', 'standard', 'enterprise')",
        ),
        ("B24LOCAL_WORKERS", "99", "$B24LOCAL_WORKERS: a number of workers from 1 to 64, not '99'"),
        ("B24LOCAL_TLS", "maybe", "$B24LOCAL_TLS: expected 1/true/yes/on or 0/false/no/off, not 'maybe'"),
        (
            "B24LOCAL_CORS_ORIGIN",
            "http://a.test,http://x/path",
            "$B24LOCAL_CORS_ORIGIN: an origin is scheme://host[:port] or *, not 'http://x/path'",
        ),
    ],
)
def test_a_bad_value_is_the_options_error(name: str, value: str, message: str) -> None:
    with pytest.raises(environment.BadVariable) as caught:
        serve_args([], {name: value})
    assert str(caught.value) == message


def test_an_option_added_to_serve_gets_its_variable_without_code() -> None:
    def build() -> argparse.ArgumentParser:
        parser = build_parser()
        serve = environment.subcommand(parser, "serve")
        serve.add_argument("--ring-size", type=int, default=1000)
        serve.add_argument("--quiet-start", action=argparse.BooleanOptionalAction, default=True)
        return parser

    args = serve_args([], {"B24LOCAL_RING_SIZE": "50", "B24LOCAL_QUIET_START": "no"}, build)
    assert (args.ring_size, args.quiet_start) == (50, False)


def test_the_help_names_each_options_variable() -> None:
    serve = environment.subcommand(build_parser(), "serve")
    text = serve.format_help().replace("\n", " ")
    names = [environment.variable(a) for a in environment.options(serve)]
    assert names[:4] == ["B24LOCAL_HOST", "B24LOCAL_PORT", "B24LOCAL_DATABASE_URL", "B24LOCAL_WEBHOOK_CODE"]
    assert "B24LOCAL_REDIS_URL" in names and "B24LOCAL_CORS_ORIGIN" in names
    missing = [n for n in names if f"${n}" not in " ".join(text.split())]
    assert missing == []
    assert "[env: $B24LOCAL_CORS_ORIGIN, separated by commas]" in " ".join(text.split())


@pytest.mark.live
def test_serve_from_variables_alone(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "B24LOCAL_PORT": str(port),
        "B24LOCAL_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
        "B24LOCAL_WEBHOOK_CODE": "env_code_1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "b24local", "serve"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert (
            process.stdout.readline()
            == f"b24local 0.1.0 on http://127.0.0.1:{port} with sqlite:///{tmp_path}/env.db\n"
        )
        assert process.stdout.readline() == "Created user 1 (administrator) and a webhook with scope crm:\n"
        assert process.stdout.readline() == f"http://127.0.0.1:{port}/rest/1/env_code_1/\n"
        reply = _first_answer(
            f"http://127.0.0.1:{port}/rest/1/env_code_1/crm.lead.add", {"fields": {"TITLE": "A"}}
        )
        assert reply["result"] == 1
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def _first_answer(url: str, body: dict[str, object]) -> dict[str, object]:
    for _ in range(100):
        try:
            reply: dict[str, object] = httpx.post(url, json=body, timeout=5).json()
            return reply
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


@pytest.mark.live
def test_a_bad_variable_stops_serve_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "b24local", "serve", "--database", str(tmp_path / "e.db")],
        env={**os.environ, "B24LOCAL_PORT": "eighty"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        "b24local: error: $B24LOCAL_PORT: invalid int value: 'eighty'\n",
    )


def test_the_test_portal_options_have_their_variables() -> None:
    args = serve_args(
        [],
        {
            "B24LOCAL_JOURNAL_SIZE": "50",
            "B24LOCAL_LOG_FORMAT": "json",
            "B24LOCAL_SEED": "/seed/crm.yaml",
            "B24LOCAL_FAULTS": "/faults.json",
        },
    )
    assert (args.journal_size, args.log_format, args.seed, args.faults) == (
        50,
        "json",
        "/seed/crm.yaml",
        "/faults.json",
    )

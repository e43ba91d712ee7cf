"""Every ``serve`` option read from the environment as well: ``--port`` from ``$B24LOCAL_PORT``,
``--cors-origin`` from ``$B24LOCAL_CORS_ORIGIN`` and so on, for a container (docs: README, "Docker")
where a variable is easier to set than a command line.

The variables are derived from the parser's own actions, so an option added to ``serve`` has its
variable without code here. The command line wins over the environment; an empty variable counts as
unset; a value is checked as the option's value is (type, choices), and a bad one is the option's
error with the variable's name in place of the option's.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence

PREFIX = "B24LOCAL_"
#: Options whose variable was named before the general rule (``B24LOCAL_<OPTION>``) came.
NAMED = {"--database": "B24LOCAL_DATABASE_URL", "--redis": "B24LOCAL_REDIS_URL"}
#: The values of a flag without a value (``--tls``), as a variable.
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
#: Where a repeatable option's variable splits into values (``a,b`` or ``a b``).
SEPARATORS = re.compile(r"[,\s]+")


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's options that a variable may set (not --help)."""
    return [
        a
        for a in parser._actions
        if a.option_strings and a.dest != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
    ]


def variable(action: argparse.Action) -> str:
    """``--cors-origin`` → ``B24LOCAL_CORS_ORIGIN`` (the option's first long name)."""
    flag = next(s for s in action.option_strings if s.startswith("--"))
    return NAMED.get(flag) or PREFIX + flag[2:].upper().replace("-", "_")


def name_variables(parser: argparse.ArgumentParser) -> None:
    """Mark each option with its variable, for the help (parser.HelpFormatter shows it)."""
    for action in options(parser):
        action.env_variable = variable(action)  # type: ignore[attr-defined]


class BadVariable(Exception):
    """A variable's value that its option would refuse: ``$B24LOCAL_PORT: invalid int value: 'x'``."""


def apply(
    build: Callable[[], argparse.ArgumentParser],
    command: str,
    argv: Sequence[str],
    args: argparse.Namespace,
    environ: Mapping[str, str],
) -> None:
    """Set on ``args`` (``argv`` parsed by a parser from ``build``) each option of ``command`` that
    ``argv`` does not name and whose variable is set."""
    parser = build()
    sub = subcommand(parser, command)
    for action in options(sub):
        action.default = argparse.SUPPRESS  # so that what argv does not name stays out of ``named``
    named = parser.parse_args(argv)
    for action in options(sub):
        name = variable(action)
        text = environ.get(name, "").strip()
        if not text or hasattr(named, action.dest):
            continue
        try:
            _set(sub, action, text, args)
        except argparse.ArgumentError as exc:
            raise BadVariable(f"${name}: {exc.message}") from None


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of ``parser``'s command ``name``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise KeyError(name)


def _set(
    parser: argparse.ArgumentParser, action: argparse.Action, text: str, args: argparse.Namespace
) -> None:
    flag = action.option_strings[0]
    if action.nargs == 0:  # --tls, --admin/--no-admin
        wanted = text.lower()
        if wanted not in TRUE | FALSE:
            raise argparse.ArgumentError(action, f"expected 1/true/yes/on or 0/false/no/off, not {text!r}")
        negative = [s for s in action.option_strings if s.startswith("--no-")]
        if wanted in TRUE:
            action(parser, args, [], next(s for s in action.option_strings if s not in negative))
        elif negative:
            action(parser, args, [], negative[0])
        return
    items = [item for item in SEPARATORS.split(text) if item]
    if action.nargs in ("+", "*"):
        action(parser, args, parser._get_values(action, items), flag)
    elif isinstance(action, argparse._AppendAction):  # repeatable: one value per item
        for item in items:
            action(parser, args, parser._get_values(action, [item]), flag)
    else:
        action(parser, args, parser._get_values(action, [text]), flag)

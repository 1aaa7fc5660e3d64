"""Laying out the Python source of a generated program: literals, call chains and comments
that fit the line length (`LINE_LENGTH`, the project's ruff setting), so the output passes
`ruff check` as generated."""

from __future__ import annotations

import json
import string
import textwrap
from dataclasses import dataclass, field

LINE_LENGTH = 100


def literal(value: str) -> str:
    """A Python string literal for `value` (JSON's escapes are Python's)."""
    return json.dumps(value, ensure_ascii=False)


def f_literal(template: str) -> str:
    """An f-string literal for a `str.format` template (same placeholder syntax)."""
    if any(name for _, name, _, _ in string.Formatter().parse(template)):
        return "f" + literal(template)
    return literal(template.format())


@dataclass
class Call:
    """One call of a chain: `name(args...)`, the arguments already source text."""

    name: str
    args: list[str] = field(default_factory=list)

    def inline(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


def fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def statement(indent: str, receiver: str, calls: list[Call]) -> list[str]:
    """`receiver.call1(...).call2(...)` on one line if it fits; else with the last call's
    arguments one a line; else one call a line inside parentheses (and a call's arguments one
    a line when it is still too long; an argument too long even so is marked for ruff)."""
    one = indent + ".".join([receiver, *(c.inline() for c in calls)])
    if fits(one):
        return [one]
    head = indent + ".".join([receiver, *(c.inline() for c in calls[:-1]), calls[-1].name])
    if calls[-1].args and fits(head + "("):
        return [f"{head}(", *arguments(indent + "    ", calls[-1].args), f"{indent})"]
    inner = indent + "    "
    lines = [f"{indent}(", inner + receiver]
    for call in calls:
        line = f"{inner}.{call.inline()}"
        if fits(line) or not call.args:
            lines.append(line)
        else:
            lines += [f"{inner}.{call.name}(", *arguments(inner + "    ", call.args), f"{inner})"]
    lines.append(f"{indent})")
    return lines


def arguments(indent: str, args: list[str]) -> list[str]:
    lines = [f"{indent}{arg}," for arg in args]
    return [line if fits(line) else f"{line}  # noqa: E501" for line in lines]


def comment(text: str, indent: str = "    ") -> list[str]:
    return [
        f"{indent}# {line}"
        for line in textwrap.wrap(text, LINE_LENGTH - len(indent) - 2, break_long_words=True)
    ]

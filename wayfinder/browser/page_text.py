"""Writing a page into the description: the header, element lines, select options, text lines.

Everything here turns what `snapshot.js` collected into the notation of docs/page-format.md,
and enforces its fence rule: page text never contains `<` or `>`, so the only ones in a
description are its own element markup (a page can forge neither an element line nor a prompt
section such as `</page>`). Nothing here talks to the browser.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

# ---- tunables (documented in docs/page-format.md) ----
MAX_ELEMENT_TEXT = 80
MAX_TEXTAREA_TEXT = 2000
"""A textarea shows this much of its value: its start and its end, `…` between."""
MAX_ATTR_VALUE = 80
MAX_HREF = 100
MAX_URL = 300
MAX_TITLE = 150
TEXT_LINE_WIDTH = 100
TEXT_MAX_LINES = 3
ROW_MAX_LINES = 10
"""A table row may wrap over this many lines (its cells are never dropped for repetition)."""
MAX_SELECT_OPTIONS = 20
"""A select lists this many options, unless it is focused or is the snapshot's focus_id."""
MAX_OPTION_TEXT = 60

URL_LINE = re.compile(r'^URL: (?P<url>\S*)(?: "(?P<title>[^"]*)")?$')
"""The header's first line, `URL: <url> "<title>"` (the title only when the page does not say
it). A URL never has a raw space or `"` here (header_url), a title never a `"`."""

_UNQUOTED_ATTRS = frozenset({"type", "name", "role"})
# Tags that say what the element does (and how to act on it) whatever its role: `<a role=button
# href=…>` still has an href, `<input role=combobox>` is still typed into. Any other tag with a
# role is written as the role (`<div role=tab>` is `<tab>`): the role is what it is (ARIA says
# it replaces the tag's own semantics), and the tag only costs characters.
_TAG_KEPT_WITH_ROLE = frozenset(
    {"a", "button", "input", "select", "textarea", "summary", "img", "iframe"}
)
# Attributes whose value names the element: a form control's `name=` that says the same is
# left out (`<input name=email label="Email">` is `<input label="Email">`): the model acts by
# [ID], and ElementRef.attributes keeps the name.
_NAMING_ATTRS = ("label", "aria-label", "placeholder", "title")
_ROLE_TAG = re.compile(r"[a-z][a-z-]*")
_NOT_WORDY = re.compile(r"[\W_]+")
_SIMPLE_VALUE = re.compile(r"[\w.:/\[\]-]+")
_CHOICE_TYPES = frozenset({"checkbox", "radio"})
# Characters that are never raw in a URL Playwright reports, except in the odd data: URL: written
# percent-encoded, the URL still works when the model navigates to it, and keeps the fence rule.
_URL_UNSAFE = {"<": "%3C", ">": "%3E", '"': "%22", " ": "%20"}


def trim(text: str, limit: int) -> str:
    """Whitespace collapsed, cut to `limit` characters with `…`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    return cut + "…"


def trim_middle(text: str, limit: int) -> str:
    """Like `trim`, but keeps the start and the end with ` … ` between."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return text[:half].rstrip() + " … " + text[-half:].lstrip()


def angles(text: str) -> str:
    """Page text never contains `<` or `>`: only the description's own element markup does, so
    a page can neither forge an element line nor a prompt section (`</page>`)."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def quoted(value: str, limit: int) -> str:
    value = angles(trim(value, limit).replace('"', "'"))
    return f'"{value}"'


def header_url(url: str) -> str:
    url = trim(url, MAX_URL)
    for raw, encoded in _URL_UNSAFE.items():
        url = url.replace(raw, encoded)
    return f"URL: {url}"


def title_shown(title: str) -> str | None:
    """The title as the description writes it, or None for a page without a title."""
    title = angles(trim(title, MAX_TITLE))
    return title or None


def with_title(url_line: str, title: str) -> str:
    """`URL: u` and a title_shown() title: one line, `URL: u "t"` (see URL_LINE)."""
    quoted_title = title.replace('"', "'")
    return f'{url_line} "{quoted_title}"'


def says(text: str, title: str) -> bool:
    """Whether `text` (a line or an element's name) contains `title` as whole words."""
    text, title = (" ".join(t.split()).casefold() for t in (text, title))
    return bool(title) and re.search(rf"(?<!\w){re.escape(title)}(?!\w)", text) is not None


def _options(node: dict[str, Any], show_all: bool) -> str:
    """A select's options, JSON-quoted (an option's own `,` or `|` cannot look like a
    separator), trimmed only where that keeps them distinct."""
    opts: list[str] = [angles(o) for o in node.get("opts", [])]
    trimmed = [trim_middle(o, MAX_OPTION_TEXT) for o in opts]
    if len(set(trimmed)) < len(set(opts)):
        trimmed = opts
    shown = trimmed if show_all else trimmed[:MAX_SELECT_OPTIONS]
    more = int(node.get("nopts", 0)) - len(shown)
    text = ", ".join(json.dumps(o, ensure_ascii=False) for o in shown)
    return text + (f", … {more} more" if more > 0 else "")


def _format_attr(key: str, value: str | None) -> str:
    if value is None:
        return key
    if key in _UNQUOTED_ATTRS and _SIMPLE_VALUE.fullmatch(value):
        return f"{key}={value}"
    if key == "expanded" and value == "false":
        return "collapsed"  # what `expanded=false` says, in 9 characters instead of 14
    if key == "checked" and value == "mixed":
        return "checked=mixed"
    return f"{key}={quoted(value, MAX_HREF if key == 'href' else MAX_ATTR_VALUE)}"


def element_line(node: dict[str, Any], focus_id: str | None) -> str:
    """`[ID]<TAG ATTRS>TEXT` for one element node of snapshot.js."""
    tag = node["tag"]
    pairs: list[tuple[str, str | None]] = [(k, v) for k, v in node["a"]]
    text = node.get("x", "")
    kind = dict(pairs).get("type") if tag == "input" else None
    if kind in _CHOICE_TYPES:
        # A native checkbox or radio is written `<checkbox>` / `<radio>` with its label as
        # TEXT, like the words next to it on the page: `[3]<radio name=size checked>Large`.
        # The type is the tag, so nothing is lost, and `<input type=checkbox label="…">`
        # costs 20 characters more per box. (An input's own TEXT is always empty.)
        tag = str(kind)
        text = next((v for k, v in pairs if k == "label"), None) or ""
        pairs = [(k, v) for k, v in pairs if k not in ("type", "label")]
    values = dict(pairs)
    role = values.get("role")
    if (
        role
        and tag not in _TAG_KEPT_WITH_ROLE
        and role not in _TAG_KEPT_WITH_ROLE  # `<div role=select>` must not pass for a select
        and _ROLE_TAG.fullmatch(role)
    ):
        tag = role
        pairs = [(k, v) for k, v in pairs if k != "role"]
    # A name that repeats what the line says anyway: its text or label, or its kind
    # (`<input type=password name=password>`, three `<radio name=radio>`).
    names = (values.get(k) for k in _NAMING_ATTRS)
    if "name" in values and _same_words(values["name"], text, tag, kind, *names):
        pairs = [(k, v) for k, v in pairs if k != "name"]
    attrs = " ".join(_format_attr(k, v) for k, v in pairs)
    opening = f"<{tag} {attrs}>" if attrs else f"<{tag}>"
    if tag == "select":
        text = _options(node, bool(node.get("focus")) or node["id"] == focus_id)
    elif tag == "textarea":
        text = angles(trim_middle(text, MAX_TEXTAREA_TEXT))
    else:
        text = angles(trim(text, MAX_ELEMENT_TEXT))
    # No closing tag: page text never contains `<`/`>` (see angles), so the line's end is the
    # element's end, and `</button>` would only cost tokens.
    return f"[{node['id']}]{opening}{text}"


def _same_words(value: str | None, *names: str | None) -> bool:
    """Whether `value` says what one of `names` says, ignoring case, spaces and punctuation
    (`first_name` and "First name:")."""
    key = _NOT_WORDY.sub("", value or "").casefold()
    return bool(key) and any(key == _NOT_WORDY.sub("", n or "").casefold() for n in names)


def wrap(text: str, max_lines: int = TEXT_MAX_LINES) -> list[str]:
    """A text node as lines of at most TEXT_LINE_WIDTH characters, `max_lines` of them."""
    text = angles(trim(text, TEXT_LINE_WIDTH * max_lines))
    return textwrap.wrap(text, TEXT_LINE_WIDTH, break_long_words=True, break_on_hyphens=False)

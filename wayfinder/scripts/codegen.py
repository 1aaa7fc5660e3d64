"""Rendering a `Script` as a readable, standalone Playwright Python program."""

from __future__ import annotations

from wayfinder.scripts.model import Script


def generate_code(script: Script) -> str:
    """The program's source: one function per step (its intent as a comment), semantic
    locators, an argparse CLI with one flag per parameter (secrets without default, never
    in the code), launching /usr/bin/chromium unless --browser-path says otherwise.
    Passes `ruff check` as generated."""
    raise NotImplementedError

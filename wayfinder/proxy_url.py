"""Proxy URLs: parsed and checked without ever echoing their credentials.

Pure functions (no settings, no I/O), shared by request validation (`wayfinder.models`), the
settings (`WAYFINDER_PROXIES`) and the workers that hand a proxy to Chromium.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

PROXY_SCHEMES = ("http", "https", "socks5")
"""What Chromium can use as a proxy (it cannot authenticate to a SOCKS proxy, see below)."""


@dataclass(frozen=True)
class ProxyParts:
    """A proxy URL split in two: where the proxy is, and how to log in to it."""

    server: str
    """`scheme://host:port`, with no credentials: safe to log and to keep in history."""
    username: str | None = None
    password: str | None = None

    @property
    def has_credentials(self) -> bool:
        return self.username is not None


def redact(value: str) -> str:
    """`value` with any `user:password@` replaced by `***@`, for messages."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


def check_proxy_url(value: str, name: str) -> ProxyParts:
    """Split `value` (`scheme://[user:pass@]host:port`) or raise a ValueError naming `name`.

    Messages show the URL with its credentials redacted: they end up in logs and tracebacks.
    """
    shown = redact(value.strip())
    parts = urlsplit(value.strip())
    if parts.scheme not in PROXY_SCHEMES:
        schemes = ", ".join(f"{scheme}://" for scheme in PROXY_SCHEMES)
        raise ValueError(f"{name} must be a proxy URL starting with {schemes}, got {shown!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"{name} has an invalid port: {shown!r}") from None
    if not host:
        raise ValueError(f"{name} has no host: {shown!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{name} must be scheme://[user:pass@]host:port only, got {shown!r}")
    username = unquote(parts.username) if parts.username is not None else None
    if username is not None and parts.scheme == "socks5":
        raise ValueError(
            f"{name}: Chromium cannot log in to a SOCKS proxy; use an http:// proxy for one that "
            f"needs credentials ({shown!r})"
        )
    netloc_host = f"[{host}]" if ":" in host else host
    server = f"{parts.scheme}://{netloc_host}" + (f":{port}" if port is not None else "")
    password = unquote(parts.password) if parts.password is not None else None
    return ProxyParts(server=server, username=username, password=password)

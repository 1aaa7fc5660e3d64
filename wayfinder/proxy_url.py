"""Proxy URLs and `proxy_location` values: parsed and checked without echoing credentials.

Pure (no settings, no I/O), shared by request validation (`wayfinder.models`), the settings
(`WAYFINDER_PROXIES`) and the workers that hand a proxy to Chromium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
    model_validator,
)

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


NO_PROXY = "NONE"
"""The `proxy_location` that means: no proxy (the same as leaving it unset)."""

_LOCATION_NAME = re.compile(r"[A-Z0-9][A-Z0-9_-]*")


class ProxyURL(BaseModel):
    """`proxy_location={"url": "http://user:pass@host:port"}`: a proxy given directly.

    Its credentials must not reach workflow history, so they are kept apart from `url` (which
    never carries them once validated) until the client seals them (`sealed_credentials`,
    encrypted with the deployment's WAYFINDER_SECRET_KEY); serializing a ProxyURL whose
    credentials are not sealed is refused rather than quietly dropping them.
    """

    # A bad URL's error must not echo it: it may hold a password.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    url: str
    sealed_credentials: str | None = None
    _credentials: tuple[str, str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _split_credentials(self) -> ProxyURL:
        parts = check_proxy_url(self.url, "proxy_location.url")
        if parts.has_credentials:
            if self.sealed_credentials is not None:
                raise ValueError("proxy_location.url carries credentials and sealed ones too")
            self._credentials = (parts.username or "", parts.password or "")
        self.url = parts.server
        return self

    @property
    def credentials(self) -> tuple[str, str] | None:
        """(username, password) as given, before they are sealed; None once sealed."""
        return self._credentials

    @model_serializer(mode="wrap")
    def _never_in_clear(self, handler: SerializerFunctionWrapHandler) -> Any:
        if self._credentials is not None:
            raise ValueError(
                "a proxy_location URL's credentials must be sealed before it is serialized "
                "(wayfinder.proxies.prepare_proxy does it)"
            )
        return handler(self)

    def __repr__(self) -> str:
        hidden = ", credentials=***" if self._credentials or self.sealed_credentials else ""
        return f"ProxyURL(url={self.url!r}{hidden})"


ProxyLocation = Annotated[
    Annotated[str, Tag("name")] | Annotated[ProxyURL, Tag("url")],
    Discriminator(lambda value: "name" if isinstance(value, str) else "url"),
]
"""A location name mapped in WAYFINDER_PROXIES (e.g. 'RESIDENTIAL_US'), or a `ProxyURL`."""


def check_location(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if "://" in value:
        raise ValueError(
            'proxy_location: give a proxy URL as {"url": "http://user:pass@host:port"}, '
            "not as a plain string"
        )
    name = value.strip().upper()
    if not _LOCATION_NAME.fullmatch(name):
        raise ValueError(
            f"proxy_location must be a location name such as 'RESIDENTIAL_US' or 'NONE', "
            f'or {{"url": ...}}; got {value!r}'
        )
    return None if name == NO_PROXY else name

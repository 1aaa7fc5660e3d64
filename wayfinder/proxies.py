"""`proxy_location`: checked and sealed on the client, resolved to a proxy on the worker.

A run's request is its workflow input, and workflow input is history that anyone who can read
the namespace can read. So no proxy credential may be in it in clear:
- a location name ('RESIDENTIAL_US') travels as the name; the worker that opens the run's
  browser looks it up in its own WAYFINDER_PROXIES. The client checks the name against its
  WAYFINDER_PROXIES before starting the run, so a typo fails at once, not in a worker;
- a direct `{"url": "http://user:pass@host:port"}` travels as `http://host:port` plus the
  credentials encrypted with the deployment's secret key (`wayfinder.secrets`), which only
  the worker decrypts, just before it hands them to Chromium.
"""

from __future__ import annotations

from playwright.async_api import ProxySettings

from wayfinder.errors import WayfinderError
from wayfinder.proxy_url import ProxyLocation, ProxyURL, check_proxy_url
from wayfinder.secrets import SecretBox
from wayfinder.settings import Settings

_SEPARATOR = "\n"
"""Between username and password in the sealed text (neither can contain a newline)."""


class ProxyNotConfiguredError(WayfinderError, ValueError):
    """A `proxy_location` name that WAYFINDER_PROXIES does not map."""


def _unmapped(name: str, settings: Settings, where: str) -> ProxyNotConfiguredError:
    known = ", ".join(sorted(settings.proxies)) or "none"
    return ProxyNotConfiguredError(
        f"proxy_location {name!r} is not mapped in WAYFINDER_PROXIES {where} (mapped: {known}); "
        "add it, e.g. WAYFINDER_PROXIES='{\"" + name + '": "http://user:pass@host:port"}\', '
        'or pass proxy_location={"url": ...} or "NONE"'
    )


def prepare_proxy(location: ProxyLocation | None, settings: Settings) -> ProxyLocation | None:
    """What of `location` may go into workflow history; raises before the run if it is unusable.

    A name must be mapped in this client's WAYFINDER_PROXIES (the deployment gives clients and
    workers the same); a direct URL's credentials are sealed with the secret key.
    """
    if isinstance(location, str):
        if location not in settings.proxies:
            raise _unmapped(location, settings, "of this client")
        return location
    if location is None or location.credentials is None:
        return location
    username, password = location.credentials
    sealed = SecretBox.from_settings(settings).seal(f"{username}{_SEPARATOR}{password}")
    return ProxyURL(url=location.url, sealed_credentials=sealed)


def resolve_proxy(location: ProxyLocation | None, settings: Settings) -> ProxySettings | None:
    """The Playwright proxy of a run's context, on the worker (names looked up, credentials
    decrypted). The result holds the password: hand it to Chromium, never log it."""
    if location is None:
        return None
    if isinstance(location, str):
        url = settings.proxies.get(location)
        if url is None:
            raise _unmapped(location, settings, "of this worker")
        parts = check_proxy_url(url, f"WAYFINDER_PROXIES[{location!r}]")
        username, password = parts.username, parts.password
        server = parts.server
    else:
        server, username, password = location.url, None, None
        if location.sealed_credentials is not None:
            opened = SecretBox.from_settings(settings).open(
                location.sealed_credentials, "proxy_location"
            )
            username, _, password = opened.partition(_SEPARATOR)
    proxy: ProxySettings = {"server": server}
    if username is not None:
        proxy["username"] = username
        proxy["password"] = password or ""
    return proxy

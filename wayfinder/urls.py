"""URL checks shared by request validation and the `goto_url` action."""

from urllib.parse import urlsplit


def check_http_url(value: str) -> str:
    """Return `value` stripped if it is an absolute http(s) URL with a host, else raise."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"url must start with http:// or https://, got {value!r}")
    if not parts.hostname:
        raise ValueError(f"url has no host: {value!r}")
    return url

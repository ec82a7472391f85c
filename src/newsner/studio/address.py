"""Where Label Studio is: the configured address, checked before any request goes to it.

Below both the connection (`client`) and the local launcher (`server`), which both need it.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from newsner.config import Settings
from newsner.errors import ConfigError


def studio_url(settings: Settings) -> str:
    """`LABEL_STUDIO_URL` when set, else `[studio] url`; refused when it is not a plain http(s) address."""
    url = (os.environ.get("LABEL_STUDIO_URL") or settings.studio.url).rstrip("/")
    check_url(url)
    return url


def check_url(url: str) -> None:
    """Refuse a URL that is not `http(s)://host[:port][/path]`: user-info (`user@host`) hides the real host.

    >>> check_url("http://127.0.0.1:8080")
    >>> check_url("http://127.0.0.1:8080@evil.example:80")
    Traceback (most recent call last):
    ...
    newsner.errors.ConfigError: Label Studio URL 'http://127.0.0.1:8080@evil.example:80' has a user-info part ...
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as err:
        raise ConfigError(f"Label Studio URL {url!r} is not a valid address ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"Label Studio URL {url!r} is not an http(s)://HOST:PORT address")
    if "@" in parts.netloc:
        raise ConfigError(
            f"Label Studio URL {url!r} has a user-info part (before '@'): the request would go to "
            f"{parts.hostname!r}, not where it seems; write the address as http(s)://HOST:PORT"
        )


def is_loopback(url: str) -> bool:
    """True when the URL's host (parsed, not matched as text) is a loopback address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

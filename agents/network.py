"""Which endpoints an agent may register: an http(s) URL whose every address is in an allowed network."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = IPv4Address | IPv6Address

# Refused whatever AGENT_ALLOWED_NETWORKS says: link-local (where cloud metadata
# services live) and the metadata endpoints themselves.
ALWAYS_REFUSED = tuple(
    ip_network(cidr) for cidr in ("169.254.0.0/16", "fe80::/10", "169.254.169.254/32", "fd00:ec2::254/128")
)
REFUSED_HOSTS = frozenset({"metadata.google.internal"})


class EndpointRefused(ValueError):
    """Why an endpoint is not acceptable, in words an operator can act on."""


def _allowed_networks() -> list[IPv4Network | IPv6Network]:
    try:
        return [ip_network(cidr.strip(), strict=False) for cidr in settings.AGENT_ALLOWED_NETWORKS]
    except ValueError as exc:
        raise ImproperlyConfigured(f"AGENT_ALLOWED_NETWORKS: {exc}") from None


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise EndpointRefused(f"The host '{host}' could not be resolved ({exc}).") from None
    return [ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_address(address: IPAddress) -> None:
    """Refuse link-local and metadata addresses always, and anything outside the allowed networks."""
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    forms = [address, mapped] if mapped else [address]
    if any(form in net for form in forms for net in ALWAYS_REFUSED if form.version == net.version):
        raise EndpointRefused(f"The address {address} is link-local or a cloud metadata service: refused.")
    allowed = _allowed_networks()
    if not any(form in net for form in forms for net in allowed if form.version == net.version):
        raise EndpointRefused(
            f"The address {address} is outside AGENT_ALLOWED_NETWORKS "
            f"({', '.join(str(n) for n in allowed) or 'empty'})."
        )


def check_endpoint(url: str) -> str:
    """The endpoint without a trailing slash, or EndpointRefused; resolves the host and checks every address."""
    if not isinstance(url, str) or not url.strip():
        raise EndpointRefused("Give the agent's base URL, e.g. http://127.0.0.1:5000.")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused("The endpoint must be an http:// or https:// URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("The endpoint must not carry credentials.")
    if "?" in url or "#" in url:
        raise EndpointRefused("The endpoint must not have a query or a fragment.")
    if any(c.isspace() for c in url) or len(url) > 500:
        raise EndpointRefused("The endpoint must be one URL of at most 500 characters.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EndpointRefused("The endpoint's port is not a number between 0 and 65535.") from None
    host = parts.hostname.rstrip(".")
    if host.lower() in REFUSED_HOSTS:
        raise EndpointRefused(f"The host '{host}' is a cloud metadata service: refused.")
    for address in _addresses(host, port):
        check_address(address)
    return url.rstrip("/")

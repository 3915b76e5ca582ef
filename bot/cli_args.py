"""Argument types shared by the `dvcbot` commands (the channel commands are registered by their packages)."""
from __future__ import annotations


def listen_address(value: str) -> tuple[str, int]:
    """``--listen host:port`` of a channel's webhook server."""
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"--listen must be host:port, not {value!r}")
    return host.strip("[]"), int(port)

"""How intake writes names, sizes and times in sentences and in the manifest: ``shown``
(a zip entry name safe to print), ``mib`` (a size), ``iso`` / ``from_iso`` (the manifest's
``2026-11-20T14:03:00Z``, naive UTC), ``human`` (``2026-11-20 14:03 UTC``)."""

from __future__ import annotations

from datetime import datetime


def shown(name: str) -> str:
    """A zip entry name safe to print: control characters replaced, length capped."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return text if len(text) <= 120 else text[:117] + "..."


def mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB" if n < 1024**3 else f"{n / 1024**3:.1f} GiB"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def human(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")

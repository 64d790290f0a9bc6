"""What one OCPI adapter remembers in memory: latest Locations (raw, for PATCH merges), Sessions,
CDRs, the tariff table, and the link between the gateway's ``session_ref`` and OCPI sessions.

The link rides on ``authorization_reference`` (§13.3.1 StartSession): we send a reference derived
from ``session_ref`` and the CPO echoes it in every Session and CDR, so the link survives even when
the memory does not (a restart) as long as ``session_ref`` is ≤ 36 printable ASCII characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from operators.domain import SessionPhase
from operators.ocpi.models import Tariff

JSON = dict[str, Any]


def auth_reference(session_ref: str) -> str:
    """``session_ref`` itself when it fits CiString(36), else a stable digest of it."""
    if 0 < len(session_ref) <= 36 and all(0x21 <= ord(c) <= 0x7E for c in session_ref):
        return session_ref
    return "cg-" + hashlib.sha256(session_ref.encode("utf-8")).hexdigest()[:33]


@dataclass
class SessionLink:
    session_ref: str
    connector_id: str
    auth_ref: str
    started_at: datetime
    session_id: str | None = None
    phase: SessionPhase = SessionPhase.STARTING
    failure: str | None = None


@dataclass
class OcpiStore:
    locations: dict[str, JSON] = field(default_factory=dict)
    sessions: dict[str, JSON] = field(default_factory=dict)
    cdrs: dict[str, JSON] = field(default_factory=dict)
    tariffs: dict[str, Tariff] = field(default_factory=dict)
    tariffs_at: float | None = None  # loop time of the last full tariff pull
    links: dict[str, SessionLink] = field(default_factory=dict)
    _by_auth: dict[str, str] = field(default_factory=dict)
    _by_session: dict[str, str] = field(default_factory=dict)

    def add_link(self, link: SessionLink) -> None:
        self.links[link.session_ref] = link
        self._by_auth[link.auth_ref] = link.session_ref

    def drop_link(self, session_ref: str) -> None:
        link = self.links.pop(session_ref, None)
        if link is not None:
            self._by_auth.pop(link.auth_ref, None)

    def ref_for(self, session_id: str | None, auth_ref: str | None) -> str | None:
        """The gateway's ref for an OCPI session, learning the session id on first sight."""
        ref = self._by_session.get(session_id or "")
        if ref is None and auth_ref is not None:
            ref = self._by_auth.get(auth_ref)
            if ref is None and auth_reference(auth_ref) == auth_ref:
                ref = auth_ref  # a session we started before a restart (auth_ref == session_ref)
        if ref is not None and session_id is not None:
            self._by_session[session_id] = ref
            if ref in self.links:
                self.links[ref].session_id = session_id
        return ref

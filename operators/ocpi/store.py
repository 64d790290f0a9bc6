"""What one OCPI adapter remembers, in the replicas' shared state (Redis when configured): the
registration (tokens B and C, the CPO's endpoints), latest Locations (raw, for PATCH merges),
Sessions, CDRs, pushed Tariffs, and the links between the gateway's ``session_ref`` and OCPI
sessions (with the outcome of their commands). A push taken by one replica is therefore seen by
every other: a PATCH may reach a replica that never saw the PUT.

The link also rides on ``authorization_reference`` (§13.3.1 StartSession): we send a reference
derived from ``session_ref`` and the CPO echoes it in every Session and CDR, so the link survives
even when the state does not, as long as ``session_ref`` is ≤ 36 printable ASCII characters.

Limitation: a PATCH is read-merge-write; two PATCHes of one object racing on two replicas could
lose one. CPOs send an object's updates one after the other, so this is accepted.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from operators.base import SharedState
from operators.domain import SessionPhase
from operators.ocpi import codec
from operators.ocpi.messages import VersionDetails
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


@dataclass(frozen=True)
class Registration:
    """The outcome of the credentials handshake: our token B, the CPO's token C, its endpoints."""

    token_b: str
    token_c: str
    details: VersionDetails


@dataclass
class OcpiStore:
    operator_id: str
    state: SharedState
    tariffs: dict[str, Tariff] = field(default_factory=dict)  # pulled table: a per-replica cache
    tariffs_at: float | None = None  # loop time of the last full tariff pull

    def _key(self, *parts: str) -> str:
        return ":".join(("ocpi", self.operator_id, *parts))

    async def _get(self, *parts: str) -> Any:
        text = await self.state.get(self._key(*parts))
        return None if text is None else codec.loads(text)

    async def _put(self, value: Any, *parts: str) -> None:
        await self.state.put(self._key(*parts), codec.dumps(value))

    # -- registration -------------------------------------------------------------------------

    async def token_b(self) -> str | None:
        """The token the CPO must present (see :meth:`OcpiOperator.accepted_token`)."""
        return await self.state.get(self._key("token_b"))

    async def offer_token_b(self, token: str) -> None:
        """Keep ``token`` as token B unless a replica already chose one."""
        await self.state.add(self._key("token_b"), token)

    async def registration(self) -> Registration | None:
        found = await self._get("registration")
        if found is None:
            return None
        details = codec.from_json(VersionDetails, found["details"])
        return Registration(found["token_b"], found["token_c"], details)

    async def save_registration(self, registration: Registration) -> None:
        await self._put(
            {
                "token_b": registration.token_b,
                "token_c": registration.token_c,
                "details": codec.to_json(registration.details),
            },
            "registration",
        )

    async def forget_registration(self, token_c: str) -> None:
        """Drop the registration made with ``token_c`` (not a newer one another replica just made)."""
        found = await self.registration()
        if found is not None and found.token_c == token_c:
            await self.state.delete(self._key("registration"))

    async def claim_registration(self, owner: str, ttl_s: float) -> bool:
        """The lease under which one replica runs the handshake while the others wait for it."""
        return await self.state.add(self._key("registering"), owner, ttl_s)

    async def release_registration(self) -> None:
        await self.state.delete(self._key("registering"))

    # -- pushed and pulled objects ---------------------------------------------------------------

    async def location(self, location_id: str) -> JSON | None:
        return await self._get("location", location_id)

    async def put_location(self, location_id: str, raw: JSON) -> None:
        await self._put(raw, "location", location_id)

    async def session(self, session_id: str) -> JSON | None:
        return await self._get("session", session_id)

    async def put_session(self, session_id: str, raw: JSON) -> None:
        await self._put(raw, "session", session_id)

    async def cdr(self, cdr_id: str) -> JSON | None:
        return await self._get("cdr", cdr_id)

    async def put_cdr(self, cdr_id: str, raw: JSON) -> None:
        await self._put(raw, "cdr", cdr_id)

    async def tariff(self, tariff_id: str) -> JSON | None:
        return await self._get("tariff", tariff_id)

    async def put_tariff(self, tariff: Tariff) -> None:
        self.tariffs[tariff.id] = tariff
        await self._put(codec.to_json(tariff), "tariff", tariff.id)

    async def delete_tariff(self, tariff_id: str) -> None:
        self.tariffs.pop(tariff_id, None)
        await self.state.delete(self._key("tariff", tariff_id))

    # -- session links ---------------------------------------------------------------------------

    async def link(self, session_ref: str) -> SessionLink | None:
        found = await self._get("link", session_ref)
        if found is None:
            return None
        found["started_at"] = codec.parse_datetime(found["started_at"])
        found["phase"] = SessionPhase(found["phase"])
        return SessionLink(**found)

    async def save_link(self, link: SessionLink) -> None:
        raw = asdict(link) | {"phase": link.phase.value}
        await self._put(raw, "link", link.session_ref)
        await self.state.put(self._key("by_auth", link.auth_ref), link.session_ref)
        if link.session_id is not None:
            await self.state.put(self._key("by_session", link.session_id), link.session_ref)

    async def drop_link(self, session_ref: str) -> None:
        link = await self.link(session_ref)
        if link is not None:
            await self.state.delete(self._key("by_auth", link.auth_ref))
            await self.state.delete(self._key("link", session_ref))

    async def ref_for(self, session_id: str | None, auth_ref: str | None) -> str | None:
        """The gateway's ref for an OCPI session, learning the session id on first sight."""
        ref = await self.state.get(self._key("by_session", session_id)) if session_id else None
        if ref is None and auth_ref is not None:
            ref = await self.state.get(self._key("by_auth", auth_ref))
            if ref is None and auth_reference(auth_ref) == auth_ref:
                ref = auth_ref  # a session we started before the state was lost (auth_ref == session_ref)
        if ref is not None and session_id is not None:
            await self.state.put(self._key("by_session", session_id), ref)
            link = await self.link(ref)
            if link is not None and link.session_id != session_id:
                link.session_id = session_id
                await self.save_link(link)
        return ref

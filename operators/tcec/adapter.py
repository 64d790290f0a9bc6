"""TcecOperator: the operator port over T/CEC 102, with our gateway as the aggregator.

:func:`build` is the registry's factory (``"tcec" → operators.tcec.adapter:build``). The adapter
splits batches by protocol limits and runs the parts concurrently under a per-operator semaphore;
calls go through :class:`~operators.tcec.client.TcecClient`, pushes arrive through
:class:`~operators.tcec.receiver.TcecReceiver`, and both speak the domain model only.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import aiohttp

from operators.base import EventSink, OperatorInfo, OperatorRejected, PushApp, SharedState
from operators.domain import (
    Capability,
    ConnectorState,
    SessionProgress,
    StationPage,
    StatusSource,
    Tariff,
)
from operators.tcec import codec, sessions
from operators.tcec.client import TcecClient, translate_errors
from operators.tcec.fields import MappingError, field_int
from operators.tcec.mapping import parse_connector_status_infos, parse_stations, parse_tariff
from operators.tcec.receiver import TcecReceiver
from operators.tcec.settings import TcecSettings, parse_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

CAPABILITIES = frozenset(Capability)  # T/CEC 102.2 and 102.3 cover every capability of the port
LAST_QUERY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # §5.1, operator's local time (§4)


class TcecOperator:
    """One T/CEC operator through the :class:`~operators.base.Operator` port (structurally)."""

    def __init__(
        self,
        settings: TcecSettings,
        http: aiohttp.ClientSession,
        sink: EventSink,
        state: SharedState | None = None,
    ) -> None:
        self._settings = settings
        self._info = OperatorInfo(settings.id, settings.name, "tcec", CAPABILITIES)
        self._client = TcecClient(
            http=http,
            operator_id=settings.id,
            our_operator_id=settings.our_operator_id,
            operator_secret=settings.operator_secret,
            secrets=settings.secrets,
            base_url=settings.base_url,
            profile=settings.profile,
            timeout_s=settings.timeout_s,
        )
        self._seqs = sessions.SessionSeqs(settings.our_operator_id)
        self._receiver = TcecReceiver(
            operator_id=settings.id,
            operator_secret=settings.operator_secret,
            secrets=settings.secrets,  # §3.1: the simulator and our partners push with the same set
            profile=settings.profile,
            sink=sink,
            seqs=self._seqs,
            state=state,  # the replay cache, shared by the replicas
            push_window_s=settings.push_window_s,
        )
        self._push = self._receiver.push_app()
        self._limit = asyncio.Semaphore(settings.max_concurrency)

    @property
    def info(self) -> OperatorInfo:
        return self._info

    async def list_stations(self, since: datetime | None, cursor: str | None) -> StationPage:
        page = _page_number(cursor)
        payload: dict[str, object] = {"PageNo": page, "PageSize": self._settings.page_size}
        if since is not None:
            aware = since if since.tzinfo else since.replace(tzinfo=UTC)  # naive means UTC
            payload["LastQueryTime"] = aware.astimezone(codec.SHANGHAI).strftime(LAST_QUERY_TIME_FORMAT)
        data = await self._client.call("query_stations_info", payload)
        with translate_errors(self._info.id, "query_stations_info"):
            stations = parse_stations(data.get("StationInfos"), self._info.id)
            page_count = field_int(data, "PageCount", page)
            total = field_int(data, "ItemSize") if data.get("ItemSize") is not None else None
        return StationPage(stations, str(page + 1) if page < page_count else None, total)

    async def connector_statuses(self, station_ids: Sequence[str]) -> Mapping[str, ConnectorState]:
        ids = list(dict.fromkeys(station_ids))
        size = self._settings.status_batch  # §2.4: at most 50 stations per query_station_status
        if not ids:
            return {}
        if len(ids) <= size:  # one query (the common case): no task, no gather
            async with self._limit:
                return await self._statuses(ids)
        parts = await self._gather(self._statuses, (ids[i : i + size] for i in range(0, len(ids), size)))
        return {cid: state for part in parts for cid, state in part.items()}

    async def _statuses(self, station_ids: list[str]) -> dict[str, ConnectorState]:
        data = await self._client.call("query_station_status", {"StationIDs": station_ids})
        now = datetime.now(UTC)  # one object for every connector of the answer
        with translate_errors(self._info.id, "query_station_status"):
            infos = parse_connector_status_infos(data)
        return {cid: ConnectorState(cid, status, now, StatusSource.POLL) for cid, status in infos}

    async def tariffs(self, connector_ids: Sequence[str]) -> Mapping[str, Tariff]:
        found = await self._gather(self._tariff, dict.fromkeys(connector_ids))
        return {cid: tariff for cid, tariff in found if tariff is not None}

    async def _tariff(self, connector_id: str) -> tuple[str, Tariff | None]:
        payload = {"EquipBizSeq": self._unique_seq(), "ConnectorID": connector_id}
        data = await self._client.call("query_equip_business_policy", payload)
        try:
            if field_int(data, "SuccStat", 0) != 0:  # §5.6 FailReason 1: no tariff for this pile
                return connector_id, None
            return connector_id, parse_tariff(data)
        except MappingError as exc:  # one connector's bad tariff must not sink the batch
            logger.warning("skipping malformed tariff of %s/%s: %s", self._info.id, connector_id, exc)
            return connector_id, None

    async def start_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        seq = self._seqs.seq_for(session_ref)  # same ref → same seq: the operator dedupes (§7)
        payload = {"StartChargeSeq": seq, "ConnectorID": connector_id, "QRCode": ""}
        data = await self._client.call("query_start_charge", payload, idempotent=False)
        return self._command_reply("query_start_charge", data, session_ref, connector_id, stop=False)

    async def stop_session(self, session_ref: str, connector_id: str) -> SessionProgress:
        payload = {"StartChargeSeq": self._seqs.seq_for(session_ref), "ConnectorID": connector_id}
        data = await self._client.call("query_stop_charge", payload, idempotent=False)
        return self._command_reply("query_stop_charge", data, session_ref, connector_id, stop=True)

    async def session_status(self, session_ref: str) -> SessionProgress:
        payload = {"StartChargeSeq": self._seqs.seq_for(session_ref)}
        data = await self._client.call("query_equip_charge_status", payload)
        with translate_errors(self._info.id, "query_equip_charge_status"):
            return sessions.parse_progress(data, session_ref)

    def push_app(self) -> PushApp:
        return self._push

    async def aclose(self) -> None:
        """Nothing to release: no background tasks, and the HTTP session is the gateway's."""

    def _command_reply(
        self, interface: str, data: dict[str, object], session_ref: str, connector_id: str, *, stop: bool
    ) -> SessionProgress:
        failure = sessions.command_failure(data, stop=stop)
        if failure is not None:  # §5.7/§5.10: Ret 0 but SuccStat 1 is a business refusal
            raise OperatorRejected(self._info.id, f"{interface}: {failure}")
        with translate_errors(self._info.id, interface):
            return sessions.parse_command_reply(data, session_ref, connector_id, stop=stop)

    def _unique_seq(self) -> str:
        # §4: EquipBizSeq is our OperatorID + 18 unique characters.
        return f"{self._settings.our_operator_id}{secrets.randbelow(10**18):018d}"

    async def _gather(self, call: Callable[[T], Awaitable[R]], items: Iterable[T]) -> list[R]:
        """``call`` on every item, at most ``max_concurrency`` at a time; then the first error, if any."""

        async def limited(item: T) -> R:
            async with self._limit:
                return await call(item)

        results = await asyncio.gather(*(limited(item) for item in items), return_exceptions=True)
        done: list[R] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            done.append(result)
        return done


def _page_number(cursor: str | None) -> int:
    if cursor is None:
        return 1
    if not cursor.isdigit() or int(cursor) < 1:
        raise ValueError(f"not a T/CEC page cursor: {cursor!r}")
    return int(cursor)


def build(
    config: Mapping[str, object],
    http: aiohttp.ClientSession,
    sink: EventSink,
    public_url: str,
    state: SharedState | None = None,
) -> TcecOperator:
    """The registry's factory. ``public_url`` is unused: T/CEC partners are told our push URL
    (``{public_url}/push/tcec/{id}/``) out of band, when the partnership is set up."""
    return TcecOperator(parse_settings(config), http, sink, state)

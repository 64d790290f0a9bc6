"""Why a session ended, from what the operator said when the gateway did not end it itself."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from gateway.store import SessionEndReason, SessionRecord

log = logging.getLogger(__name__)

# FinalOrder.stop_reason as the adapters give it (T/CEC 102.3 §6 StopReason names; OCPI CDRs carry
# none, or free text in ``remark``).
OPERATOR_STOP_REASONS: Mapping[str, SessionEndReason] = MappingProxyType(
    {
        "USER": SessionEndReason.DRIVER_STOP,  # at the pile
        "AGGREGATOR": SessionEndReason.OPERATOR,  # a stop we did not record asking for
        "BMS": SessionEndReason.VEHICLE,  # the car's battery management ended the charge
        "DISCONNECTED": SessionEndReason.VEHICLE,
        "CHARGER_FAULT": SessionEndReason.FAULT,
    }
)


def from_operator(stop_reason: str | None) -> SessionEndReason:
    """The reason for an end the operator reported; unknown or absent ones are OPERATOR (logged)."""
    reason = OPERATOR_STOP_REASONS.get(stop_reason or "")
    if reason is None:
        if stop_reason:
            log.info("operator stop reason %r is not one we know: OPERATOR", stop_reason)
        return SessionEndReason.OPERATOR
    return reason


def of_failure(session: SessionRecord) -> SessionEndReason:
    """A session the operator reports FAILED: it never began, or it broke while charging."""
    return SessionEndReason.START_FAILED if session.started_at is None else SessionEndReason.FAULT

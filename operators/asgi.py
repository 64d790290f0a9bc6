"""ASGI's callable shapes, spelled out so the operator port needs no web framework.

They are the shapes of the ASGI specification (the same aliases as ``starlette.types``); any ASGI
app an adapter builds, with whatever library, fits :data:`ASGIApp`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

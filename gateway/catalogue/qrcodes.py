"""QR codes printed on piles, beyond T/CEC's ``hlht://{ConnectorID}.{OperatorID}/``: per-operator
patterns from the operator tables (``qr_patterns``), so a partner's own sticker URL resolves to
its connector.

A pattern is the sticker's text with ``{ConnectorID}`` where the connector id stands, e.g.
``"https://qr.partner.example/pile/{ConnectorID}"`` or ``"https://app.example/scan?c={ConnectorID}"``.
It matches the whole code (scheme and host case-insensitively); the id is at least one character
without ``/ ? # &``. Anything after a matched path (a partner tail) is not allowed: add a pattern
for it instead, so a code resolves only where the partner said it may.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from operators.base import OperatorConfigError

PLACEHOLDER = "{ConnectorID}"
TCEC_FORMAT = "hlht://{ConnectorID}.{OperatorID}/"  # T/CEC 102.1 Appendix A, always accepted
MAX_PATTERN_LEN = 255


@dataclass(frozen=True, slots=True)
class QrPattern:
    operator_id: str
    text: str
    regex: re.Pattern[str]

    def match(self, code: str) -> str | None:
        found = self.regex.fullmatch(code)
        return found.group("connector") if found else None


def compile_pattern(operator_id: str, text: str) -> QrPattern:
    """A pattern; ValueError says what is wrong with ``text``."""
    if not 0 < len(text) <= MAX_PATTERN_LEN or text.count(PLACEHOLDER) != 1:
        raise ValueError(f"must contain {PLACEHOLDER} exactly once (at most {MAX_PATTERN_LEN} characters)")
    before, after = text.split(PLACEHOLDER)
    if "://" not in before and before:
        raise ValueError("must start with a scheme (e.g. https://) or with {ConnectorID}")
    scheme, sep, rest = before.partition("://")
    host, slash, path = rest.partition("/") if sep else ("", "", before)
    head = f"(?i:{re.escape(scheme + sep + host)})" if sep else ""  # RFC 3986: case-insensitive
    body = re.escape(slash + path)
    regex = re.compile(f"{head}{body}(?P<connector>[^/?#&]+){re.escape(after)}")
    return QrPattern(operator_id, text, regex)


class QrPatterns:
    """Every operator's patterns, tried in configuration order."""

    def __init__(self, patterns: Sequence[QrPattern] = ()) -> None:
        self._patterns = tuple(patterns)

    @classmethod
    def from_operators(cls, configs: Sequence[Mapping[str, object]]) -> QrPatterns:
        """The ``qr_patterns`` lists of the operator tables; errors name ``operators[i].qr_patterns``."""
        patterns = []
        for index, config in enumerate(configs):
            raw = config.get("qr_patterns", [])
            key = f"operators[{index}].qr_patterns"
            if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
                raise OperatorConfigError(key, "must be a list of strings")
            for item in raw:
                try:
                    patterns.append(compile_pattern(str(config["id"]), item))
                except ValueError as exc:
                    raise OperatorConfigError(key, f"{item!r} {exc}") from exc
        return cls(patterns)

    def match(self, code: str) -> list[tuple[str, str]]:
        """Every (operator_id, connector_id) the code could be, in configuration order."""
        code = code.strip()
        return [(p.operator_id, cid) for p in self._patterns if (cid := p.match(code)) is not None]

    def formats(self) -> list[str]:
        """The accepted formats, for a message to someone whose code was not recognised."""
        return [TCEC_FORMAT, *dict.fromkeys(p.text for p in self._patterns)]

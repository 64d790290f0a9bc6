"""Per-partner T/CEC dialect: URL layout, field spellings and token policy (spec §8).

Every partner speaks a slightly different T/CEC 102. A :class:`Profile` holds what differs:

* **paths** — ``query_path`` and ``token_path`` are appended to the configured ``base_url``. The
  2016 preset uses ``/{interface}``, so ``base_url`` carries the version segment
  (``https://op.example/evcs/v20160701``); Didi puts queries under ``/evcs/v1/`` and the token under
  ``/evcs/sdk/query_token``, so its ``base_url`` is the bare origin.
* **reading** — :meth:`Profile.normalise` rewrites every key of a decrypted payload to the 2016
  canonical spelling (``Sevice*``, ``ElecMoney``, ``SumPeriod``, ``StartTime``, upper-case first
  letter), so :mod:`operators.tcec.mapping` only ever sees one spelling. Numbers sent as strings
  are the mapping's concern.
* **writing** — :meth:`Profile.emit` renames canonical ``Sevice*`` keys to ``Service*`` for
  partners that want the correct spelling (spec §4: strict in what we emit, 2016 by default).
* **tokens** — ``token_reissue`` says what our receiver does when the partner asks for a token
  while its previous one is still valid (spec §3.4 [?]): ``same`` hands back the valid token,
  ``new`` issues a fresh one and revokes the old. ``token_refresh_margin_s`` is how long before
  ``TokenAvailableTime`` runs out our client fetches a new token.
* **the partner's own output** — what the partner sends that we read liberally anyway, so that the
  simulator (``chargegate simulate tcec --profile``) can speak the dialect and the contract suite
  can hold the adapter to it: ``string_fields`` (canonical fields it sends as JSON strings, ``*``
  for every number), ``lower_first_keys`` (``connectorID``), and ``renames`` (per interface,
  canonical key → the partner's spelling, e.g. Didi's ``ElectMoney`` in query answers).

docs/operators.md lists every setting and how to onboard a partner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from operators.base import OperatorConfigError

# alias → canonical (2016) spelling; lookups happen after the first letter is upper-cased, so
# ``connectorID`` and ``serviceMoney`` need no entry of their own.
DEFAULT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "ServicePrice": "SevicePrice",
        "ServiceMoney": "SeviceMoney",
        "DetailServiceMoney": "DetailSeviceMoney",
        "TotalServiceMoney": "TotalSeviceMoney",
        "ElectMoney": "ElecMoney",  # Didi's query_equip_charge_status response (§8)
        "ElectPrice": "ElecPrice",
        "DetailElectMoney": "DetailElecMoney",
        "TotalElectMoney": "TotalElecMoney",
        "SubPeriod": "SumPeriod",  # one implementation's spelling (§5.11)
        "StarTime": "StartTime",  # one implementation's spelling (§5.4)
    }
)

SERVICE_SPELLINGS = ("Sevice", "Service")
CONTAINERS = (dict, list)  # a tuple: isinstance checks it faster than the union dict | list
MAX_KEYS = 1024  # distinct keys whose canonical spelling a profile remembers
TOKEN_REISSUE_POLICIES = ("same", "new")  # the simulator's names too


@dataclass(frozen=True, slots=True)
class Profile:
    """How one partner lays out its URLs and spells its fields."""

    name: str = "2016"
    query_path: str = "/{interface}"
    token_path: str = "/query_token"
    service_spelling: str = "Sevice"
    token_reissue: str = "same"
    token_refresh_margin_s: float = 300.0
    aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ALIASES)
    string_fields: frozenset[str] = frozenset()
    lower_first_keys: bool = False
    renames: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    # Canonical spelling of every key read so far: a partner sends the same few dozen keys in every
    # answer, so each is respelled once, not once per object (bounded: a partner cannot grow it).
    _keys: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _same: set[str] = field(default_factory=set, init=False, repr=False, compare=False)  # name == key

    def url(self, base_url: str, interface: str) -> str:
        if interface == "query_token":
            return base_url.rstrip("/") + self.token_path
        return base_url.rstrip("/") + self.query_path.format(interface=interface)

    def normalise(self, value: Any) -> Any:
        """``value`` with every object key in canonical spelling, recursively.

        Never modifies ``value``; what is already canonical is returned as it is rather than copied
        (partners send the canonical spelling nearly everywhere), so the result may share parts with
        ``value``.
        """
        if isinstance(value, dict):
            if not self._same.issuperset(value):  # one C-level pass over the keys
                return self._respelled(value)
            out: dict[str, Any] | None = None
            for key, item in value.items():
                if isinstance(item, CONTAINERS):
                    new = self.normalise(item)
                    if new is not item:
                        if out is None:
                            out = dict(value)  # copied on the first change only
                        out[key] = new
            return value if out is None else out
        if isinstance(value, list):
            items: list[Any] | None = None
            for index, item in enumerate(value):
                if isinstance(item, CONTAINERS):
                    new = self.normalise(item)
                    if new is not item:
                        if items is None:
                            items = list(value)
                        items[index] = new
            return value if items is None else items
        return value

    def _respelled(self, value: dict[Any, Any]) -> dict[str, Any]:
        """A copy of an object some of whose keys are not (or not yet known to be) canonical."""
        keys, same, out = self._keys, self._same, {}
        for key, item in value.items():
            name = keys.get(key) if type(key) is str else None
            if name is None:
                name = self._canonical(str(key))
                if type(key) is str and len(keys) < MAX_KEYS:
                    keys[key] = name
                    if name == key:
                        same.add(key)
            out[name] = self.normalise(item) if isinstance(item, CONTAINERS) else item
        return out

    def emit(self, value: Any) -> Any:
        """``value`` with canonical keys respelled the way this partner wants them."""
        if self.service_spelling == "Sevice":
            return value
        if isinstance(value, dict):
            return {key.replace("Sevice", "Service"): self.emit(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.emit(item) for item in value]
        return value

    def _canonical(self, key: str) -> str:
        key = key[:1].upper() + key[1:]
        return self.aliases.get(key, key)


PRESETS: Mapping[str, Profile] = MappingProxyType(
    {
        "2016": Profile(),
        # Didi / 小桔 access contract 1.4.0 (§8): versioned query path, separate token path.
        "didi": Profile(
            name="didi",
            query_path="/evcs/v1/{interface}",
            token_path="/evcs/sdk/query_token",
            service_spelling="Service",
            string_fields=frozenset({"Total"}),  # §8: "Total is a string"
            # §8: the query-status answer says ElectMoney (its push keeps ElecMoney).
            renames=MappingProxyType(
                {"query_equip_charge_status": MappingProxyType({"ElecMoney": "ElectMoney"})}
            ),
        ),
        # Star Charge test environment (§8): no version segment.
        "starcharge": Profile(
            name="starcharge",
            query_path="/evcs/starcharge/{interface}",
            token_path="/evcs/starcharge/query_token",
        ),
    }
)

_OVERRIDABLE = {"query_path": str, "token_path": str, "service_spelling": str, "token_reissue": str}


def resolve_profile(value: object) -> Profile:
    """The profile named by config: a preset name, or ``{"preset": …, <field>: …}`` overrides.

    Overridable fields are ``query_path``, ``token_path``, ``service_spelling``, ``token_reissue``,
    ``token_refresh_margin_s``, ``aliases`` (extra alias → canonical pairs, added to the defaults),
    ``string_fields``, ``lower_first_keys`` and ``renames``. Raises :class:`OperatorConfigError`
    naming the offending key.
    """
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, Mapping):
        raise OperatorConfigError("profile", "must be a preset name or a table")
    preset = value.get("preset", "2016")
    if preset not in PRESETS:
        raise OperatorConfigError("profile", f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    changes: dict[str, Any] = {}
    known = {f.name for f in fields(Profile)} - {"name"}
    for key, item in value.items():
        if key == "preset":
            continue
        if key not in known:
            raise OperatorConfigError(f"profile.{key}", "unknown profile setting")
        changes[key] = _checked(key, item)
    return replace(PRESETS[str(preset)], **changes)


def _checked(key: str, item: object) -> object:
    if key in _OVERRIDABLE and not isinstance(item, str):
        raise OperatorConfigError(f"profile.{key}", "must be a string")
    if key.endswith("_path") and not (isinstance(item, str) and item.startswith("/")):
        raise OperatorConfigError(f"profile.{key}", "must start with '/'")
    if key == "query_path" and "{interface}" not in str(item):
        raise OperatorConfigError("profile.query_path", "must contain '{interface}'")
    if key == "service_spelling" and item not in SERVICE_SPELLINGS:
        raise OperatorConfigError("profile.service_spelling", f"must be one of {SERVICE_SPELLINGS}")
    if key == "token_reissue" and item not in TOKEN_REISSUE_POLICIES:
        raise OperatorConfigError("profile.token_reissue", f"must be one of {TOKEN_REISSUE_POLICIES}")
    if key == "token_refresh_margin_s":
        if not isinstance(item, int | float) or isinstance(item, bool) or item < 0:
            raise OperatorConfigError("profile.token_refresh_margin_s", "must be a number >= 0")
        return float(item)
    if key == "string_fields":
        if not isinstance(item, list) or not all(isinstance(k, str) for k in item):
            raise OperatorConfigError("profile.string_fields", "must be a list of field names")
        return frozenset(item)
    if key == "lower_first_keys":
        if not isinstance(item, bool):
            raise OperatorConfigError("profile.lower_first_keys", "must be true or false")
        return item
    if key == "renames":
        if not isinstance(item, Mapping) or not all(
            isinstance(table, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in table.items())
            for table in item.values()
        ):
            raise OperatorConfigError("profile.renames", "must be a table of tables of strings")
        return MappingProxyType({str(k): MappingProxyType(dict(v)) for k, v in item.items()})
    if key == "aliases":
        if not isinstance(item, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in item.items()
        ):
            raise OperatorConfigError("profile.aliases", "must be a table of strings")
        return MappingProxyType({**DEFAULT_ALIASES, **item})
    return item

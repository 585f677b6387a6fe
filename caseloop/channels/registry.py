"""The registry of channel adapters, frozen once the apps are ready.

Each channel app registers its adapter in its AppConfig.ready():

    @register_channel
    class EmailAdapter:
        kind = Channel.EMAIL
        ...

The registry is frozen by the first lookup (which can only happen once every
app is ready), so the set of channels is fixed for the life of the process and
a late registration fails loudly instead of racing with requests.

Outbound delivery is routed here: when any code adds an outbound message to a
case (a rep answering from the case page, the API, a macro), the
`case.message_added` event reaches `_deliver_outbound` after commit, which
hands the message to the adapter of the message's channel. A channel with no
adapter (API, internal) delivers nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, TypeVar, runtime_checkable

from caseloop.cases.choices import Direction
from caseloop.cases.models import Message
from caseloop.core.events import subscribe

logger = logging.getLogger(__name__)


@runtime_checkable
class ChannelAdapter(Protocol):
    """What a channel offers the rest of caseloop."""

    kind: str  # a caseloop.cases.choices.Channel value
    label: str

    def deliver(self, *, message_id: int) -> None:
        """Send an outbound message of this channel to the customer (idempotent: called once per commit)."""
        ...


class RegistryFrozen(RuntimeError):
    """A channel tried to register after the registry was first read."""


A = TypeVar("A", bound=type)

_adapters: dict[str, ChannelAdapter] = {}
_frozen = False
_lock = threading.Lock()


def register_channel(cls: A) -> A:
    """Class decorator: instantiate the adapter and register it under its `kind`."""
    adapter = cls()
    if not isinstance(adapter, ChannelAdapter):
        raise TypeError(f"{cls.__name__} does not implement ChannelAdapter")
    with _lock:
        if _frozen:
            raise RegistryFrozen(f"channel {adapter.kind!r} registered after start-up")
        existing = _adapters.get(adapter.kind)
        if existing is not None and type(existing).__qualname__ != cls.__qualname__:
            raise ValueError(f"channel {adapter.kind!r} is already registered by {type(existing).__name__}")
        _adapters[adapter.kind] = adapter
    return cls


def _freeze() -> None:
    global _frozen
    if not _frozen:
        with _lock:
            _frozen = True


def adapter_for(kind: str) -> ChannelAdapter | None:
    """The adapter of a channel kind, or None for channels that deliver nothing."""
    _freeze()
    return _adapters.get(kind)


def registered_kinds() -> list[str]:
    _freeze()
    return sorted(_adapters)


def is_frozen() -> bool:
    return _frozen


@subscribe("case.message_added")
def _deliver_outbound(
    *, case_id: int, message_id: int, direction: str | None = None, channel: str | None = None, **_: object
) -> None:
    """After commit: hand an outbound message to its channel's adapter.

    The event carries the message's direction and channel; only an event
    published without them makes us read the message.
    """
    if direction is None or channel is None:
        row = Message.objects.filter(pk=message_id).values_list("direction", "channel").first()
        if row is None:
            return
        direction, channel = row
    if direction != Direction.OUTBOUND:
        return
    adapter = adapter_for(channel)
    if adapter is not None:
        adapter.deliver(message_id=message_id)

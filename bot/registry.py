"""Declarative handler registry: handlers say what they answer, the webhook only dispatches.

    from bot.registry import registry

    @registry.on_event("subscribe")
    def welcome(msg, ctx): ...

    @registry.on_text(r"^(绑定|绑定手机)$")
    def start_binding(msg, ctx): ...

    @registry.on_event("templatesendjobfinish", reads=lambda msg: [...])
    def receipt(msg, ctx): ...   # ctx.prefetched holds those keys' values

Routing order for a text message: command patterns first, in registration order (so "帮助" or a
warning answer always works, even mid-dialog), then an open multi-step dialog (``on_dialog``),
then the free-text fallback (the scam check). Events route by event
type, CLICK events also by menu key (``on_menu``). Each handler takes the parsed wechatpy
message and a ``HandlerContext`` and returns reply text, a wechatpy reply, or ``None`` for the
plain "success" answer, so handlers are testable without HTTP. A handler may return ``PASS``
to hand the message to the next candidate in routing order.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


Handler = Callable[[Any, Any], Any]


@dataclass
class Registry:
    text_routes: list[tuple[re.Pattern[str], Handler]] = field(default_factory=list)
    event_routes: dict[str, Handler] = field(default_factory=dict)
    menu_routes: dict[str, Handler] = field(default_factory=dict)
    message_routes: dict[str, Handler] = field(default_factory=dict)
    dialog_routes: dict[str, Handler] = field(default_factory=dict)
    event_reads: dict[str, Callable[[Any], list[str]]] = field(default_factory=dict)
    text_fallback: Handler | None = None

    def on_text(self, pattern: str, *, first: bool = False) -> Callable[[Handler], Handler]:
        """``first=True`` puts the route ahead of all others (it may still ``PASS``)."""
        compiled = re.compile(pattern)

        def register(handler: Handler) -> Handler:
            if first:
                self.text_routes.insert(0, (compiled, handler))
            else:
                self.text_routes.append((compiled, handler))
            return handler
        return register

    def on_event(self, event: str, *, reads: Callable[[Any], list[str]] | None = None,
                 ) -> Callable[[Handler], Handler]:
        """``reads(msg)``: string keys the handler GETs first; the webhook reads them in its own
        first round trip and hands the values over in ``ctx.prefetched``."""
        if reads is not None:
            self.event_reads[event.lower()] = reads
        return self._into(self.event_routes, event.lower())

    def on_menu(self, key: str) -> Callable[[Handler], Handler]:
        return self._into(self.menu_routes, key)

    def on_message(self, msg_type: str) -> Callable[[Handler], Handler]:
        """Non-text message types: image, voice, video, location, link..."""
        return self._into(self.message_routes, msg_type)

    def on_dialog(self, name: str) -> Callable[[Handler], Handler]:
        """The handler of an open multi-step dialog (state kept in Redis by bot.dialogs)."""
        return self._into(self.dialog_routes, name)

    def on_free_text(self, handler: Handler) -> Handler:
        if self.text_fallback is not None:
            raise ValueError("free-text fallback registered twice")
        self.text_fallback = handler
        return handler

    def _into(self, table: dict[str, Handler], name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in table:
                raise ValueError(f"handler for {name!r} registered twice")
            table[name] = handler
            return handler
        return register

    def candidates(self, msg: Any, dialog_name: str | None = None) -> Iterator[Handler]:
        """Every handler that could answer, in routing order."""
        if msg.type == "text":
            content = (msg.content or "").strip()
            for pattern, handler in self.text_routes:
                if pattern.search(content):
                    yield handler
            if dialog_name and dialog_name in self.dialog_routes:
                yield self.dialog_routes[dialog_name]
            if self.text_fallback is not None:
                yield self.text_fallback
            return
        if msg.type == "event":
            event = (msg.event or "").lower()
            found = (self.menu_routes.get(getattr(msg, "key", "") or "") if event == "click"
                     else self.event_routes.get(event))
        else:
            found = self.message_routes.get(msg.type)
        if found is not None:
            yield found

    def reads(self, msg: Any) -> list[str]:
        """The keys the handler of this event asked to have read for it (``on_event``)."""
        if msg.type != "event":
            return []
        found = self.event_reads.get((msg.event or "").lower())
        return found(msg) if found is not None else []

    def dispatch(self, msg: Any, ctx: Any, dialog_name: str | None = None) -> Any:
        """The first answer that is not ``PASS``; ``NOT_HANDLED`` when nothing answered."""
        for handler in self.candidates(msg, dialog_name):
            result = handler(msg, ctx)
            if result is not PASS:
                return result
        return NOT_HANDLED


# A handler returns PASS to let the next candidate answer (e.g. "1" is a warning answer only
# while the follower has an open warning).
PASS = object()
NOT_HANDLED = object()

registry = Registry()

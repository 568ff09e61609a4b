"""The one owner of the voice URL scheme: a call's state travels in the URLs Twilio calls back.

Every step of a call is stateless on the server: the node, the language, the misses so far and the
rest of `CallState` are written into the next URL (`/voice/input/main?lang=es&m=1`) and read back
from it. `url()` writes them; `UrlReader.read()` reads them back, validates every field and clamps
it to what the loaded line knows, so no handler ever sees an unknown node, language or key path.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode

if TYPE_CHECKING:
    from .model import Flow

#: The webhooks of a call, by what they answer.
START = "start"  # POST /voice: a call comes in
NODE = "node"  # arrive at a node
INPUT = "input"  # a key (or silence) at a node
DIALED = "dialed"  # a transfer's <Dial> ended
WHISPER = "whisper"  # the helper's leg, before the bridge
WHISPER_ANSWER = "whisper-answer"  # the helper's key after the whisper
CHECK = "check"  # a key after hearing that a transfer's helpers may not speak the caller's language
STATUS = "status"  # how the helper's leg ended (a status callback, not TwiML)
UNKNOWN = "unknown"  # any other URL under /voice: the caller hears an apology and a menu
#: The steps of a directory search, under /voice/dir/<node>/<step>.
DIR_ZIP, DIR_OFFER, DIR_AREA, DIR_AREA_KEY, DIR_RESULTS, DIR_AFTER = (
    "zip", "offer", "area", "area-key", "results", "after")
DIR_STEPS = (DIR_ZIP, DIR_OFFER, DIR_AREA, DIR_AREA_KEY, DIR_RESULTS, DIR_AFTER)
_NODE_STEPS = (NODE, INPUT, DIALED, WHISPER, CHECK)

AREA_KEYS = "123456789"  # keys of the county menu
MAX_AREA_DEPTH = 4
_AT = re.compile(r"^(z[0-9]{5}|c[A-Za-z][A-Za-z .'-]{0,39})$")  # a ZIP code, or a county's name


@dataclass(frozen=True)
class CallState:
    """Where a call is, as its URLs carry it."""

    step: str  # which webhook: START, NODE, INPUT, ... or "dir/<step>"
    node: str = ""  # node id
    lang: str = ""  # language code
    misses: int = 0  # silences and wrong keys in a row (`m`)
    to: str = ""  # destination id of a transfer
    origin: str = ""  # the node a transfer was chosen from (`from`), told to the helper
    path: str = ""  # keys pressed so far in the county menu
    at: str = ""  # where the caller is: "z04101" (ZIP code) or "cYork" (county)


def node_state(node: str, lang: str, misses: int = 0) -> CallState:
    return CallState(NODE, node, lang, misses)


def input_state(node: str, lang: str, misses: int = 0) -> CallState:
    return CallState(INPUT, node, lang, misses)


def dir_state(step: str, node: str, lang: str, misses: int = 0, path: str = "", at: str = "",
              origin: str = "") -> CallState:
    return CallState(f"dir/{step}", node, lang, misses, origin=origin, path=path, at=at)


def url(state: CallState) -> str:
    """The path and query Twilio calls back for `state` (absolute paths: a rendered step does not
    depend on the host, so it can be cached)."""
    node = quote(state.node, safe="")
    step = state.step
    if step in (NODE, INPUT):
        return f"/voice/{step}/{node}?{_query(lang=state.lang, m=state.misses)}"
    if step in (DIALED, WHISPER):
        return f"/voice/{step}/{node}?{_query(lang=state.lang, to=state.to, **{'from': state.origin})}"
    if step == CHECK:
        return f"/voice/{step}/{node}?{_query(lang=state.lang, m=state.misses, **{'from': state.origin})}"
    if step == WHISPER_ANSWER:
        return f"/voice/whisper-answer?{urlencode({'to': state.to})}"
    if step == STATUS:
        return f"/voice/status?{urlencode({'node': state.node, 'to': state.to})}"
    if step.startswith("dir/"):
        query = _query(lang=state.lang, path=state.path, m=state.misses, at=state.at, **{"from": state.origin})
        return f"/voice/dir/{node}/{step[4:]}?{query}"
    if step == START:
        return "/voice"
    raise ValueError(f"no URL for a {step!r} step")


def audio_url(lang: str, filename: str) -> str:
    return f"/audio/{quote(lang, safe='')}/{quote(filename, safe='')}"


def _query(lang: str, **fields: str | int) -> str:
    """`lang` first, then the fields that are set (a miss count of 0 is left out)."""
    return urlencode({"lang": lang, **{k: v for k, v in fields.items() if v not in ("", 0)}})


class UrlReader:
    """Reads the call's state back from a URL, checked against one loaded line."""

    def __init__(self, flow: Flow):
        self.flow = flow
        # A call's URLs repeat (node x language x misses), so each is read once. Bounded: the
        # values are clamped, but the query strings they come from are the caller's to vary.
        self._query = lru_cache(maxsize=4096)(self._read_query)

    def language(self, lang: str | None) -> str:
        """`lang` if the line speaks it, else the line's default language."""
        return lang if lang in self.flow.languages else self.flow.default_language

    def read(self, path: str, query: str) -> CallState:
        """The state of the URL `/voice/<path>?<query>` (path already percent-decoded)."""
        fields = self._query(query)
        step, node = self._step_and_node(path)
        if step == STATUS:
            node = fields["node"]
        if node and node not in self.flow.nodes:
            step, node = UNKNOWN, ""
        return CallState(step, node, fields["lang"], fields["m"], fields["to"], fields["from"],
                         fields["path"], fields["at"])

    @staticmethod
    def _step_and_node(path: str) -> tuple[str, str]:
        path = path.strip("/")
        if path == "":
            return START, ""
        head, _, rest = path.partition("/")
        if head in _NODE_STEPS and rest:
            return head, rest
        if head in (WHISPER_ANSWER, STATUS) and not rest:
            return head, ""
        if head == "dir":
            node, _, step = rest.rpartition("/")
            if node and step in DIR_STEPS:
                return f"dir/{step}", node
        return UNKNOWN, ""

    def _read_query(self, query: str) -> dict:
        raw = dict(parse_qsl(query))
        flow = self.flow
        try:
            misses = min(max(0, int(raw.get("m", "0"))), flow.max_misses - 1)
        except ValueError:
            misses = 0
        to, origin, at = raw.get("to", ""), raw.get("from", ""), raw.get("at", "")
        return {
            "node": raw.get("node", ""),  # only a status callback names its node in the query
            "lang": self.language(raw.get("lang")),
            "m": misses,
            "to": to if to in flow.destinations else "",
            "from": origin if origin in flow.nodes else "",
            "path": "".join(c for c in raw.get("path", "") if c in AREA_KEYS)[:MAX_AREA_DEPTH],
            "at": at if _AT.match(at) else "",
        }

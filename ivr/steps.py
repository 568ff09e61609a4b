"""What the line does next, decided once and rendered by every channel.

The navigator turns a call's state and the caller's input into a `Step`: prompts to say, input to
listen for (and where each answer leads), then a jump, a transfer, a text message or the end of the
call. A Step names no channel: the TwiML renderer turns it into a voice answer, the text renderer
into a transcript or a terminal rehearsal, the staff console into a phone in the browser.
"""
from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field, replace
from typing import Union

from .urls import CallState


@dataclass(frozen=True)
class Prompt:
    """One thing the caller hears, in one language, as the line speaks it."""

    text: str  # what is said; for a recording, what the recording says
    lang: str  # the line's language code, e.g. "pt_BR"
    tts_language: str | None = None  # text-to-speech language tag, e.g. "pt-BR"
    voice: str | None = None  # text-to-speech voice, e.g. "Polly.Camila-Neural"
    audio: str | None = None  # file under locales/<lang>/audio/ played instead of speech


#: How silence is taken at a listening step.
SILENCE_MISSES = "miss"  # counts towards the miss limit
SILENCE_REPEATS = "repeat"  # the step again, as often as needed (someone busy helping a person)
SILENCE_IGNORED = "ignored"  # no answer at all: the step goes on to `then`


@dataclass(frozen=True)
class Choice:
    """One answer a listening step understands, and where it leads."""

    key: str  # a keypad key; "zip" for a ZIP code typed in
    leads_to: str  # a node id, or a short description ("county York")
    prompt: Prompt | None = None  # the prompt that offers it, if it has its own
    everywhere: bool = False  # one of the keys that work in every menu


@dataclass(frozen=True)
class Listen:
    """Prompts said while listening for keys; an answer (or silence) goes to `state`."""

    state: CallState
    prompts: tuple[Prompt, ...]
    digits: int = 1  # keys to collect: 1 for a menu, 5 for a ZIP code
    timeout: int = 6  # seconds of silence before the answer is taken as given
    silence: str = SILENCE_MISSES
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Goto:
    """Go on to another step of the call."""

    state: CallState


@dataclass(frozen=True)
class Dial:
    """Connect the caller to a destination; how it ended is reported to `done`."""

    destination: str  # destination id
    number: str  # E.164
    done: CallState
    status: CallState  # where the helper's leg reports how it ended
    whisper: CallState | None = None  # what the helper hears before the bridge, if anything
    caller_id: str | None = None  # the number the helper's phone shows; None: the caller's
    timeout: int = 20


@dataclass(frozen=True)
class Hangup:
    """End the call."""


@dataclass(frozen=True)
class SendText:
    """Send the caller a text message, then go on with the step `sent` or `failed`.

    The channel performs the send (the only side effect a Step asks for), then renders one of them.
    """

    body: str
    key: str  # which list this is, so one call is sent each list once
    sent: Step
    failed: Step


Then = Union[Goto, Dial, Hangup, "SendText", None]


@dataclass(frozen=True)
class Step:
    """Say `say`, then listen (if `listen`), then `then`."""

    say: tuple[Prompt, ...] = ()
    listen: Listen | None = None
    then: Then = None
    # What happened, for the statistics (ivr.stats.events): counted by the channel, never rendered.
    events: tuple = field(default=(), compare=False)
    # Steps are cache keys (a rendered step is kept): hash the whole tree once, not per lookup.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.say, self.listen, self.then)))

    def __hash__(self) -> int:
        return self._hash

    def after(self, *prompts: Prompt) -> "Step":
        """This step with `prompts` said first ("Sorry, that is not an option." and the menu)."""
        return replace(self, say=prompts + self.say)

    def counting(self, *events) -> "Step":
        """This step, with `events` counted too (before its own). Events are no part of what a
        step is (or of its hash), so the copy keeps the hash: a keypress need not hash the tree."""
        counted = copy(self)
        object.__setattr__(counted, "events", events + self.events)
        return counted

    def prompts(self) -> tuple[Prompt, ...]:
        """Everything the caller hears in this step, in order."""
        return self.say + (self.listen.prompts if self.listen else ())

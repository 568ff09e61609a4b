"""A TwiML document that needs no server of ours: Twilio's "primary handler fails" fallback.

Pasted into a TwiML Bin or served from any static host, it is what a caller hears when the line's
own servers cannot answer: the start node's prompts (the 9 1 1 instruction, in the languages the
start node is spoken in), then the person transfer down its whole chain, then the chain's numbers
read out twice and goodbye. Every word and number comes from the navigator's Steps; this module
only writes them down, in the few verbs a document with no server behind it can use.
"""
from __future__ import annotations

from dataclasses import replace

from twilio.twiml.voice_response import VoiceResponse

from ..kinds import KINDS
from ..line import Line
from ..navigator import Given, Navigator, Visit
from ..steps import Dial, Prompt, Step
from ..urls import START, CallState

#: What the document may contain: no <Gather>, <Redirect> or <Play>, nothing that calls a URL.
VERBS = frozenset({"Response", "Say", "Dial", "Number"})
#: Enough for any real chain; a guard against a chain that never ends.
MAX_DIALS = 10


def always_open(line: Line) -> Line:
    """The line with no opening hours: a static document cannot know the hour it is used at, so
    it dials every destination of the chain in order, as the line does when all are open."""
    flow = line.flow
    destinations = {key: replace(dest, hours=None) for key, dest in flow.destinations.items()}
    return replace(line, flow=replace(flow, destinations=destinations))


def fallback_steps(line: Line, line_number: str = "") -> list[Step]:
    """The Steps a caller goes through when every dial fails: the start, the person transfer and
    each next destination, then the numbers and goodbye."""
    nav = Navigator(always_open(line), KINDS)
    flow = nav.flow
    person = flow.nodes[flow.person]
    visit = Visit(flow.default_language, line_number=line_number)
    steps = [nav.navigate(CallState(START), Given(line_number=line_number)), nav.person(visit, "")]
    while isinstance(steps[-1].then, Dial) and len(steps) <= MAX_DIALS:
        # What the line does when this destination does not answer: the next one, or the numbers.
        steps.append(nav.dialed(person, visit, steps[-1].then.destination, "no-answer", False))
    return steps


def spoken(response: VoiceResponse, prompt: Prompt) -> None:
    # A recording lives on our server: a document that must work without it speaks only text.
    if not prompt.audio:
        response.say(prompt.text, language=prompt.tts_language, voice=prompt.voice)


def fallback_twiml(line: Line, line_number: str = "") -> str:
    """The fallback TwiML document of `line`. With no <Dial action>, Twilio goes on to the next
    verb whenever a dial ends, so the chain is a row of <Dial>s and the numbers come last."""
    response = VoiceResponse()
    for step in fallback_steps(line, line_number):
        for prompt in step.prompts():
            spoken(response, prompt)
        if isinstance(step.then, Dial):
            dial = response.dial(timeout=step.then.timeout, answer_on_bridge=True, caller_id=step.then.caller_id)
            dial.number(step.then.number)
    return str(response)

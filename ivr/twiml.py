"""Steps as TwiML, the voice channel's answer to Twilio. Pure functions: no request, no decisions.

URLs are absolute paths (Twilio resolves `<Gather action>`, `<Redirect>`, `<Dial action>` and
`<Number url>` against the URL it called), except the status callback, which Twilio documents as
a full URL; a rendered step depends on nothing else and is cached: a call's steps repeat.
"""
from __future__ import annotations

from functools import lru_cache

from twilio.twiml.voice_response import VoiceResponse

from .steps import SILENCE_IGNORED, Dial, Goto, Hangup, Prompt, SendText, Step
from .urls import audio_url, url


def say(verb, prompt: Prompt) -> None:
    """Append one prompt to `verb` (a response or a gather) as <Say> or <Play>."""
    if prompt.audio:
        verb.play(audio_url(prompt.lang, prompt.audio))
    else:
        verb.say(prompt.text, language=prompt.tts_language, voice=prompt.voice)


@lru_cache(maxsize=4096)
def render(step: Step, base: str = "") -> str:
    """The TwiML document of `step`. `base` is the line's public address: Twilio takes the
    `<Number statusCallback>` only as an absolute URL (its other URLs may be relative)."""
    response = VoiceResponse()
    for prompt in step.say:
        say(response, prompt)
    listen = step.listen
    if listen is not None:
        gather = response.gather(num_digits=listen.digits, action=url(listen.state), timeout=listen.timeout,
                                 action_on_empty_result=True if listen.silence != SILENCE_IGNORED else None)
        for prompt in listen.prompts:
            say(gather, prompt)
    then = step.then
    if isinstance(then, Goto):
        response.redirect(url(then.state), method="POST")
    elif isinstance(then, Dial):
        dial = response.dial(action=url(then.done), timeout=then.timeout, answer_on_bridge=True,
                             caller_id=then.caller_id)
        dial.number(then.number, url=url(then.whisper) if then.whisper else None,
                    status_callback=base + url(then.status), status_callback_event="completed")
    elif isinstance(then, Hangup):
        response.hangup()
    elif isinstance(then, SendText):
        raise ValueError("a text message is sent by the channel before the step is rendered")
    return str(response)

"""Generate a line of N nodes in 6 languages (YAML menus and .po catalogs), for scale benchmarks."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

LANGS = {"en": ("en-US", "Polly.Joanna-Neural"), "es": ("es-US", "Polly.Lupe-Neural"),
         "fr": ("fr-CA", "Polly.Gabrielle-Neural"), "pt_BR": ("pt-BR", "Polly.Camila-Neural"),
         "ar": ("ar-XA", "Google.ar-XA-Wavenet-A"), "vi": ("vi-VN", "Google.vi-VN-Wavenet-A")}


def translated(text: str, code: str) -> str:
    """A stand-in translation; for Arabic, in Arabic script (the line refuses Latin letters in a
    language written in another script), its {placeholders} kept."""
    if code != "ar":
        return f"[{code}] {text}"
    return re.sub(r"\{[^}]*\}|[A-Za-z]", lambda m: m.group() if m.group().startswith("{") else "ب", text)


def generate(root: Path, nodes: int) -> Path:
    """A tree of menus: each menu has up to 8 children; leaves are messages back to their menu."""
    (root / "menus").mkdir(parents=True, exist_ok=True)
    texts: list[str] = []

    def say(text: str) -> str:
        texts.append(text)
        return '"' + text + '"'

    out = ["line:", "  name: Generated line", "  start: language", "  person: person",
           "  goodbye: goodbye", "  default_language: en", "  languages:"]
    for key, (code, (lang, voice)) in enumerate(LANGS.items(), 1):
        out += [f"    {code}:", f"      key: {key}", f"      name: {code}",
                f'      choose: "Language {code}, press {key}."', f"      say_language: {lang}",
                f"      voice: {voice}"]
    out += ["  keys:", f'    "0": {{action: person, say: {say("For a person, press 0.")}}}',
            f'    "9": {{action: repeat, say: {say("To repeat, press 9.")}}}',
            f'    "*": {{action: back, say: {say("To go back, press star.")}}}', "  phrases:"]
    for name in ("not_an_option", "error", "not_connected", "trying_next", "closed"):
        out.append(f"    {name}: {say(f'Phrase {name}.')}")
    out.append(f'    opens: {say("It opens {day} at {time}.")}')
    out += ["nodes:", "  language: {type: language, next: n0}",
            f"  person: {{type: transfer, say: {say('Connecting you.')}, to: helpline}}",
            f"  goodbye: {{type: goodbye, say: {say('Goodbye.')}}}"]
    menus = max(1, (nodes - 3) // 8)
    count = 3
    for m in range(menus):
        children = []
        for k in range(1, 9):
            child = m * 8 + k
            if count >= nodes:
                break
            children.append((k, child))
            count += 1
        out.append(f"  n{m}:")
        out.append("    type: menu")
        out.append(f"    say: {say(f'Menu number {m}. Choose one.')}")
        out.append("    options:")
        for k, child in children:
            out.append(f"      {k}: {{say: {say(f'For item {child} of menu {m}, press {k}.')}, goto: n{child}}}")
        if m == 0:
            out.append(f'      "#": {{say: {say("To end the call, press pound.")}, goto: goodbye}}')
        count += 1 if m == 0 else 0
    # Nodes that are not menus are messages back to their parent menu.
    defined = {f"n{m}" for m in range(menus)}
    for m in range(menus):
        for k in range(1, 9):
            child = m * 8 + k
            if f"n{child}" not in defined and child < count:
                out.append(f"  n{child}: {{type: message, say: {say(f'Message {child}: call {{helpline}}.')}, next: n{m}}}")
                defined.add(f"n{child}")
    out += ["destinations:", "  helpline:", f"    name: {say('the helpline')}",
            '    number: "+18668115695"', "    source: generated for a benchmark", "    status: firm",
            "    answered_by: service"]
    (root / "menus" / "line.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")
    for code in LANGS:
        if code == "en":
            continue
        catalog = Catalog(locale=code)
        for text in dict.fromkeys(texts):
            catalog.add(text, translated(text, code))
        folder = root / "locales" / code / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "messages.po").open("wb") as handle:
            write_po(handle, catalog)
    return root


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))

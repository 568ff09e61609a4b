"""Call statistics: counts of what callers need, with nothing about who they are.

The webhooks build events (`ivr.stats.events`) and hand them to `Statistics.record`, which only
counts in memory; a writer thread stores the counts (SQLite or PostgreSQL). `ivr.stats.report`
turns them into tables where small numbers stay hidden. docs/statistics.md is the privacy note.
"""
from __future__ import annotations

from .events import (CallAnswered, CallEnded, DirectorySearch, Event, KeyMissed, LanguageChosen,
                     MenuReached, TextMessage, TransferEnded, TransferTried)
from .recorder import NoStatistics, Recorder, Statistics

#: The default database: a SQLite file in the working directory, nothing to set up.
DEFAULT_URL = "sqlite:///ivr-stats.sqlite3"

__all__ = ["DEFAULT_URL", "CallAnswered", "CallEnded", "DirectorySearch", "Event", "KeyMissed",
           "LanguageChosen", "MenuReached", "NoStatistics", "Recorder", "Statistics",
           "TextMessage", "TransferEnded", "TransferTried"]

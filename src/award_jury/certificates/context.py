"""What a certificate shows, as plain values (never database objects), and the pure rules for
who earns which kind of certificate (SPEC §4).

A :class:`CertificateContext` is what the template sees and what crosses into the render
processes (it pickles cheaply): strings, numbers and tuples only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from award_jury.enums import CertificateKind

#: Orientation of the page: A4 landscape (default) or portrait.
LANDSCAPE = "landscape"
PORTRAIT = "portrait"
ORIENTATIONS = (LANDSCAPE, PORTRAIT)
#: Highest kind first: with ``--kind all`` an entry gets the first kind it earned.
KIND_ORDER = (CertificateKind.WINNER, CertificateKind.FINALIST, CertificateKind.PARTICIPANT)
MAX_SIGNATORIES = 3


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str = ""
    #: A ``data:image/png;base64,…`` URI, or "" for a signature line only.
    signature: str = ""


@dataclass(frozen=True)
class CertificateContext:
    """One certificate, ready for the template. Every text is plain (the template escapes it)."""

    lang: str
    kind: str
    award: str
    category: str
    startup: str
    round: str
    #: "1. Platz" / "1st place" for winners, "" otherwise.
    place: str
    #: The organiser's text for this kind, already rendered in the sandbox (plain text).
    text: str
    #: "Berlin, 3. Dezember 2026" – the place and date line.
    date_line: str
    code: str
    verify_url: str
    #: The QR code of ``verify_url`` as a ``data:image/svg+xml`` URI.
    qr: str
    colour: str
    colour_text: str
    logo: str = ""
    signatories: tuple[Signatory, ...] = ()
    orientation: str = LANDSCAPE
    #: A preview carries a watermark and no real code.
    preview: bool = False


@dataclass(frozen=True)
class Earned:
    """An entry's certificate in a round: its kind and (for winners) its place."""

    ref: str
    kind: CertificateKind
    rank: int | None
    category: str
    startup: str


def earned_certificates(document: Mapping[str, Any], *, first_round: bool) -> list[Earned]:
    """Each entry of a round's results document (SPEC §3 shape) with the highest kind it earned:
    ``winner`` when marked winner, ``finalist`` for the other ranked entries of a round that is
    not the award's first, ``participant`` for everyone else. In the document's order."""
    earned = []
    for category in document.get("categories", []):
        for entry in category.get("entries", []):
            if entry.get("winner"):
                kind, rank = CertificateKind.WINNER, entry.get("rank")
            elif entry.get("rank") is not None and not first_round:
                kind, rank = CertificateKind.FINALIST, entry.get("rank")  # shown on /verify (SPEC §4)
            else:
                kind, rank = CertificateKind.PARTICIPANT, None
            earned.append(Earned(entry["ref"], kind, rank, category["category"], entry.get("startup", "")))
    return earned


def select_kind(earned: Iterable[Earned], kind: str) -> list[Earned]:
    """The certificates of one kind, or of every kind with ``"all"``."""
    if kind == "all":
        return list(earned)
    return [e for e in earned if e.kind.value == kind]


def place_label(rank: int, lang: str) -> str:
    """``1. Platz`` in German; ``1st place``, ``2nd place``, ``11th place`` in English."""
    if lang == "de":
        return f"{rank}. Platz"
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix} place"

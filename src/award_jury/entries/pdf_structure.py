"""The costly part of the pitch deck check, importable alone (pypdf, nothing of the web stack):
``python -m award_jury.entries.pdf_structure MAX_PAGES PARENT_PID`` is the child process that
``deck_check`` runs it in. Protocol: the child prints ``ready``, reads the PDF from stdin to its
end, prints its code (``ok`` or a code of :func:`pdf_structure_problem`)."""

from __future__ import annotations

import contextlib
import io
import resource
import sys

from pypdf import PdfReader

#: A pitch deck has at most this many pages (a deck of slides; the check refuses more).
MAX_DECK_PAGES = 300
#: Address space of a check process (the deck itself is at most ``max_upload_bytes``).
MEMORY_BUDGET = 1024 * 1024 * 1024


def pdf_structure_problem(data: bytes, max_pages: int = MAX_DECK_PAGES) -> str | None:
    """The file must open as a PDF with 1 to ``max_pages`` pages. Returns a code ("encrypted",
    "unreadable", "no-pages", "too-many-pages"; ``validators.deck_message`` words it), or None.
    Untrusted bytes can make the parser slow (a page tree of 100,000 leaves): the web app runs
    this in a child process with a time limit (``deck_check``)."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return "encrypted"
        declared = reader.root_object["/Pages"].get_object().get("/Count", 0)  # type: ignore[union-attr]
        if isinstance(declared, int) and declared > max_pages:
            return "too-many-pages"  # said by the file itself: refused before walking its page tree
        pages = len(reader.pages)  # walks the whole page tree (the declared count may lie)
    except Exception:  # any failure of the parser on untrusted bytes means "cannot be opened"
        return "unreadable"
    if pages < 1:
        return "no-pages"
    if pages > max_pages:
        return "too-many-pages"
    return None


def main(argv: list[str]) -> None:
    max_pages, parent_pid = int(argv[0]), int(argv[1])
    from award_jury.children import die_with_parent

    die_with_parent(parent_pid)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BUDGET, MEMORY_BUDGET))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    data = sys.stdin.buffer.read()
    sys.stdout.write((pdf_structure_problem(data, max_pages) or "ok") + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])

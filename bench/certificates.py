"""Benchmark: 500 certificates into one print-ready PDF (issue "Certificates").

Both measurements use the same pipeline as the web page and `award-jury certificates`:
parts of PART_SIZE pages rendered in the shared process pool (one process per core), each
part a PDF/A-3b, then merged. They differ only in the document:
  certificates - the real template: logo-free award, two signatories, a QR code, a text
  floor        - the same number of pages of a minimal document with the same fonts
                 (one serif and one sans line a page): WeasyPrint's floor on this machine
The pool is warmed first (processes spawned, WeasyPrint and the fonts loaded), so neither
figure pays for start-up. Reports certificates per second and the ratio certificates / floor.
Run: uv run python bench/certificates.py [--count 500] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from award_jury.certificates import jobs
from award_jury.certificates.context import CertificateContext, Signatory, place_label
from award_jury.certificates.render import DocumentMeta, html_to_pdf, merge_pdfs
from award_jury.certificates.services import qr_data_uri

FONT_FACES = """
@font-face { font-family: "AwardSerif"; src: url("fonts/EBGaramond12-Regular.ttf"); }
@font-face { font-family: "AwardSans"; src: url("fonts/Lato-Regular.ttf"); }
@page { size: A4 landscape; margin: 20mm; }
section { page-break-after: always; }
.s { font-family: "AwardSerif"; font-size: 30pt; }
.t { font-family: "AwardSans"; font-size: 11pt; }
"""


def contexts(count: int, seed: int = 8) -> list[CertificateContext]:
    rng = random.Random(seed)
    words = ["Straßen", "Quell", "Wächter", "Daten", "Stadt", "Klar", "Bürger", "Netz", "Grün", "Amt"]
    out = []
    for i in range(count):
        name = "".join(rng.sample(words, 2)) + rng.choice([" GmbH", " AG", " UG", " eG"])
        code = f"{i:04d}-M9XD-4TZP-C8WA"
        url = f"https://awards.example.org/verify/{code}"
        winner = i % 10 == 0
        out.append(
            CertificateContext(
                lang="de", kind="winner" if winner else "participant", award="Smart Country Startup Award 2026",
                category=rng.choice(["Smart City", "GovTech"]), startup=name, round="Finale",
                place=place_label(1 + i % 3, "de") if winner else "",
                text="Vielen Dank für die Teilnahme und dafür, dass Sie Ihre Idee mit der Jury geteilt haben.",
                date_line="Berlin, 3. Dezember 2026", code=code, verify_url=url, qr=qr_data_uri(url),
                colour="#0b5394", colour_text="#ffffff",
                signatories=(Signatory("Dr. Anna Beispiel", "Vorsitzende der Jury"),
                             Signatory("Max Mustermann", "Geschäftsführer")),
            )
        )  # fmt: skip
    return out


def minimal_part(names: Sequence[str], out: str) -> int:
    """Runs in the pool: the floor's part, one minimal page per name, same fonts, same PDF/A."""
    pages = "".join(f'<section><p class="s">{n}</p><p class="t">{n}</p></section>' for n in names)
    html = f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Floor</title><style>{FONT_FACES}</style></head><body>{pages}</body></html>'  # noqa: E501
    jobs.atomic_write(Path(out), html_to_pdf(html))
    return len(names)


def merge(parts: Sequence[str], out: str) -> int:
    jobs.atomic_write(Path(out), merge_pdfs([Path(p).read_bytes() for p in parts]))
    return 0


async def floor(names: list[str], folder: Path) -> float:
    loop = asyncio.get_running_loop()
    executor = jobs.pool()
    started = time.perf_counter()
    parts = [names[i : i + jobs.PART_SIZE] for i in range(0, len(names), jobs.PART_SIZE)]
    paths = [str(folder / f"floor-{i}.pdf") for i in range(len(parts))]
    pending = [loop.run_in_executor(executor, minimal_part, p, o) for p, o in zip(parts, paths, strict=True)]
    await asyncio.gather(*pending)
    await loop.run_in_executor(executor, merge, paths, str(folder / "floor.pdf"))
    return time.perf_counter() - started


async def certificates(items: list[CertificateContext], folder: Path, run: int) -> float:
    meta = DocumentMeta("Urkunden – Benchmark", "Smart Country Startup Award 2026", "de")
    started = time.perf_counter()
    await jobs.render_parts(items, meta, folder / f"work-{run}", folder / f"certificates-{run}.pdf")
    return time.perf_counter() - started


async def main(count: int, repeat: int) -> None:
    items = contexts(count)
    names = [c.startup for c in items]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workers = jobs.pool()._max_workers  # type: ignore[attr-defined]
        await floor(names[: 2 * workers], folder)  # warm every process: spawn, imports, fonts
        await certificates(items[: 2 * workers], folder, -1)
        floors, certs = [], []
        for run in range(repeat):
            floors.append(await floor(names, folder))
            certs.append(await certificates(items, folder, run))
        size = (folder / "certificates-0.pdf").stat().st_size
    jobs.shutdown_pool()
    best_floor, best_certs = min(floors), min(certs)
    print(f"{count} certificates, {os.cpu_count()} cores, {workers} render processes, parts of {jobs.PART_SIZE}")
    print(f"floor (minimal pages, same fonts): best {best_floor:.2f} s  ({count / best_floor:.1f} pages/s)")
    print(f"certificates:                      best {best_certs:.2f} s  ({count / best_certs:.1f} certificates/s)")
    print(f"ratio certificates / floor: {best_certs / best_floor:.2f}   PDF size {size / 1024:.0f} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.repeat))

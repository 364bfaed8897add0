"""Certificates with the database: kinds from the finalised snapshot, codes kept on reissue,
revocation, /verify in de and en, batches through the process pool, a startup's own download,
the settings form, `award-jury certificates` and its usage errors, and a render pool that
recovers from a killed process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from award_jury.accounts.services import get_or_create_person
from award_jury.audit.models import AuditEvent
from award_jury.awards.services import get_award
from award_jury.bundle.services import import_bundle
from award_jury.certificates import jobs, services
from award_jury.certificates.controllers import render_in_pool
from award_jury.certificates.models import Certificate, CertificateJob
from award_jury.db import Database
from award_jury.entries.models import Entry, EntryMember
from award_jury.entries.storage import storage_for
from award_jury.ranking.services import finalise_round
from award_jury.settings import Settings
from tests.support.accounts import make_organiser, page_token, post_form, sign_in_as
from tests.support.apps import app_client, shared_app
from tests.support.cli import cli_env, run_cli
from tests.support.confirm import EN, open_confirmation
from tests.support.factories import small_bundle
from tests.support.pdf import fonts, page_texts, reader, xmp

SLUG = "mini-award"


def bundle() -> dict[str, Any]:
    """Smart City: E002 wins (one sheet), E001 has no sheet (participant); GovTech: E003 and E004
    ranked, two prizes; E005 withdrawn (no certificate)."""
    doc = small_bundle()
    doc["jurors"][0]["categories"] = ["smart-city", "govtech"]
    for ref, cat, name, status in [
        ("E003", "govtech", "Dritte GmbH", "submitted"),
        ("E004", "govtech", "Vierte AG", "submitted"),
        ("E005", "govtech", "Fünfte eG", "withdrawn"),
    ]:
        doc["entries"].append(
            {
                "ref": ref,
                "category": cat,
                "status": status,
                "startup": {"name": name},
                "contact": {"email": f"{ref.lower()}@example.org", "name": name},
                "title": "t",
                "pitch": "p",
                "rounds": ["pre-selection"],
                "attachments": [],
            }
        )
    for ref, score in [("E003", 9), ("E004", 4)]:
        doc["sheets"].append(
            {
                "juror": "j.doe@example.org",
                "entry": ref,
                "round": "pre-selection",
                "status": "submitted",
                "scores": {"innovation": score, "impact": 5},
            }
        )
    return doc


async def finalised_award(db: Database, doc: dict[str, Any] | None = None) -> None:
    async with db.session() as s:
        award = await import_bundle(s, doc or bundle())
        award = await get_award(s, award.slug)
        await finalise_round(s, award, award.rounds[0], None, "test", override_reason="test data: some sheets missing")


async def issue(db: Database, kind: str = "all") -> list[Certificate]:
    async with db.session() as s:
        award = await get_award(s, SLUG)
        return await services.issue_certificates(s, award, award.rounds[0], kind, None, "test")


async def test_kinds_and_places_come_from_the_finalised_snapshot(db: Database) -> None:
    await finalised_award(db)
    certs = await issue(db)
    async with db.session() as s:
        refs = dict((await s.execute(sa.select(Entry.id, Entry.ref))).all())
    got = sorted((refs[c.entry_id], c.kind.value, c.rank) for c in certs)
    assert got == [("E001", "participant", None), ("E002", "winner", 1), ("E003", "winner", 1), ("E004", "winner", 2)]
    assert [refs[c.entry_id] for c in await issue(db, "participant")] == ["E001"]


async def test_issuing_needs_a_finalised_round(db: Database) -> None:
    async with db.session() as s:
        await import_bundle(s, bundle())
    with pytest.raises(services.DomainError, match="not finalised"):
        await issue(db)


async def test_reissuing_keeps_codes_and_codes_are_unique(db: Database) -> None:
    await finalised_award(db)
    first = {c.entry_id: c.code for c in await issue(db)}
    again = {c.entry_id: c.code for c in await issue(db)}
    assert first == again
    assert len(set(first.values())) == len(first)
    assert all(re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code) for code in first.values())
    async with db.session() as s:
        events = await s.execute(sa.select(AuditEvent.action).where(AuditEvent.action == "certificates.issued"))
        assert len(events.all()) == 1  # the reissue issued nothing new


@pytest.fixture
async def organiser_client(db: Database, settings: Settings) -> Any:
    app = shared_app(settings, db)
    async with app_client(app) as client:
        person_id = await make_organiser(db)
        await sign_in_as(client, db, settings, person_id)
        yield client


async def test_verify_page_in_german_and_english_and_revocation(
    db: Database, client: httpx.AsyncClient, organiser_client: httpx.AsyncClient
) -> None:
    await finalised_award(db)
    certs = await issue(db)
    winner = next(c for c in certs if c.rank == 2)
    en = await client.get(f"/verify/{winner.code}", headers={"accept-language": "en"})
    assert en.status_code == 200
    for text in ("Certificate verified", "Mini Award", "GovTech", "Vierte AG", "Winner", "Pre-selection"):
        assert text in en.text
    assert re.search(r"<dt>Place</dt><dd>2</dd>", en.text)
    de = await client.get(f"/verify/{winner.code.lower().replace('-', '')}", headers={"accept-language": "de"})
    assert de.status_code == 200 and "Urkunde bestätigt" in de.text and "Gewinner" in de.text

    token = await page_token(organiser_client, f"/awards/{SLUG}/certificates/rounds/pre-selection")
    revoke = f"/awards/{SLUG}/certificates/{winner.id}/revoke"
    page = await open_confirmation(organiser_client, revoke)
    refused = await organiser_client.post(revoke, data={**page.fields, "reason": ""}, headers=EN)
    assert refused.status_code == 400 and "Write down why the certificate is revoked." in refused.text
    revoked = await organiser_client.post(
        revoke, data={**page.fields, "reason": "Entry disqualified after the event"}, headers=EN
    )
    assert revoked.status_code == 303
    page = await client.get(f"/verify/{winner.code}", headers={"accept-language": "en"})
    assert page.status_code == 200 and "Certificate revoked" in page.text and "was revoked on" in page.text
    de = await client.get(f"/verify/{winner.code}", headers={"accept-language": "de"})
    assert "Urkunde widerrufen" in de.text and "widerrufen" in de.text
    assert "disqualified" not in page.text  # the reason stays with the organisers
    # a revoked certificate is left out of batches and keeps its code when made valid again
    assert winner.id not in {c.id for c in await issue(db)}
    again = await post_form(organiser_client, f"/awards/{SLUG}/certificates/{winner.id}/reinstate", {}, token=token)
    assert again.status_code == 303
    assert winner.code in {c.code for c in await issue(db)}
    async with db.session() as s:
        actions = (await s.execute(sa.select(AuditEvent.action))).scalars().all()
    assert "certificate.revoked" in actions and "certificate.reinstated" in actions


@pytest.mark.parametrize("code", ["0000-0000-0000-0000", "nonsense", "<script>alert(1)", "x" * 300])
async def test_unknown_codes_answer_not_found(db: Database, client: httpx.AsyncClient, code: str) -> None:
    response = await client.get(f"/verify/{code}", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert "Not found" in response.text and "<script>alert" not in response.text
    typed = await client.get("/verify", params={"code": code}, headers={"accept-language": "de"}, follow_redirects=True)
    assert typed.status_code == 404 and "Nicht gefunden" in typed.text


async def test_verify_form_redirects_a_typed_code(db: Database, client: httpx.AsyncClient) -> None:
    assert (await client.get("/verify")).status_code == 200
    response = await client.get("/verify", params={"code": "7kq2 m9xd 4tzp c8wa"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/verify/7KQ2-M9XD-4TZP-C8WA")


async def test_batch_runs_in_the_pool_with_progress_and_one_page_per_certificate(
    db: Database, settings: Settings, organiser_client: httpx.AsyncClient
) -> None:
    await finalised_award(db)
    token = await page_token(organiser_client, f"/awards/{SLUG}/certificates/rounds/pre-selection")
    response = await post_form(
        organiser_client, f"/awards/{SLUG}/certificates/rounds/pre-selection/generate", {"kind": "winner"}, token=token
    )
    assert response.status_code == 303
    job_url = response.headers["location"]
    await asyncio.gather(*list(jobs.RUNNING.values()))
    status = (await organiser_client.get(job_url + "/status")).json()
    assert status | {"id": 0} == {"id": 0, "status": "done", "done": 3, "total": 3, "percent": 100}
    page = await organiser_client.get(job_url)
    assert page.status_code == 200 and "Download the PDF" in page.text
    pdf = await organiser_client.get(job_url + "/download")
    assert pdf.headers["content-type"] == "application/pdf"
    texts = page_texts(pdf.content)
    assert len(texts) == 3
    async with db.session() as s:
        codes = {c.code for c in (await s.execute(sa.select(Certificate))).scalars()}
    flat = [" ".join(t.split()) for t in texts]
    assert {code for code in codes if any(code in t for t in flat)} == codes
    assert ["Zweite AG" in flat[0], "Dritte GmbH" in flat[1], "Vierte AG" in flat[2]] == [True, True, True]
    assert "1st place" in flat[0].lower() and "2nd place" in flat[2].lower()
    assert all(fonts(pdf.content).values())
    assert 'pdfaid:part="3"' in xmp(pdf.content)
    # generating the same again returns the finished job, nothing is rendered twice
    again = await post_form(
        organiser_client, f"/awards/{SLUG}/certificates/rounds/pre-selection/generate", {"kind": "winner"}, token=token
    )
    assert again.headers["location"] == job_url and not jobs.RUNNING
    assert not list((settings.data_dir / "certificates").glob("**/.part-*"))


async def test_a_crashed_job_is_completed_by_a_rerun(db: Database, settings: Settings) -> None:
    await finalised_award(db)
    async with db.session() as s:
        award = await get_award(s, SLUG)
        job, needs_run = await jobs.start_job(s, settings, award, award.rounds[0], "all", None)
        assert needs_run
        job_id = job.id
        certificates = await services.issue_certificates(s, award, award.rounds[0], "all", None)
        storage = storage_for(settings)
        rnd = award.rounds[0]
        contexts, meta = await services.issued_contexts(s, award, rnd, "all", certificates, storage, settings.base_url)
    # the first part was written before the "crash"; a half-written temporary file is left over
    folder = jobs.work_dir(settings, job_id)
    parts = jobs.parts_of(contexts, 2)
    folder.mkdir(parents=True)
    first = folder / f"part-00000-{jobs.fingerprint(parts[0], meta)[:16]}.pdf"
    jobs.render_to_file(parts[0], meta, str(first))
    (folder / ".part-crashed.tmp").write_bytes(b"%PDF-1.7 half")
    seen: list[tuple[int, int]] = []
    original = jobs.PART_SIZE
    jobs.PART_SIZE = 2
    try:
        # the same job again: started anew because nobody runs it, its first part is kept
        async with db.session() as s:
            award = await get_award(s, SLUG)
            await s.execute(sa.update(CertificateJob).values(updated_at=jobs.utcnow() - jobs.STALE_AFTER * 2))
            resumed, needs_run = await jobs.start_job(s, settings, award, award.rounds[0], "all", None)
        assert (resumed.id, needs_run) == (job_id, True)
        key = await jobs.run_job(db, settings, job_id, lambda done, total: seen.append((done, total)))
    finally:
        jobs.PART_SIZE = original
    assert seen[0] == (2, 4)  # two certificates were done before the rerun started
    assert seen[-1] == (4, 4)
    assert len(reader(await storage_for(settings).get(key)).pages) == 4
    assert not folder.exists()


async def test_startup_downloads_its_own_certificate_once_published(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await finalised_award(db)
    await issue(db)
    async with db.session() as s:
        entry = (await s.execute(sa.select(Entry).where(Entry.ref == "E002"))).scalar_one()
        # the bundle made each entry's contact a member of it
        member = await get_or_create_person(s, "hallo@zweite.example", "Erika Muster")
        stranger = await get_or_create_person(s, "team@example.org", "Max Muster")  # E001's contact
        members = (await s.execute(sa.select(EntryMember.person_id).where(EntryMember.entry_id == entry.id))).all()
        assert [(member.id,)] == [tuple(m) for m in members]
        entry_id, member_id, stranger_id = entry.id, member.id, stranger.id
    url = f"/entries/{entry_id}/certificate"
    anonymous = await client.get(url, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    await sign_in_as(client, db, settings, stranger_id)
    assert (await client.get(url)).status_code == 404
    await sign_in_as(client, db, settings, member_id)
    assert (await client.get(url)).status_code == 404  # not published yet
    assert url not in (await client.get(f"/entries/{entry_id}")).text
    async with db.session() as s:
        award = await get_award(s, SLUG)
        award.rounds[0].published_at = jobs.utcnow()
    status_page = (await client.get(f"/entries/{entry_id}", headers={"accept-language": "en"})).text
    assert f'href="{url}"' in status_page and "Download your certificate" in status_page
    response = await client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = " ".join(page_texts(response.content)[0].split())
    assert "Zweite AG" in text and "1st place" in text.lower()
    assert (await client.get("/entries/999999/certificate")).status_code == 404


async def test_settings_form_checks_signatures_and_texts(
    db: Database, settings: Settings, organiser_client: httpx.AsyncClient
) -> None:
    await finalised_award(db)
    url = f"/awards/{SLUG}/certificates"
    token = await page_token(organiser_client, url)
    data = {
        "_csrf_token": token,
        "orientation": "portrait",
        "place_name": "Berlin",
        "text_winner": "{{ ''.__class__.__mro__ }}",
        "signatory1_name": "Dr. Anna Beispiel",
        "signatory1_role": "Jury",
    }
    files = {"signatory1_signature": ("sig.png", b"GIF89a not a png", "image/png")}
    bad = await organiser_client.post(url + "/settings", data=data, files=files)
    assert bad.status_code == 400
    assert "must be a PNG image" in bad.text and "cannot be used" in bad.text
    png = (Path(__file__).parents[2] / "static" / "favicon.svg").read_bytes()  # not a PNG either
    assert png
    tiny_png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
    data["text_winner"] = 'Herzlichen Glückwunsch, {{ startup }}! <img src="file:///etc/passwd">'
    ok = await organiser_client.post(
        url + "/settings", data=data, files={"signatory1_signature": ("s.png", tiny_png, "image/png")}
    )
    assert ok.status_code == 303
    certs = await issue(db, "winner")
    async with db.session() as s:
        award = await get_award(s, SLUG)
        storage = storage_for(settings)
        contexts, meta = await services.issued_contexts(
            s, award, award.rounds[0], "winner", certs, storage, settings.base_url
        )
    assert meta.orientation == "portrait"
    assert contexts[0].signatories[0].signature.startswith("data:image/png;base64,")
    assert contexts[0].date_line.startswith("Berlin, ")
    from award_jury.certificates.render import render_pdf

    text = " ".join(page_texts(render_pdf(contexts[:1], meta))[0].split())
    assert 'Herzlichen Glückwunsch, Zweite AG! <img src="file:///etc/passwd">' in text


async def test_round_page_warns_about_characters_the_fonts_cannot_print(
    db: Database, organiser_client: httpx.AsyncClient
) -> None:
    doc = bundle()
    doc["entries"][0]["startup"]["name"] = "Rakete 🚀 GmbH"
    async with db.session() as s:
        await import_bundle(s, doc)  # not finalised: the preview follows the live ranking
    page = await organiser_client.get(f"/awards/{SLUG}/certificates/rounds/pre-selection")
    assert page.status_code == 200
    assert "1 certificate has characters" in page.text and "Cannot print: 🚀" in page.text
    assert "not finalised" in page.text
    preview = await organiser_client.get(f"/awards/{SLUG}/certificates/rounds/pre-selection/preview/E002")
    assert preview.headers["content-type"] == "application/pdf"
    assert "PREVIEW" in page_texts(preview.content)[0]
    refused = await post_form(
        organiser_client,
        f"/awards/{SLUG}/certificates/rounds/pre-selection/generate",
        {"kind": "all"},
        token=await page_token(organiser_client, "/"),
    )
    assert refused.status_code == 409


async def test_round_page_query_count_does_not_grow_with_entries(
    db: Database, organiser_client: httpx.AsyncClient, count_queries: Any
) -> None:
    doc = bundle()
    await finalised_award(db, doc)
    await issue(db)
    count_queries.statements.clear()
    await organiser_client.get(f"/awards/{SLUG}/certificates/rounds/pre-selection")
    few = count_queries.count
    async with db.session() as s:
        await s.execute(sa.delete(Certificate))
    doc2 = bundle()
    doc2["award"]["slug"] = "big-award"
    for i in range(30):
        doc2["entries"].append(
            {
                "ref": f"X{i:03d}",
                "category": "govtech",
                "status": "submitted",
                "startup": {"name": f"Startup {i}"},
                "contact": {"email": f"x{i}@example.org", "name": "X"},
                "title": "t",
                "pitch": "p",
                "rounds": ["pre-selection"],
                "attachments": [],
            }
        )
    await finalised_award(db, doc2)
    async with db.session() as s:
        award = await get_award(s, "big-award")
        await services.issue_certificates(s, award, award.rounds[0], "all", None)
    count_queries.statements.clear()
    await organiser_client.get("/awards/big-award/certificates/rounds/pre-selection")
    assert count_queries.count <= few + 2


@pytest.fixture
def env(make_database_url: Any, tmp_path: Path) -> dict[str, str]:
    return cli_env(
        make_database_url("cert", migrated=True), tmp_path / "var", AWARD_JURY_BASE_URL="https://awards.example.org"
    )


def test_cli_certificates_writes_one_pdf_and_split_files(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(), ensure_ascii=False), encoding="utf-8")
    assert run_cli(env, "import", str(path)).exit_code == 0
    refused = run_cli(env, "certificates", SLUG, "--out", str(tmp_path / "x.pdf"))
    assert refused.exit_code == 1 and "not finalised" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()
    assert run_cli(env, "finalise", SLUG, "--override-reason", "test data: some sheets missing").exit_code == 0
    assert run_cli(env, "certificates", SLUG, "--round", "nope", "--out", str(tmp_path / "x.pdf")).exit_code == 1
    assert run_cli(env, "certificates", SLUG).exit_code == 2  # neither --out nor --split: a usage error
    assert run_cli(env, "certificates", SLUG, "--kind", "loser", "--out", "x.pdf").exit_code == 2
    result = run_cli(env, "certificates", SLUG, "--kind", "all", "--out", str(tmp_path / "all.pdf"))
    assert result.exit_code == 0, result.output
    assert "certificates" in result.stderr  # the progress bar
    texts = [" ".join(t.split()) for t in page_texts((tmp_path / "all.pdf").read_bytes())]
    assert len(texts) == 4
    assert all("https://awards.example.org/verify/" in t.replace(" ", "") or "awards.example.org" in t for t in texts)
    split = run_cli(env, "certificates", SLUG, "--kind", "winner", "--split", str(tmp_path / "one-by-one"))
    assert split.exit_code == 0, split.output
    files = sorted(p.name for p in (tmp_path / "one-by-one").iterdir())
    assert len(files) == 3 and all(re.fullmatch(r"winner-E00[234]-[0-9A-Z-]{19}\.pdf", f) for f in files)
    codes_in_names = {f[12:31] for f in files}
    for f in (tmp_path / "one-by-one").iterdir():
        assert len(reader(f.read_bytes()).pages) == 1
    assert {c for c in codes_in_names if any(c in t for t in texts)} == codes_in_names  # same codes again


@pytest.fixture
def finalised(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(), ensure_ascii=False), encoding="utf-8")
    assert run_cli(env, "import", str(path)).exit_code == 0
    assert run_cli(env, "finalise", SLUG, "--override-reason", "test data: some sheets missing").exit_code == 0


def test_cli_certificates_without_or_with_both_outputs_is_a_usage_error(
    env: dict[str, str], tmp_path: Path, finalised: None
) -> None:
    neither = run_cli(env, "certificates", SLUG)
    assert neither.exit_code == 2, neither.output
    both = run_cli(env, "certificates", SLUG, "--out", str(tmp_path / "a.pdf"), "--split", str(tmp_path / "d"))
    assert both.exit_code == 2, both.output
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "d").exists()


def test_cli_certificates_names_an_output_it_cannot_write(env: dict[str, str], tmp_path: Path, finalised: None) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for args in (["--out", str(blocker / "all.pdf")], ["--split", str(blocker / "dir")]):
        result = run_cli(env, "certificates", SLUG, *args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert "database" not in lines[-1] and str(blocker) in lines[-1], lines


async def test_a_render_process_that_died_does_not_break_every_later_certificate(tmp_path: Path) -> None:
    """A render process killed (out of memory, a crash in a native library) breaks a
    ProcessPoolExecutor for good; the next preview, download or rerun must get a working pool."""
    from tests.unit.test_certificate_render import META, context

    loop = asyncio.get_running_loop()
    executor = jobs.pool()
    await loop.run_in_executor(executor, os.getpid)  # the processes exist
    for process in list(executor._processes.values()):  # type: ignore[attr-defined]
        process.kill()
    with pytest.raises(BrokenProcessPool):
        await loop.run_in_executor(executor, time.sleep, 0.1)
    out = await jobs.render_parts([context()], META, tmp_path / "work", tmp_path / "out.pdf")
    assert len(reader(out.read_bytes()).pages) == 1
    assert len(reader(await render_in_pool([context()], META)).pages) == 1

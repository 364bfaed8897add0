"""Validation of award bundles (SPEC §2). Pure: no database, no web.

:func:`validate_bundle` returns every problem, each with its JSON path, e.g.
``sheets[12].scores.impact: 11 is above the maximum 10``. An empty list means the
bundle can be imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from award_jury.accounts.validators import is_valid_email, normalise_email
from award_jury.enums import EntryStatus, Method, SheetStatus
from award_jury.formats import (
    COLOR,
    KEY,
    MAX_DECIMALS,
    MAX_MAGNITUDE,
    SLUG,
    ScaleProblem,
    ValueProblem,
    scale_problems,
    too_precise,
    value_problem,
)
from award_jury.i18n import plain_number

FORMAT = "award-jury/bundle@1"
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LOCALES = ("de", "en")

TOP_KEYS = {"format", "award", "organisers", "jurors", "entries", "conflicts", "sheets"}
AWARD_KEYS = {"slug", "name", "locale", "time_zone", "description", "primary_color", "categories", "rounds"}
CATEGORY_KEYS = {"slug", "name", "prizes", "description"}
ROUND_KEYS = {
    "slug",
    "name",
    "submissions_open",
    "submissions_close",
    "scoring_close",
    "method",
    "min_sheets",
    "criteria",
}
CRITERION_KEYS = {"key", "name", "description", "weight", "min", "max", "step", "levels"}
LEVEL_KEYS = {"min", "max", "text"}
JUROR_KEYS = {"email", "name", "categories"}
ORGANISER_KEYS = {"email", "name"}
ENTRY_KEYS = {
    "ref",
    "category",
    "status",
    "startup",
    "contact",
    "title",
    "pitch",
    "problem",
    "solution",
    "benefit",
    "stage",
    "video_url",
    "rounds",
    "attachments",
}
STARTUP_KEYS = {"name", "legal_form", "city", "founded", "employees", "website", "investors"}
CONTACT_KEYS = {"email", "name"}
ATTACHMENT_KEYS = {"name", "sha256", "size", "media_type"}
CONFLICT_KEYS = {"juror", "entry", "reason"}
SHEET_KEYS = {"juror", "entry", "round", "status", "scores", "comment"}


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number as an exact Decimal (None for anything that is not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def parse_datetime(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


def show(value: Any) -> str:
    """A value as it appears in a message: numbers plain, everything else as JSON-ish repr."""
    d = value if isinstance(value, Decimal) else to_decimal(value)
    if d is not None:
        return plain_number(d)
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else f'"{value[:57]}..."'
    return "null" if value is None else type(value).__name__


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def obj(self, value: Any, path: str, allowed: set[str], required: Iterable[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(path, f"must be an object, not {show(value)}")
            return None
        for key in sorted(set(value) - allowed):
            self.add(f"{path}.{key}" if path else key, "unknown key" if path else "unknown top-level key")
        for key in required:
            if key not in value:
                self.add(f"{path}.{key}" if path else key, "is required")
        return value

    def lst(self, value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            self.add(path, f"must be a list, not {show(value)}")
            return []
        if non_empty and not value:
            self.add(path, "must not be empty")
        return value

    def text(self, d: dict[str, Any], key: str, path: str, *, required: bool = True, max_len: int = 100_000) -> None:
        if key not in d:
            return
        value = d[key]
        if value is None and not required:
            return
        if not isinstance(value, str):
            self.add(f"{path}.{key}", f"must be a text, not {show(value)}")
        elif "\x00" in value:
            self.add(f"{path}.{key}", "contains a NUL character")
        elif required and not value.strip():
            self.add(f"{path}.{key}", "must not be empty")
        elif len(value) > max_len:
            self.add(f"{path}.{key}", f"is longer than {max_len} characters")

    def pattern(self, d: dict[str, Any], key: str, path: str, rx: re.Pattern[str], what: str, max_len: int) -> None:
        value = d.get(key)
        if key in d and (not isinstance(value, str) or len(value) > max_len or not rx.match(value)):
            self.add(f"{path}.{key}", f"{show(value)} is not a valid {what}")

    def integer(self, d: dict[str, Any], key: str, path: str, lo: int, hi: int, *, optional: bool = False) -> None:
        if key not in d or (optional and d[key] is None):
            return
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{path}.{key}", f"must be a whole number, not {show(value)}")
        elif not lo <= value <= hi:
            self.add(f"{path}.{key}", f"{value} is outside {lo}..{hi}")

    def number(self, value: Any, path: str) -> Decimal | None:
        d = to_decimal(value)
        if d is None:
            self.add(path, f"must be a number, not {show(value)}")
            return None
        if too_precise(d):
            self.add(path, f"{show(value)} has more than {MAX_DECIMALS} decimal places")
            return None
        if abs(d) >= MAX_MAGNITUDE:
            self.add(path, f"{show(value)} is too large")
            return None
        return d

    def choice(self, d: dict[str, Any], key: str, path: str, choices: Iterable[str]) -> None:
        options = list(choices)
        if key in d and d[key] not in options:
            self.add(f"{path}.{key}", f"{show(d[key])} is not one of {', '.join(options)}")

    def unique(self, items: list[Any], path: str, key: str, what: str, norm: Callable[[str], str] = str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get(key), str):
                value = norm(item[key])
                if value in seen:
                    self.add(f"{path}[{i}].{key}", f"{what} {show(item[key])} appears more than once")
                seen.add(value)
        return seen


def _check_datetime(c: _Checker, d: dict[str, Any], key: str, path: str) -> datetime | None:
    value = d.get(key)
    if value is None:
        return None
    dt = parse_datetime(value) if isinstance(value, str) else None
    if dt is None:
        c.add(f"{path}.{key}", f"{show(value)} is not a date-time with a UTC offset (e.g. 2023-08-31T23:59:59+02:00)")
    return dt


def _check_url(c: _Checker, d: dict[str, Any], key: str, path: str) -> None:
    value = d.get(key)
    if value is None:
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 500:
        c.add(f"{path}.{key}", f"{show(value)} is not an http(s) address")


class _Criterion:
    def __init__(self, key: str, lo: Decimal, hi: Decimal, step: Decimal) -> None:
        self.key, self.lo, self.hi, self.step = key, lo, hi, step

    def problem(self, value: Decimal) -> str | None:
        problem = value_problem(value, self.lo, self.hi, self.step)
        if problem is ValueProblem.BELOW:
            return f"{show(value)} is below the minimum {show(self.lo)}"
        if problem is ValueProblem.ABOVE:
            return f"{show(value)} is above the maximum {show(self.hi)}"
        if problem is ValueProblem.BETWEEN_STEPS:
            return f"{show(value)} is not on the scale (steps of {show(self.step)} from {show(self.lo)})"
        return None


def _check_criteria(c: _Checker, criteria: list[Any], path: str) -> dict[str, _Criterion]:
    out: dict[str, _Criterion] = {}
    c.unique(criteria, path, "key", "criterion key")
    for i, raw in enumerate(criteria):
        p = f"{path}[{i}]"
        cr = c.obj(raw, p, CRITERION_KEYS, ("key", "name", "weight", "min", "max", "step"))
        if cr is None:
            continue
        c.pattern(cr, "key", p, KEY, "criterion key (lower-case letters, digits, _)", 64)
        c.text(cr, "name", p, max_len=200)
        c.text(cr, "description", p, required=False)
        weight = c.number(cr["weight"], f"{p}.weight") if "weight" in cr else None
        if weight is not None and weight <= 0:
            c.add(f"{p}.weight", f"{show(weight)} must be greater than 0")
        lo = c.number(cr["min"], f"{p}.min") if "min" in cr else None
        hi = c.number(cr["max"], f"{p}.max") if "max" in cr else None
        step = c.number(cr["step"], f"{p}.step") if "step" in cr else None
        ok = lo is not None and hi is not None and step is not None
        if lo is not None and hi is not None and lo >= hi:
            c.add(f"{p}.max", f"{show(hi)} must be greater than the minimum {show(lo)}")
            ok = False
        if step is not None and step <= 0:
            c.add(f"{p}.step", f"{show(step)} must be greater than 0")
            ok = False
        if ok and ScaleProblem.STEP_NOT_DIVIDING in scale_problems(lo, hi, step):  # type: ignore[arg-type]
            c.add(f"{p}.step", f"{show(step)} does not divide the range {show(lo)}..{show(hi)}")
            ok = False
        if ok and isinstance(cr.get("key"), str):
            out[cr["key"]] = _Criterion(cr["key"], lo, hi, step)  # type: ignore[arg-type]
        for j, level in enumerate(c.lst(cr.get("levels", []), f"{p}.levels")):
            lp = f"{p}.levels[{j}]"
            lv = c.obj(level, lp, LEVEL_KEYS, ("min", "max", "text"))
            if lv is None:
                continue
            c.text(lv, "text", lp, max_len=2000)
            lmin = c.number(lv["min"], f"{lp}.min") if "min" in lv else None
            lmax = c.number(lv["max"], f"{lp}.max") if "max" in lv else None
            if lmin is not None and lmax is not None and lmin > lmax:
                c.add(f"{lp}.max", f"{show(lmax)} is below the level's minimum {show(lmin)}")
            if ok and lmin is not None and lmax is not None and (lmin < lo or lmax > hi):  # type: ignore[operator]
                c.add(lp, f"the level {show(lmin)}..{show(lmax)} lies outside the scale {show(lo)}..{show(hi)}")
    return out


def _check_award(c: _Checker, award: dict[str, Any]) -> tuple[set[str], dict[str, dict[str, _Criterion]]]:
    c.pattern(award, "slug", "award", SLUG, "slug (lower-case letters, digits and dashes)", 80)
    c.text(award, "name", "award", max_len=200)
    c.choice(award, "locale", "award", LOCALES)
    if "time_zone" in award:
        tz = award["time_zone"]
        try:
            valid = isinstance(tz, str) and bool(ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError):
            valid = False
        if not valid:
            c.add("award.time_zone", f"{show(tz)} is not a known time zone (e.g. Europe/Berlin)")
    c.text(award, "description", "award", required=False)
    if award.get("primary_color") is not None:
        c.pattern(award, "primary_color", "award", COLOR, "colour (#rrggbb)", 7)

    categories = c.lst(award.get("categories", []), "award.categories", non_empty=True)
    category_slugs = c.unique(categories, "award.categories", "slug", "category slug")
    for i, raw in enumerate(categories):
        p = f"award.categories[{i}]"
        cat = c.obj(raw, p, CATEGORY_KEYS, ("slug", "name", "prizes"))
        if cat is not None:
            c.pattern(cat, "slug", p, SLUG, "slug (lower-case letters, digits and dashes)", 80)
            c.text(cat, "name", p, max_len=200)
            c.text(cat, "description", p, required=False)
            c.integer(cat, "prizes", p, 0, 1000)

    rounds = c.lst(award.get("rounds", []), "award.rounds", non_empty=True)
    c.unique(rounds, "award.rounds", "slug", "round slug")
    criteria_by_round: dict[str, dict[str, _Criterion]] = {}
    for i, raw in enumerate(rounds):
        p = f"award.rounds[{i}]"
        rnd = c.obj(raw, p, ROUND_KEYS, ("slug", "name", "method", "min_sheets", "criteria"))
        if rnd is None:
            continue
        c.pattern(rnd, "slug", p, SLUG, "slug (lower-case letters, digits and dashes)", 80)
        c.text(rnd, "name", p, max_len=200)
        opened = _check_datetime(c, rnd, "submissions_open", p)
        closed = _check_datetime(c, rnd, "submissions_close", p)
        scoring = _check_datetime(c, rnd, "scoring_close", p)
        if opened and closed and opened >= closed:
            c.add(f"{p}.submissions_close", "must be after submissions_open")
        if closed and scoring and scoring < closed:
            c.add(f"{p}.scoring_close", "must not be before submissions_close")
        c.choice(rnd, "method", p, [m.value for m in Method])
        c.integer(rnd, "min_sheets", p, 0, 1000)
        criteria = c.lst(rnd.get("criteria", []), f"{p}.criteria", non_empty=True)
        checked = _check_criteria(c, criteria, f"{p}.criteria")
        if isinstance(rnd.get("slug"), str):
            criteria_by_round[rnd["slug"]] = checked
    return category_slugs, criteria_by_round


def _check_entries(
    c: _Checker, entries: list[Any], categories: set[str], rounds: set[str]
) -> dict[str, dict[str, Any]]:
    by_ref: dict[str, dict[str, Any]] = {}
    c.unique(entries, "entries", "ref", "entry ref")
    for i, raw in enumerate(entries):
        p = f"entries[{i}]"
        e = c.obj(raw, p, ENTRY_KEYS, ("ref", "category", "status", "startup", "contact", "title", "pitch", "rounds"))
        if e is None:
            continue
        c.pattern(e, "ref", p, REF, "entry ref (letters, digits, . _ -)", 32)
        if "category" in e and e["category"] not in categories:
            c.add(f"{p}.category", f"{show(e['category'])} is not a category of the award")
        c.choice(e, "status", p, [s.value for s in EntryStatus])
        for key in ("title", "pitch", "problem", "solution", "benefit", "stage"):
            c.text(e, key, p, required=False, max_len=300 if key == "title" else 20_000)
        _check_url(c, e, "video_url", p)
        if "startup" in e:
            s = c.obj(e["startup"], f"{p}.startup", STARTUP_KEYS, ("name",))
            if s is not None:
                c.text(s, "name", f"{p}.startup", max_len=200)
                for key in ("legal_form", "city", "investors"):
                    c.text(s, key, f"{p}.startup", required=False, max_len=2000)
                c.integer(s, "founded", f"{p}.startup", 1800, 2100, optional=True)
                c.integer(s, "employees", f"{p}.startup", 0, 10_000_000, optional=True)
                _check_url(c, s, "website", f"{p}.startup")
        if "contact" in e:
            ct = c.obj(e["contact"], f"{p}.contact", CONTACT_KEYS, ("email", "name"))
            if ct is not None:
                c.text(ct, "name", f"{p}.contact", max_len=200)
                if "email" in ct and not (isinstance(ct["email"], str) and is_valid_email(ct["email"])):
                    c.add(f"{p}.contact.email", f"{show(ct['email'])} is not a valid e-mail address")
        entry_rounds = c.lst(e.get("rounds", []), f"{p}.rounds")
        for j, slug in enumerate(entry_rounds):
            if slug not in rounds:
                c.add(f"{p}.rounds[{j}]", f"{show(slug)} is not a round of the award")
        if len(set(map(str, entry_rounds))) != len(entry_rounds):
            c.add(f"{p}.rounds", "lists a round more than once")
        attachments = c.lst(e.get("attachments", []), f"{p}.attachments")
        c.unique(attachments, f"{p}.attachments", "name", "attachment name")
        for j, raw_att in enumerate(attachments):
            ap = f"{p}.attachments[{j}]"
            a = c.obj(raw_att, ap, ATTACHMENT_KEYS, ("name", "sha256", "size", "media_type"))
            if a is None:
                continue
            c.text(a, "name", ap, max_len=255)
            if isinstance(a.get("name"), str) and ("/" in a["name"] or "\\" in a["name"] or a["name"] in (".", "..")):
                c.add(f"{ap}.name", f"{show(a['name'])} must be a plain file name")
            c.pattern(a, "sha256", ap, SHA256, "SHA-256 (64 lower-case hex digits)", 64)
            c.integer(a, "size", ap, 0, 10**12)
            c.text(a, "media_type", ap, max_len=100)
        if isinstance(e.get("ref"), str):
            by_ref[e["ref"]] = e
    return by_ref


def _contact_email(entry: dict[str, Any]) -> str | None:
    """The entry's contact's e-mail address, normalised (the contact is on the entry's team, a
    conflict of interest with it, like any member: see :mod:`award_jury.judging.conflicts`)."""
    contact = entry.get("contact")
    email = contact.get("email") if isinstance(contact, dict) else None
    return normalise_email(email) if isinstance(email, str) else None


def validate_bundle(doc: Any) -> list[str]:
    """Every problem of the bundle, each as ``path: message``; empty when it is valid."""
    c = _Checker()
    top = c.obj(doc, "", TOP_KEYS, ("format", "award"))
    if top is None:
        return c.problems
    if "format" in top and top["format"] != FORMAT:
        c.add("format", f"{show(top['format'])} is not supported (expected {FORMAT})")
    award = c.obj(top.get("award", {}), "award", AWARD_KEYS, ("slug", "name", "locale", "categories", "rounds"))
    categories, criteria_by_round = _check_award(c, award) if award is not None else (set(), {})

    organisers = c.lst(top.get("organisers", []), "organisers")
    c.unique(organisers, "organisers", "email", "organiser e-mail", normalise_email)
    for i, raw in enumerate(organisers):
        p = f"organisers[{i}]"
        o = c.obj(raw, p, ORGANISER_KEYS, ("email", "name"))
        if o is None:
            continue
        if "email" in o and not (isinstance(o["email"], str) and is_valid_email(normalise_email(o["email"]))):
            c.add(f"{p}.email", f"{show(o['email'])} is not a valid e-mail address")
        c.text(o, "name", p, max_len=200)

    jurors = c.lst(top.get("jurors", []), "jurors")
    juror_emails = c.unique(jurors, "jurors", "email", "juror e-mail", normalise_email)
    for i, raw in enumerate(jurors):
        p = f"jurors[{i}]"
        j = c.obj(raw, p, JUROR_KEYS, ("email", "name"))
        if j is None:
            continue
        if "email" in j and not (isinstance(j["email"], str) and is_valid_email(normalise_email(j["email"]))):
            c.add(f"{p}.email", f"{show(j['email'])} is not a valid e-mail address")
        c.text(j, "name", p, max_len=200)
        for k, slug in enumerate(c.lst(j.get("categories", []), f"{p}.categories")):
            if slug not in categories:
                c.add(f"{p}.categories[{k}]", f"{show(slug)} is not a category of the award")

    entries = _check_entries(c, c.lst(top.get("entries", []), "entries"), categories, set(criteria_by_round))

    def known_pair(d: dict[str, Any], p: str) -> bool:
        ok = True
        if "juror" in d and not (isinstance(d["juror"], str) and normalise_email(d["juror"]) in juror_emails):
            c.add(f"{p}.juror", f"{show(d['juror'])} is not one of the bundle's jurors")
            ok = False
        if "entry" in d and d["entry"] not in entries:
            c.add(f"{p}.entry", f"{show(d['entry'])} is not one of the bundle's entries")
            ok = False
        return ok and "juror" in d and "entry" in d

    conflicted: set[tuple[str, str]] = set()
    for i, raw in enumerate(c.lst(top.get("conflicts", []), "conflicts")):
        p = f"conflicts[{i}]"
        cf = c.obj(raw, p, CONFLICT_KEYS, ("juror", "entry"))
        if cf is None:
            continue
        c.text(cf, "reason", p, required=False, max_len=2000)
        if known_pair(cf, p):
            pair = (normalise_email(cf["juror"]), cf["entry"])
            if pair in conflicted:
                c.add(p, f"the conflict of {cf['juror']} with {cf['entry']} appears more than once")
            conflicted.add(pair)

    seen_sheets: set[tuple[str, str, str]] = set()
    for i, raw in enumerate(c.lst(top.get("sheets", []), "sheets")):
        p = f"sheets[{i}]"
        sh = c.obj(raw, p, SHEET_KEYS, ("juror", "entry", "round", "status", "scores"))
        if sh is None:
            continue
        c.choice(sh, "status", p, [s.value for s in SheetStatus])
        c.text(sh, "comment", p, required=False, max_len=20_000)
        pair_ok = known_pair(sh, p)
        round_slug = sh.get("round")
        criteria = criteria_by_round.get(round_slug) if isinstance(round_slug, str) else None
        if "round" in sh and criteria is None:
            c.add(f"{p}.round", f"{show(round_slug)} is not a round of the award")
        if pair_ok:
            juror, ref = normalise_email(sh["juror"]), sh["entry"]
            if (juror, ref) in conflicted:
                c.add(p, f"{sh['juror']} has a conflict with entry {ref} and cannot score it")
            elif juror == _contact_email(entries[ref]):
                c.add(p, f"{sh['juror']} is on the team of entry {ref} (its contact) and cannot score it")
            entry_rounds = entries[ref].get("rounds")
            if criteria is not None and isinstance(entry_rounds, list) and round_slug not in entry_rounds:
                c.add(f"{p}.round", f"entry {ref} does not take part in round {show(round_slug)}")
            key = (juror, ref, str(round_slug))
            if key in seen_sheets:
                c.add(p, f"a second sheet of {sh['juror']} for {ref} in round {show(round_slug)}")
            seen_sheets.add(key)
        scores = sh.get("scores", {})
        if not isinstance(scores, dict):
            c.add(f"{p}.scores", f"must be an object, not {show(scores)}")
            continue
        if criteria is None:
            continue
        for score_key in sorted(scores):
            crit = criteria.get(score_key)
            if crit is None:
                c.add(f"{p}.scores.{score_key}", f"{show(score_key)} is not a criterion of round {show(round_slug)}")
                continue
            value = c.number(scores[score_key], f"{p}.scores.{score_key}")
            if value is not None and (why := crit.problem(value)):
                c.add(f"{p}.scores.{score_key}", why)
        if sh.get("status") == SheetStatus.SUBMITTED:
            for criterion_key in criteria:
                if criterion_key not in scores:
                    c.add(f"{p}.scores.{criterion_key}", "is missing: a submitted sheet scores every criterion")
    return c.problems

"""The matcher's portal pages (issue 12): the watchlist and the alerts of the signed-in
subscriber, in Chinese and English.

- ``/portal/watches``: list, add (app or company, aliases), edit, remove, CSV import with
  per-line errors; what the directory knows of a name (``/portal/watches/lookup``, JSON, for
  ``watches.js`` while typing; the add form's answer shows the same without JavaScript) and a
  warning, with close names, for a watch the directory knows nothing of;
- ``/portal/alerts``: alerts newest first (regulator, dates, deadline, matched apps with score
  and reason in words, "list incomplete"), with "not us" / "right" feedback;
- ``/portal/alerts/{match_id}``: one alert's notice with every app it names and its source.

Everything goes through the functions the API's routes call (``store``, ``csvimport``,
``alerts``, ``api.alert_out``), filtered by the signed-in subscriber: another subscriber's
watch or alert is a 404, as in the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from services.matcher.alerts import (
    AlertGroup,
    alert_groups,
    alert_page,
    give_feedback,
    list_feedback,
    verdicts_by_key,
)
from services.matcher.api import MAX_ROW_ID, RowId, alert_out, watch_out
from services.matcher.csvimport import (
    MAX_IMPORT_BYTES,
    ImportResult,
    Problem,
    import_csv_bytes,
)
from services.matcher.lookup import Lookup, lookup
from services.matcher.notices import stored_notice
from services.matcher.schemas import AlertOut
from services.matcher.store import (
    KeyedInputError,
    get_watch,
    list_watches,
    put_watch,
    remove_watch,
    update_watch,
)
from shared.errors import InputError
from shared.events import EntityRef, WatchRef
from shared.portal import (
    PortalError,
    PortalSubscriber,
    Translator,
    add_messages,
    add_templates,
    portal_router,
    read_form,
    register_page,
    render,
)
from shared.portal.assets import serve_assets
from shared.portal.auth import portal_db, portal_settings
from shared.portal.i18n import request_language

HERE: Final = Path(__file__).parent
ASSETS: Final = {"namelookup.js": "text/javascript", "matcher.css": "text/css"}
WATCHES: Final = "/portal/watches"
ALERTS: Final = "/portal/alerts"
ALERTS_PAGE: Final = 50
"""Alerts (notices) per page of ``/portal/alerts``; older ones by "before" links."""
CURSOR: Final = re.compile(r"[1-9][0-9]{0,9}")
ALERTS_BACK: Final = re.compile(r"/portal/alerts(\?(before|after)=[1-9][0-9]{0,9})?")
"""Where feedback given on a page of alerts returns to: that page."""
MatchId = Annotated[str, PathParam(min_length=1, max_length=80)]
MULTIPART_OVERHEAD: Final = 64_000
"""Room in an upload's body for the multipart framing and the other fields."""

add_templates("matcher", HERE / "templates" / "portal")
add_messages(HERE / "locales")
register_page(WATCHES, "nav.watches", order=10)
register_page(ALERTS, "nav.alerts", order=20)


# --- reasons in words -----------------------------------------------------------------------

REASONS: Final = (
    # (words the matching rules put in a reason, message key); first found wins
    ("OCR slip", "reason.ocr"),
    ("misreads (OCR)", "reason.ocr"),
    ("misspelling", "reason.typo"),
    ("differ by one typo", "reason.typo"),
    ("traditional/simplified", "reason.script"),
    ("pinyin of", "reason.pinyin"),
    ("same romanization", "reason.pinyin"),
    ("is known in English as", "reason.english"),
    ("names of the same app", "reason.same_app"),
    ("app name matches after normalization", "reason.app_name"),
    ("is an app of", "reason.owner"),
    ("name matches after normalization", "reason.company_name"),
    ("region and legal-form words are removed", "reason.company_core"),
    ("under another name", "reason.company_alias"),
    ("carries the name", "reason.prefix"),
    ("belongs to", "reason.group"),
)
ALIAS_PREFIX: Final = "via your alias"


def reason_key(reason: str) -> tuple[str, bool]:
    """The message key of a match reason (``shared.events.Match.reason``, written by
    ``matching/rules.py``) and whether it came through one of the watch's aliases."""
    via_alias = reason.startswith(ALIAS_PREFIX)
    for words, key in REASONS:
        if words in reason:
            return key, via_alias
    return "reason.other", via_alias


def reason_words(t: Translator, reason: str) -> str:
    key, via_alias = reason_key(reason)
    text = t(key)
    return t("reason.via_alias", reason=text) if via_alias else text


# --- directory lookups ----------------------------------------------------------------------


def lookup_lines(t: Translator, found: Lookup) -> dict[str, Any]:
    """What the page (or the JSON answer) says of a name: one line per directory entry, and a
    warning (with close names) when there is none."""
    lines = []
    for entry in found.known:
        parts = [" / ".join(entry.other_names)] if entry.other_names else []
        if entry.publisher:
            parts.append(entry.publisher)
        text = f"{found.query} → " + ", ".join(parts or [entry.name])
        if entry.owner:
            text += f" ({entry.owner})"
        lines.append(f"{t('watch.kind.' + entry.kind)}: {text}")
    warning = None
    if found.query and found.unknown:
        if found.did_you_mean:
            names = t("list.or").join(found.did_you_mean)
            warning = t("lookup.did_you_mean", query=found.query, names=names)
        else:
            warning = t("lookup.unknown", query=found.query)
    return {"lines": lines, "warning": warning, "did_you_mean": found.did_you_mean}


def error_text(t: Translator, exc: InputError) -> str:
    """An error of the store or the import in the page's language: the message its key names
    (:class:`~services.matcher.store.KeyedInputError`), else its own (English) sentence."""
    if isinstance(exc, KeyedInputError):
        return t(exc.key, **exc.params)
    return str(exc)


FIELD_KEYS: Final = {
    "row": "import.column.row",
    "kind": "import.column.kind",
    "name": "import.column.name",
    "aliases": "import.column.aliases",
}


def problem_view(t: Translator, problem: Problem) -> dict[str, Any]:
    """A line of the import's report in the page's language."""
    field_key = FIELD_KEYS.get(problem.field)
    return {
        "line": problem.line,
        "field": t(field_key) if field_key else problem.field,
        "message": t(problem.key, **problem.params) if problem.key else problem.message,
    }


def split_aliases(text: str) -> list[str]:
    """Aliases as typed: one per line, or separated by ``|`` (as in the CSV import)."""
    return [part.strip() for line in text.splitlines() for part in line.split("|")]


# --- routers --------------------------------------------------------------------------------


def build_portal_routers(on_change: Callable[[], None] | None = None) -> list[APIRouter]:
    """The matcher's portal pages; ``on_change`` as for :func:`services.matcher.api.build_router`
    (kicks the outbox relay after a write)."""
    router = portal_router()
    upload = portal_router(form_limit=MAX_IMPORT_BYTES + MULTIPART_OVERHEAD)  # the CSV import

    def changed() -> None:
        if on_change is not None:
            on_change()

    async def watches_page(
        request: Request, subscriber_id: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        async with portal_db(request).session() as session:
            rows = await list_watches(session, subscriber_id)
        values: dict[str, Any] = {
            "watches": [watch_out(row) for row in rows],
            "form": {"kind": "app", "name": "", "aliases": ""},
            "message": None,
            "error": None,
            "found": None,
            "report": None,
            "limit": portal_settings(request).max_watches_per_subscriber,
            "max_mb": MAX_IMPORT_BYTES // 1_000_000,
        }
        values.update(context)
        return await render(request, "matcher/watches.html", values, status_code=status_code)

    @router.get("/watches")
    async def watches(
        request: Request,
        subscriber: PortalSubscriber,
        added: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
        saved: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
        removed: Annotated[str | None, Query(max_length=300)] = None,
    ) -> HTMLResponse:
        t = Translator(request_language(request))
        message = found = None
        shown = added or saved
        if shown is not None:
            async with portal_db(request).session() as session:
                row = await get_watch(session, subscriber.id, shown)
            if row is not None:
                key = "watches.added" if added else "watches.saved"
                message = t(key, name=row.name)
                found = {"watch": watch_out(row), **lookup_lines(t, lookup(row.name, row.kind))}
        elif removed:
            message = t("watches.removed", name=removed)
        return await watches_page(request, subscriber.id, message=message, found=found)

    serve_assets(router, "matcher", HERE / "static", ASSETS)

    @router.get("/watches/lookup")
    async def watch_lookup(
        request: Request,
        subscriber: PortalSubscriber,
        name: Annotated[str, Query(max_length=300)] = "",
        kind: Annotated[str | None, Query(pattern="^(app|company)?$")] = None,
    ) -> JSONResponse:
        t = Translator(request_language(request))
        answer = lookup_lines(t, lookup(name, kind or None))
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    @router.post("/watches")
    async def add_watch(request: Request, subscriber: PortalSubscriber) -> Response:
        form = await read_form(request)
        kind = form.text("kind", 20)
        name = form.text("name", 400)
        aliases = form.get("aliases", "")[:20_000]
        try:
            async with portal_db(request).session() as session:
                added = await put_watch(
                    session,
                    subscriber.id,
                    kind,
                    name,
                    split_aliases(aliases),
                    limit=portal_settings(request).max_watches_per_subscriber,
                )
                watch_id = added.row.id
        except InputError as exc:
            t = Translator(request_language(request))
            return await watches_page(
                request,
                subscriber.id,
                422,
                error=error_text(t, exc),
                form={"kind": kind, "name": name, "aliases": aliases},
                found={"watch": None, **lookup_lines(t, lookup(name, kind or None))}
                if name
                else None,
            )
        changed()
        return RedirectResponse(f"{WATCHES}?added={watch_id}#result", status_code=303)

    async def own_watch(request: Request, subscriber_id: str, watch_id: int) -> Any:
        async with portal_db(request).session() as session:
            row = await get_watch(session, subscriber_id, watch_id)
        if row is None:
            raise PortalError(404, "error.not_found")
        return watch_out(row)

    @router.get("/watches/{watch_id}/edit")
    async def edit_watch(
        request: Request, subscriber: PortalSubscriber, watch_id: RowId
    ) -> HTMLResponse:
        watch = await own_watch(request, subscriber.id, watch_id)
        return await render(
            request,
            "matcher/watch_edit.html",
            {"watch": watch, "form": {"name": watch.name, "aliases": "\n".join(watch.aliases)}},
        )

    @router.post("/watches/{watch_id}")
    async def save_watch(
        request: Request, subscriber: PortalSubscriber, watch_id: RowId
    ) -> Response:
        form = await read_form(request)
        name = form.text("name", 400)
        aliases = form.get("aliases", "")[:20_000]
        try:
            async with portal_db(request).session() as session:
                row = await update_watch(
                    session, subscriber.id, watch_id, name=name, aliases=split_aliases(aliases)
                )
        except InputError as exc:
            watch = await own_watch(request, subscriber.id, watch_id)
            t = Translator(request_language(request))
            return await render(
                request,
                "matcher/watch_edit.html",
                {
                    "watch": watch,
                    "form": {"name": name, "aliases": aliases},
                    "error": error_text(t, exc),
                },
                status_code=422,
            )
        if row is None:
            raise PortalError(404, "error.not_found")
        changed()
        return RedirectResponse(f"{WATCHES}?saved={watch_id}#result", status_code=303)

    @router.post("/watches/{watch_id}/remove")
    async def delete_watch(
        request: Request, subscriber: PortalSubscriber, watch_id: RowId
    ) -> Response:
        async with portal_db(request).session() as session:
            row = await get_watch(session, subscriber.id, watch_id)
            name = row.name if row is not None else ""
            removed = row is not None and await remove_watch(session, subscriber.id, watch_id)
        if not removed:
            raise PortalError(404, "error.not_found")
        changed()
        return RedirectResponse(f"{WATCHES}?{urlencode({'removed': name})}#result", status_code=303)

    @upload.post("/watches/import")
    async def import_csv(request: Request, subscriber: PortalSubscriber) -> Response:
        # the router checked the origin and the CSRF token, reading the multipart form
        form = await read_form(request, MAX_IMPORT_BYTES + MULTIPART_OVERHEAD)
        data = form.files.get("file", b"")
        t = Translator(request_language(request))
        if not data:
            return await watches_page(request, subscriber.id, 422, error=t("import.empty"))
        if len(data) > MAX_IMPORT_BYTES:
            raise PortalError(413, "error.too_large")
        try:
            result = await import_csv_bytes(
                portal_db(request),
                subscriber.id,
                data,
                limit=portal_settings(request).max_watches_per_subscriber,
            )
        except InputError as exc:
            return await watches_page(request, subscriber.id, 422, error=error_text(t, exc))
        if result.added or result.existing:
            changed()
        return await watches_page(request, subscriber.id, report=import_report(t, result))

    # --- alerts ---------------------------------------------------------------------------

    async def alerts_of(request: Request, subscriber_id: str, **where: Any) -> list[AlertOut]:
        async with portal_db(request).session() as session:
            groups = await alert_groups(session, subscriber_id, **where)
            verdicts = verdicts_by_key(await list_feedback(session, subscriber_id))
        return [alert_out(subscriber_id, group, verdicts) for group in groups]

    async def alerts_out(
        request: Request, subscriber_id: str, groups: list[AlertGroup]
    ) -> list[AlertOut]:
        async with portal_db(request).session() as session:
            verdicts = verdicts_by_key(await list_feedback(session, subscriber_id))
        return [alert_out(subscriber_id, group, verdicts) for group in groups]

    def alert_view(t: Translator, alert: AlertOut) -> dict[str, Any]:
        return {
            "alert": alert,
            "notice": alert.notice,
            "matches": [
                {"match": match, "reason": reason_words(t, match.reason)} for match in alert.matches
            ],
        }

    @router.get("/alerts")
    async def alerts(
        request: Request,
        subscriber: PortalSubscriber,
        before: Annotated[str | None, Query()] = None,
        after: Annotated[str | None, Query()] = None,
    ) -> HTMLResponse:
        t = Translator(request_language(request))
        older_than, newer_than = cursor(before), cursor(after)
        if older_than is not None and newer_than is not None:
            raise PortalError(400, "alerts.bad_cursor")
        async with portal_db(request).session() as session:
            page = await alert_page(
                session, subscriber.id, size=ALERTS_PAGE, before=older_than, after=newer_than
            )
        shown = await alerts_out(request, subscriber.id, page.groups)
        here = ALERTS
        if before is not None or after is not None:
            here = f"{ALERTS}?{urlencode({'before': before} if before else {'after': after})}"
        return await render(
            request,
            "matcher/alerts.html",
            {
                "alerts": [alert_view(t, alert) for alert in shown],
                "back": here,
                "paged": before is not None or after is not None,
                "older": f"{ALERTS}?before={page.older}" if page.older is not None else None,
                "newer": f"{ALERTS}?after={page.newer}" if page.newer is not None else None,
            },
        )

    @router.get("/alerts/{match_id}")
    async def alert(
        request: Request, subscriber: PortalSubscriber, match_id: MatchId
    ) -> HTMLResponse:
        t = Translator(request_language(request))
        shown = await alerts_of(request, subscriber.id, limit=1, match_id_=match_id)
        if not shown:
            raise PortalError(404, "error.not_found")
        view = alert_view(t, shown[0])
        async with portal_db(request).session() as session:
            stored = await stored_notice(session, shown[0].notice.notice_id)
        matched = {m.entity.name for m in shown[0].matches}
        entities = [
            {"entity": entity, "matched": entity.name in matched}
            for entity in (stored.entities if stored is not None else [])
        ]
        return await render(
            request,
            "matcher/alert.html",
            {**view, "entities": entities, "back": f"{ALERTS}/{match_id}"},
        )

    @router.post("/alerts/{match_id}/feedback")
    async def feedback(
        request: Request, subscriber: PortalSubscriber, match_id: MatchId
    ) -> Response:
        form = await read_form(request)
        verdict = form.text("verdict", 10)
        if verdict not in ("wrong", "right"):
            raise PortalError(400, "error.bad_request")
        watch_kind = form.text("watch_kind", 20)
        if watch_kind not in ("app", "company"):
            raise PortalError(400, "error.bad_request")
        watch = WatchRef(kind=watch_kind, name=form.get("watch_name", ""))
        entity = EntityRef(
            name=form.get("entity_name", "") or "?",
            developer=form.get("entity_developer") or None,
        )
        try:
            async with portal_db(request).session() as session:
                row = await give_feedback(
                    session,
                    subscriber.id,
                    match_id,
                    watch,
                    entity,
                    verdict,  # type: ignore[arg-type]
                )
        except InputError as exc:
            raise PortalError(400, "error.bad_request") from exc
        if row is None:
            raise PortalError(404, "error.not_found")
        back = form.text("back", 200)
        if back != f"{ALERTS}/{match_id}" and not ALERTS_BACK.fullmatch(back):
            back = ALERTS
        return RedirectResponse(f"{back}#{match_id}", status_code=303)

    return [upload, router]  # the upload first: "import" is no watch id


def cursor(value: str | None) -> int | None:
    """An alert page's ``before``/``after`` (the id of an alert, :attr:`AlertGroup.newest_id`);
    anything else is the portal's 400 page."""
    if value is None:
        return None
    if not CURSOR.fullmatch(value) or int(value) > MAX_ROW_ID:
        raise PortalError(400, "alerts.bad_cursor")
    return int(value)


def import_report(t: Translator, result: ImportResult) -> dict[str, Any]:
    problems: list[Problem] = sorted(result.problems, key=lambda p: p.line)
    return {
        "rows": result.rows,
        "added": result.added,
        "existing": result.existing,
        "problems": [problem_view(t, problem) for problem in problems],
    }

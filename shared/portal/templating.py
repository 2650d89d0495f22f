"""The portal's Jinja2 environment and :func:`render`, which every portal page answers with.

Templates are found by prefix: ``portal/base.html`` is ``shared/portal/templates/base.html``;
a service adds its own folder under its name with :func:`add_templates` (the matcher's
``matcher/alerts.html`` then lives in ``services/matcher/templates/portal/alerts.html``).
Every page extends ``portal/base.html`` and fills ``{% block title %}`` and
``{% block content %}``.

Every template sees: ``t`` (messages in the request's language: ``{{ t("nav.account") }}``),
``lang``, ``subscriber`` (signed in, or None), ``csrf_field`` (the hidden field every form
carries: ``{{ csrf_field }}``), ``csrf_token``, ``nav``, ``languages``, ``static(name)`` and
``path``, besides what the page passes. HTML is autoescaped; undefined names are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import (
    BaseLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse

from shared.portal.auth import set_cookie, signed_in
from shared.portal.csrf import CSRF_COOKIE, csrf_field, csrf_token
from shared.portal.i18n import (
    HTML_LANG,
    LANG_COOKIE,
    LANG_PARAM,
    LANGUAGE_NAMES,
    LANGUAGES,
    Translator,
    request_language,
    requested_language,
)
from shared.portal.pages import navigation, served

TEMPLATES: Final = Path(__file__).parent / "templates"
STATIC_PREFIX: Final = "/portal/static"
LANG_COOKIE_AGE: Final = 365 * 24 * 3600

_mapping: dict[str, BaseLoader] = {"portal": FileSystemLoader(TEMPLATES)}
ENV: Final = Environment(
    loader=PrefixLoader(_mapping, delimiter="/"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def add_templates(prefix: str, folder: Path) -> None:
    """Serve ``folder``'s templates as ``<prefix>/<name>`` (a service's own pages)."""
    known = _mapping.get(prefix)
    if isinstance(known, FileSystemLoader) and [Path(p) for p in known.searchpath] == [folder]:
        return
    if known is not None:
        raise ValueError(f"portal template prefix {prefix!r} is already taken")
    _mapping[prefix] = FileSystemLoader(folder)


def template_folders() -> dict[str, Path]:
    """Prefix -> folder of every template folder (the tests check their message keys)."""
    return {
        prefix: Path(loader.searchpath[0])
        for prefix, loader in _mapping.items()
        if isinstance(loader, FileSystemLoader)
    }


def static(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}"


def language_links(request: Request, current: str) -> list[dict[str, Any]]:
    """The language switch: this page in each language (``?lang=``)."""
    links = []
    for code in LANGUAGES:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != LANG_PARAM]
        params.append((LANG_PARAM, code))
        links.append(
            {
                "code": code,
                "html_lang": HTML_LANG[code],
                "name": LANGUAGE_NAMES[code],
                "href": f"{request.url.path}?{urlencode(params)}",
                "current": code == current,
            }
        )
    return links


async def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A portal page: ``template`` rendered in the request's language with the common context
    (see the module's doc) and ``context``; never cached, language and CSRF cookies set when
    they are new."""
    lang = request_language(request)
    found = await signed_in(request)
    token = await csrf_token(request)
    app = request.app
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "t": Translator(lang),
        "subscriber": found.subscriber if found is not None else None,
        "csrf_token": token,
        "csrf_field": csrf_field(token),
        "languages": language_links(request, lang),
        "nav": [
            {"path": page.path, "label": page.label, "current": page.path == request.url.path}
            for page in navigation(app)
        ]
        if found is not None
        else [],
        "path": request.url.path,
        "static": static,
        "serves": lambda path: served(app, path),
    }
    values.update(context or {})
    html = ENV.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if requested_language(request) is not None and request.cookies.get(LANG_COOKIE) != lang:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE)
    fresh = getattr(request.state, "portal_new_csrf", None)
    if fresh is not None and fresh == token:
        set_cookie(response, request, CSRF_COOKIE, fresh)
    return response

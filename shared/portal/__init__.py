"""The subscriber portal at ``/portal``: server-rendered pages in Chinese and English.

What a service needs to add a page (see README "Portal" and the modules named):

- ``router = portal_router()``: pages under ``/portal``, CSRF-checked POSTs (``router.py``);
- ``register_page("/portal/alerts", "nav.alerts", order=20)``: its navigation entry
  (``pages.py``);
- ``subscriber: PortalSubscriber``: the signed-in subscriber, or a redirect to sign in
  (``auth.py``);
- ``return await render(request, "matcher/alerts.html", {...})`` with templates extending
  ``portal/base.html`` and a folder added by ``add_templates("matcher", folder)``
  (``templating.py``); every form carries ``{{ csrf_field }}``;
- ``form = await read_form(request)`` for a POST's fields (``forms.py``); uploads on a router
  made with ``portal_router(form_limit=N)`` (``multipart/form-data``, ``form.files``);
- ``raise PortalError(404, "error.not_found")`` for an error page (``errors.py``);
- messages in ``shared/portal/locales/en.json`` and ``zh.json`` (same keys), or a service's
  own pair added with ``add_messages(folder)`` (``i18n.py``).
"""

from shared.portal.auth import PortalSubscriber, portal_subscriber
from shared.portal.errors import PortalError
from shared.portal.forms import read_form
from shared.portal.i18n import Translator, add_messages
from shared.portal.pages import PortalPage, register_page, registered_pages
from shared.portal.router import portal_router
from shared.portal.templating import add_templates, render

__all__ = [
    "PortalError",
    "PortalPage",
    "PortalSubscriber",
    "Translator",
    "add_messages",
    "add_templates",
    "portal_router",
    "portal_subscriber",
    "read_form",
    "register_page",
    "registered_pages",
    "render",
]

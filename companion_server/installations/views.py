"""Pages of installations: the work queue and the assignments."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from companion_server.errors import NotFound
from companion_server.i18n import Translator, translator
from companion_server.installation_tabs import tab_context
from companion_server.installations import queue, queue_rows, services
from companion_server.models import RegistrationStatus
from companion_server.monitoring.labels import MONITORING_LABELS, alert_label
from companion_server.parsing import parse_id
from companion_server.registration.codes import MAX_CODE_ATTEMPTS
from companion_server.team.services import members
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    login_required,
    render,
    visitor,
)

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class RowTexts:
    """A row's translated texts, made here: a template's calls cost several times more."""

    status: str
    active: str
    alerts: str
    monitoring: str
    assignees: str


def row_texts(_: Translator, rows: list[queue_rows.QueueRow]) -> dict[int, RowTexts]:
    """The translated texts of a page's rows, by installation id."""
    statuses = {
        RegistrationStatus.LINKED.value: _("Validated: linked with Home Assistant"),
        RegistrationStatus.UNLINKED.value: _("Unlinked"),
    }
    waiting = _("Waiting for the customer's validation")
    monitoring = {key: _(label) for key, label in MONITORING_LABELS.items()}
    labels = {kind: _(alert_label(kind)) for row in rows for kind, _count in row.alerts}
    return {
        row.installation.id: RowTexts(
            status=statuses.get(row.installation.status, waiting),
            active=_("{count} active", count=row.alert_count) if row.alerts else "",
            alerts=", ".join(
                labels[kind] + (f" \N{MULTIPLICATION SIGN}{count}" if count > 1 else "")
                for kind, count in row.alerts
            ),
            monitoring=_(monitoring.get(row.monitoring, row.monitoring)),
            assignees=", ".join(person.name for person in row.assignees),
        )
        for row in rows
    }


@routes.get("/installations", allow_head=False)
@login_required
async def installations_list(request: web.Request) -> web.StreamResponse:
    """The work queue: administrators see the company's installations, installers theirs."""
    query = queue.QueueQuery.parse(request.query)
    result = await queue.work_queue(core_of(request), current_user(request), query)
    return render(
        request,
        "installations.html",
        {
            "result": result,
            "filters": queue.FILTERS,
            "sorts": queue.SORTS,
            "texts": row_texts(translator(visitor(request).language), result.rows),
        },
    )


@routes.get("/installations/{installation_id}", allow_head=False)
@login_required
async def installation_page(request: web.Request) -> web.StreamResponse:
    """One installation with its assigned installers (and, for administrators, assignment)."""
    user = current_user(request)
    core = core_of(request)
    context = await tab_context(request, "installation")
    assignees = context["ov"].assignees
    candidates = []
    if user.is_admin:
        assigned = {a.id for a in assignees}
        candidates = [m for m in await members(core, user.company_id) if m.id not in assigned]
    context.update(
        {
            "assignees": assignees,
            "candidates": candidates,
            "just_registered": request.query.get("registered") == "1",
            "portal_url": core.settings.public_url,
            "max_code_attempts": MAX_CODE_ATTEMPTS,
        }
    )
    return render(request, "installation.html", context)


@routes.post("/installations/{installation_id}/assignments")
@admin_required
async def assign(request: web.Request) -> web.StreamResponse:
    """Assign the installation to a collaborator."""
    installation_id = int_param(request, "installation_id")
    data = await form_data(request)
    user_id = parse_id(data.get("user_id"))
    if user_id is None:
        raise NotFound()
    await services.assign(
        core_of(request), current_user(request).id, installation_id, user_id, visitor(request).ip
    )
    return flash_redirect(request, f"/installations/{installation_id}", "assigned")


@routes.post("/installations/{installation_id}/assignments/{user_id}/delete")
@admin_required
async def unassign(request: web.Request) -> web.StreamResponse:
    """Remove an assignment."""
    installation_id = int_param(request, "installation_id")
    await services.unassign(
        core_of(request),
        current_user(request).id,
        installation_id,
        int_param(request, "user_id"),
        visitor(request).ip,
    )
    return flash_redirect(request, f"/installations/{installation_id}", "unassigned")

"""Pages of company administration: team, invitations, deletion, administrators."""

from __future__ import annotations

from aiohttp import web

from companion_server.accounts import invitation_pages
from companion_server.errors import ValidationFailed
from companion_server.parsing import parse_id
from companion_server.team import invitations, services
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    flash_redirect,
    form_data,
    int_param,
    render,
    visitor,
)

routes = web.RouteTableDef()


async def _team_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    after = request.query.get("after") or None
    team = await services.team(core_of(request), current_user(request).id, after)
    return render(
        request,
        "team.html",
        {
            "team": team,
            "after": after,
            "admins": team.admins,
            "max_admins": services.MAX_ADMINS,
            "errors": errors or {},
            "invitation_days": core_of(request).settings.invitation_days,
        },
        status,
    )


@routes.get("/team", allow_head=False)
@admin_required
async def team_page(request: web.Request) -> web.StreamResponse:
    """Collaborators, pending invitations and the administration actions."""
    return await _team_page(request)


@routes.post("/team/invitations")
@admin_required
async def invite(request: web.Request) -> web.StreamResponse:
    """Invite a collaborator by e-mail."""
    data = await form_data(request)
    v = visitor(request)
    try:
        await invitations.invite(
            core_of(request),
            current_user(request).id,
            email=data.get("email", ""),
            language=data.get("language", v.language),
            ip=v.ip,
            role=data.get("role", "installer"),
        )
    except ValidationFailed as err:
        return await _team_page(request, err.errors, 400)
    return flash_redirect(request, "/team", "invited")


@routes.post("/team/invitations/{invitation_id}/revoke")
@admin_required
async def revoke(request: web.Request) -> web.StreamResponse:
    """Withdraw a pending invitation."""
    await invitations.revoke_invitation(
        core_of(request),
        current_user(request).id,
        int_param(request, "invitation_id"),
        visitor(request).ip,
    )
    return flash_redirect(request, "/team", "invitation_revoked")


@routes.post("/team/members/{member_id}/delete")
@admin_required
async def delete_member(request: web.Request) -> web.StreamResponse:
    """Delete a collaborator (never oneself)."""
    await services.delete_member(
        core_of(request),
        current_user(request).id,
        int_param(request, "member_id"),
        visitor(request).ip,
    )
    return flash_redirect(request, "/team", "member_deleted")


@routes.post("/team/members/{member_id}/promote")
@admin_required
async def promote(request: web.Request) -> web.StreamResponse:
    """Make a collaborator the second administrator."""
    await services.promote(
        core_of(request),
        current_user(request).id,
        int_param(request, "member_id"),
        visitor(request).ip,
    )
    return flash_redirect(request, "/team", "promoted")


@routes.post("/team/step-down")
@admin_required
async def step_down(request: web.Request) -> web.StreamResponse:
    """Stop being an administrator, naming a successor when one is needed."""
    data = await form_data(request)
    successor = parse_id(data.get("successor_id"))
    await services.step_down(
        core_of(request), current_user(request).id, successor, visitor(request).ip
    )
    return flash_redirect(request, "/installations", "stepped_down")


@routes.get("/invitation/{token}", allow_head=False)
async def invitation_form(request: web.Request) -> web.StreamResponse:
    """The invited person chooses their name, password and language."""
    return await invitation_pages.invitation_form(
        request, "invitation.html", invitations.peek_invitation
    )


@routes.post("/invitation/{token}")
async def accept(request: web.Request) -> web.StreamResponse:
    """Create the account, log in (a new session) and go to the installations."""
    return await invitation_pages.accept_invitation(
        request,
        "invitation.html",
        invitations.peek_invitation,
        invitations.accept_invitation,
        "/installations",
    )

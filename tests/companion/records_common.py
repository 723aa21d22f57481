"""What the records tests share: settings with a documents folder, two companies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from companion_server.core import Core
from companion_server.installations.services import create_installation
from companion_server.models import InstallationAssignment, Role
from companion_server.settings import Settings
from tests.companion.conftest import fast_settings
from tests.companion.helpers import BrowserFactory, PortalClient, make_company, make_user


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings with documents under the test's own folder and small limits."""
    return fast_settings(
        database_url,
        public_url="http://127.0.0.1:8080",
        demo=True,
        documents_dir=str(tmp_path / "documents"),
        document_max_bytes=64 * 1024,
        import_max_bytes=16 * 1024,
    )


@dataclass
class Two:
    """Company A (administrator, assigned installer, installation) and company B."""

    admin: PortalClient
    installer: PortalClient
    other: PortalClient
    own: int
    other_installation: int
    unassigned: int
    installer_id: int


async def two_companies(core: Core, browsers: BrowserFactory) -> Two:
    company_a = await make_company(core, "Acme")
    company_b = await make_company(core, "Rival")
    admin = await make_user(core, company_a, "boss@acme.example", role=Role.ADMIN)
    installer = await make_user(core, company_a, "fitter@acme.example")
    await make_user(core, company_b, "boss@rival.example", role=Role.ADMIN)
    own = await create_installation(core, company_a.id, name="Villa Rose", created_by_id=admin.id)
    unassigned = await create_installation(core, company_a.id, name="Barn")
    other = await create_installation(core, company_b.id, name="Rival house")
    async with core.tx() as db:
        db.add(
            InstallationAssignment(
                installation_id=own.id, user_id=installer.id, assigned_at=core.now()
            )
        )
    clients = []
    for email in ("boss@acme.example", "fitter@acme.example", "boss@rival.example"):
        client = await browsers.new()
        assert (await client.login(email)).status == 303
        clients.append(client)
    return Two(*clients, own.id, other.id, unassigned.id, installer.id)

"""The portal's tables (SQLAlchemy 2 declarative ORM), one module per area.

Every model is imported and listed here, not only in its own module: importing any model
then loads all of them, so SQLAlchemy's mapper registry is complete (relationships name
their classes as strings, resolved when the mappers configure) and ``Base.metadata`` holds
every table for Alembic. Importers keep using ``from companion_server.models import X``.

Later features add their own tables and columns through new Alembic revisions in
``companion_server/migrations/versions``; :func:`tests.companion.test_migrations` checks that
the models and the migrations agree.
"""

from companion_server.models.accounts import (
    STAFF_ROLES,
    Company,
    Invitation,
    LockReason,
    Role,
    Session,
    TokenKind,
    UnknownAddressFailures,
    User,
    UserToken,
)
from companion_server.models.advances import InterventionAdvance
from companion_server.models.base import Base
from companion_server.models.billing import (
    BillingAddress,
    BillingProfile,
    CatalogueItem,
    InstallationHandover,
    ServiceCharge,
    ServiceSubscription,
)
from companion_server.models.centre import CentreAlarm, CentreCase, CentreSubscription
from companion_server.models.frames import PortalFrame, ReceivedFrame
from companion_server.models.inbound_mail import InboundMailClaim, InboundMailReply
from companion_server.models.installations import (
    ATTENTION_ALERTS,
    ATTENTION_NOT_LINKED,
    ATTENTION_OFFLINE,
    Installation,
    InstallationAssignment,
    InstallationLink,
    Registration,
    RegistrationStatus,
)
from companion_server.models.interventions import InterventionEntry, RemoteAction, RemoteWindow
from companion_server.models.invoicing import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
    PaymentMethod,
    ProviderEvent,
    SellerProfile,
)
from companion_server.models.mail import OutboxMessage
from companion_server.models.monitoring import (
    Alert,
    AlertFollowUp,
    AlertSetting,
    Device,
    InstallationState,
    Monitoring,
    RadioSample,
)
from companion_server.models.records import (
    DeviceRecord,
    InstallationDocument,
    InstallationPlace,
    SubInstallation,
    WarrantyTerm,
)
from companion_server.models.retention import RetentionMark
from companion_server.models.security import AuditEvent, RateLimitCounter
from companion_server.models.sia import SiaCentre, SiaMessage, SiaState
from companion_server.models.tickets import (
    CustomerInstallation,
    CustomerInvitation,
    CustomerMessage,
    Ticket,
    TicketComment,
    TicketKind,
    TicketStatus,
)

__all__ = [
    "ATTENTION_ALERTS",
    "ATTENTION_NOT_LINKED",
    "ATTENTION_OFFLINE",
    "STAFF_ROLES",
    "Alert",
    "AlertFollowUp",
    "AlertSetting",
    "AuditEvent",
    "Base",
    "BillingAddress",
    "BillingProfile",
    "CatalogueItem",
    "CentreAlarm",
    "CentreCase",
    "CentreSubscription",
    "Company",
    "CustomerInstallation",
    "CustomerInvitation",
    "CustomerMessage",
    "Device",
    "DeviceRecord",
    "InboundMailClaim",
    "InboundMailReply",
    "Installation",
    "InstallationAssignment",
    "InstallationDocument",
    "InstallationHandover",
    "InstallationLink",
    "InstallationPlace",
    "InstallationState",
    "InterventionAdvance",
    "InterventionEntry",
    "Invitation",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "LockReason",
    "Monitoring",
    "OutboxMessage",
    "Payment",
    "PaymentMethod",
    "PortalFrame",
    "ProviderEvent",
    "RadioSample",
    "RateLimitCounter",
    "ReceivedFrame",
    "Registration",
    "RegistrationStatus",
    "RemoteAction",
    "RemoteWindow",
    "RetentionMark",
    "Role",
    "SellerProfile",
    "ServiceCharge",
    "ServiceSubscription",
    "Session",
    "SiaCentre",
    "SiaMessage",
    "SiaState",
    "SubInstallation",
    "Ticket",
    "TicketComment",
    "TicketKind",
    "TicketStatus",
    "TokenKind",
    "UnknownAddressFailures",
    "User",
    "UserToken",
    "WarrantyTerm",
]

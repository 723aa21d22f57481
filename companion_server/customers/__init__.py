"""Customer accounts: invitations from Home Assistant, the customer area, contacting customers."""

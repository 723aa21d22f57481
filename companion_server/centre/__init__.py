"""Links from the portal to outside monitoring centres."""

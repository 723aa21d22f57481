"""Payment providers behind one interface: bank transfer and card."""

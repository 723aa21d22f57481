"""The monitoring centre: the call protocol of alarm cases, and links to outside monitoring centres."""

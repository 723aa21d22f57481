"""The monitoring centre: the call protocol of alarm cases, links to outside centres."""

"""Invoices, credit notes and payments: what a company bills its customers."""

"""Notifier: email and signed webhooks for matches, a delivery ledger, deadline reminders."""

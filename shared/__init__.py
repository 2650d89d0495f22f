"""Contracts and plumbing shared by regwatch's services: events, topics, settings, broker, db."""

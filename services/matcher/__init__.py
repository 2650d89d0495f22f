"""Matcher: watchlists, and one MatchEvent per (subscriber, notice) that names a watched item."""

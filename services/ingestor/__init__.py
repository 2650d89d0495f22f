"""Ingestor: notices in (HTTP, files), normalized NoticeEvents out (stored, then published)."""

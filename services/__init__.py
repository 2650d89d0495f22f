"""regwatch's services: ingestor, matcher, notifier (they never import each other)."""

"""Scheduled, recurring and event-driven calls: the Schedules API, one fire, and their times."""

"""Closing the loop: follow-ups (survey calls, progress updates, visits), the text outbox,
the SMS line's inbound messages and the residents' survey answers."""

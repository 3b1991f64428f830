"""Action health (SPEC §5): touch density, key-person depth and first-touch timeliness,
computed from the records alone, per rep / team / region, and the weekly report.

It reads the follow-up and lead tables, which sit above `audit` in the layering: the
issue places health with the audit log it reports on, and nothing below reads it back.
"""

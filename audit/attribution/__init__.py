"""Four-dimension attribution (SPEC §5): which lead channels, first touches, actions and
decision-chain touches go with won rather than lost deals, per region, side by side.

This is the read side of the action log and sits above `followups` and `leads`, whose
records it counts; nothing here writes.
"""

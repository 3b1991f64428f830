"""How a send can end, short of success.

`TemporaryFailure`: not delivered, a later attempt may work (network down, 5xx, rate limit).
`OutcomeUnknown`: the message went out but no answer came (a timeout after sending, a
dropped connection): it may have been delivered, so it is re-sent with the same reference
and the reader can recognise a duplicate. `PermanentFailure`: a later attempt will not work
(a bad token, a refused endpoint, 4xx).
"""


class TemporaryFailure(Exception):
    pass


class OutcomeUnknown(TemporaryFailure):
    pass


class PermanentFailure(Exception):
    pass

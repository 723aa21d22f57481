"""SIA DC-09 transmitter: alarm events to an outside alarm receiving centre over TCP.

Transport and format only: the caller owns the sequence numbers, the attempts made so far
and any persistence (see ``docs/monitoring-centre-sia.md``).
"""

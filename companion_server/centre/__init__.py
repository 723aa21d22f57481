"""The monitoring centre: alarm cases handled by operators under the call protocol (M2-M6).

``call_protocol`` is the protocol itself, pure and explicit: what a case may do next and
what each step leads to. ``protocol_values`` holds its vocabulary (kinds, phases, steps,
errors) and ``case_records`` turns a case into the JSON the database stores and back.
"""

"""What the console calls the call protocol's values, as message ids (translated when shown)."""

from __future__ import annotations

from typing import Final

from companion_server.i18n import N_

KINDS: Final = {
    "intrusion": N_("Intrusion"),
    "aggression": N_("Aggression"),
    "tamper": N_("Tamper"),
    "fire": N_("Fire"),
}
# The queue's urgencies (``call_protocol.PRIORITY``), as the open-case counts name them.
URGENCIES: Final = {
    0: N_("Aggression and fire"),
    1: N_("Intrusion"),
    2: N_("Tamper"),
}
PHASES: Final = {
    "calling": N_("Calling a contact"),
    "leaving_message": N_("No answer: leave a message"),
    "waiting": N_("Waiting for a call back"),
    "assessing": N_("Wrong identification: does the situation seem normal?"),
    "confirming": N_("Ask to repeat the password"),
    "identified": N_("Contact identified"),
    "guard_required": N_("Send a guard"),
    "guard_dispatched": N_("Guard on the way"),
    "closed": N_("Closed"),
}
# Steps in the history.
ACTIONS: Final = {
    "identified": N_("Identified"),
    "wrong_identification": N_("Not identified"),
    "no_answer": N_("No answer"),
    "message_left": N_("Message left"),
    "no_voicemail": N_("No voicemail"),
    "situation_normal": N_("Situation seems normal"),
    "situation_abnormal": N_("Situation abnormal"),
    "false_alarm": N_("False alarm"),
    "dispatch_guard": N_("Guard dispatched"),
    "guard_finished": N_("Guard's check finished"),
    "second_round": N_("Second round of calls"),
    "new_alert": N_("New alert"),
    "owner_cancel": N_("Cancelled by the owner in Home Assistant"),
    "owner_cancel_refused": N_("Cancel with a wrong password in Home Assistant"),
    "owner_duress": N_("DURESS password entered in Home Assistant"),
}
# The buttons of the steps an operator records.
BUTTONS: Final = {
    "no_answer": N_("No answer"),
    "message_left": N_("Message left"),
    "no_voicemail": N_("No voicemail possible"),
    "situation_normal": N_("The situation seems normal"),
    "situation_abnormal": N_("The situation is abnormal"),
    "false_alarm": N_("False alarm: close the case"),
    "dispatch_guard": N_("Guard dispatched"),
    "guard_finished": N_("The guard has finished: close the case"),
    "second_round": N_("Start the second round"),
}
OUTCOMES: Final = {
    "false_alarm": N_("False alarm"),
    "cancelled_by_owner": N_("Cancelled by the owner"),
    "guard_checked": N_("Checked by a guard"),
}
GUARD_REASONS: Final = {
    "confirmed_alarm": N_("Confirmed alarm"),
    "duress": N_("Duress"),
    "nobody_reached": N_("Nobody reached"),
}
CONTACT_KINDS: Final = {
    "owner": N_("Owner"),
    "ha_user": N_("Home Assistant user"),
    "outside": N_("Outside person"),
}

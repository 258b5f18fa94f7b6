"""The private calendar feed as iCalendar (RFC 5545), written by the icalendar library.

Every event is all-day (DTSTART and DTEND as dates, DTEND the day after), so it stays on its day
in whatever zone the calendar app shows it. Texts are in the language active when it is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, timedelta

import icalendar
from django.utils.translation import gettext as _

from learners.selectors.calendar import CalendarEvent

PRODID = "-//Metacoach//Study plan//EN"


def calendar_ics(*, events: Iterable[CalendarEvent], name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.changed_at.astimezone(UTC))
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a plan does not make the learner busy
        if item.kind == "exam":
            event.add("summary", _("Exam: %(subject)s") % {"subject": item.subject})
        else:
            event.add("summary", _("Study %(subject)s") % {"subject": item.subject})
            event.add("description", _("Strategy: %(strategy)s") % {"strategy": item.strategy})
        calendar.add_component(event)
    return calendar.to_ical()

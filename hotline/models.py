"""Every table, imported in one place so mappers and migrations see them all."""

import accounts.models  # noqa: F401
import cases.models  # noqa: F401
import hotline.telephony.models  # noqa: F401
import outreach.models  # noqa: F401
from outreach import schedule as _schedule  # noqa: F401 - connects follow-ups to transitions

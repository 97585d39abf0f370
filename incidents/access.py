"""Who may read and who handles an incident: the rule is core's
(core/incidents.py), so that the domains' pages apply it too."""
from core.incidents import OVERSEERS, READ_ALL, STAFF, legacy_parts, may_handle, may_read, visible

__all__ = ["OVERSEERS", "READ_ALL", "STAFF", "legacy_parts", "may_handle", "may_read", "visible"]

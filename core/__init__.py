"""Cross-cutting pieces shared by every domain: database, accounts and roles,
audit trail, internationalisation, security, the CLI — and the features that
span the domains (dashboard, due items, reminders and calendar, checklists and
the audit pack, spreadsheet exchange and the API).

Dependencies run one way: domain packages import ``core``; ``core`` imports no
domain.  The features that span domains read what each domain adds to the
app's registry in its ``init_app`` (core/plugins.py).  The import-linter
contract in .importlinter checks this (``make lint``).
"""

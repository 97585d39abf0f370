"""Cross-cutting pieces shared by every domain: database, accounts and roles,
audit trail, internationalisation, security and the CLI.

Dependencies run one way: domain packages import ``core``; ``core`` imports no
domain (the demo loader and the dashboard look domains up lazily).
"""

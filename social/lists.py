"""The social media account list: its search, filters and sorts, shared by
the list page, the spreadsheet export and the API (core.lists)."""
from __future__ import annotations

from core.lists import ListView, enum_filter, id_filter
from social import rules
from social.models import AccountStatus, Platform, SocialAccount

LIST = ListView(
    search=[SocialAccount.search_key, SocialAccount.url],  # name, reading, handle: folded (core.textkey)
    filters={
        "status": enum_filter(SocialAccount.status, AccountStatus),
        "platform": enum_filter(SocialAccount.platform, Platform),
        "unit": id_filter(SocialAccount.unit_id),
        "flag": rules.FLAGS.filter,
    },
    sorts={"name": (SocialAccount.reading, SocialAccount.name), "platform": SocialAccount.platform, "last_post": SocialAccount.last_post_on,
           "review": SocialAccount.next_review_on},
    default_sort="name",
)

"""The indexed search (issue 21): the search key's index (SQLite: a trigram
full-text table kept by triggers; PostgreSQL: a pg_trgm GIN index) stays
equal to the rows after every kind of change, and a search through it finds
exactly what the plain ``LIKE '%…%'`` of issue 20 found — for keys of one
and two characters (旭川, too short for a trigram) as for longer ones, in
every written form."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text, update

import core.textkey
from cloud.models import CloudService
from contracts.models import Contract
from core.db import db
from core.lists import like_pattern
from core.textkey import fold, fts_table, key_contains, search_key
from social.models import SocialAccount
from tests import factories
from tests.conftest import login_as
from vendors.models import Vendor, VendorStatus

NAMES = [
    ("株式会社旭川システム", "アサヒカワシステム"),
    ("旭川", "アサヒカワ"),
    ("旭", None),
    ("有限会社ABC情報", "エービーシージョウホウ"),
    ("空知ネットワーク株式会社", "ソラチネットワーク"),
    ('100%_"引用"データ\\社', None),
]
QUERIES = ["旭川", "旭", "川シ", "旭川システム", "あさひかわ", "ｱｻﾋｶﾜ", "アサヒカワ", "ABC", "ａｂｃ", "abc情", "(有)ABC",
           "㈱旭川", "株式会社", "ねっと", "100%", "%_", '"引用"', "\\", "ワ シ", "zzz", "1"]


def _sqlite(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def _like_ids(model, query: str) -> set[int]:
    """What issue 20's list search found: the query as typed, NFKC'd and folded, each in a LIKE."""
    import unicodedata
    texts = {query, unicodedata.normalize("NFKC", query), fold(query)} - {""}
    found = set()
    for piece in texts:
        column = model.search_key
        condition = column.like(like_pattern(piece), escape="\\") if db.engine.dialect.name == "sqlite" \
            else column.ilike(like_pattern(piece), escape="\\")
        found |= set(db.session.scalars(select(model.id).where(condition)))
    return found


def _indexed_ids(model, query: str) -> set[int]:
    import unicodedata
    texts = {query, unicodedata.normalize("NFKC", query), fold(query)} - {""}
    found = set()
    for piece in texts:
        found |= set(db.session.scalars(select(model.id).where(
            key_contains(model, piece, session=db.session))))
    return found


@pytest.fixture
def named(app, users):
    with app.app_context():
        for name, kana in NAMES:
            factories.vendor(name, kana=kana, selected=False)
        db.session.commit()
    return app


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_what_the_like_found(named, query):
    with named.app_context():
        assert _indexed_ids(Vendor, query) == _like_ids(Vendor, query)


@pytest.mark.parametrize("pair_cap", [None, 0])
def test_every_piece_of_every_key_is_found_as_before(named, pair_cap, monkeypatch):
    """Each substring of one to five characters of the stored keys, spaces
    between the parts included: the index and the LIKE agree on all (also
    when a pair starts too many trigrams and is looked up by a scan)."""
    if pair_cap is not None:
        monkeypatch.setattr(core.textkey, "MAX_PAIR_TRIGRAMS", pair_cap)
    with named.app_context():
        keys = db.session.scalars(select(Vendor.search_key)).all()
        pieces = {key[i:i + n] for key in keys for n in range(1, 6) for i in range(len(key) - n + 1)}
        pieces = {piece for piece in pieces if piece.strip() == piece}  # the list strips the query
        assert len(pieces) > 300
        for piece in sorted(pieces):
            assert _indexed_ids(Vendor, piece) == _like_ids(Vendor, piece), piece


@pytest.mark.parametrize("query", ["旭川", "ｱｻﾋｶﾜ", "旭川システム", "ＡＢＣ", "株式会社"])
def test_the_vendor_list_shows_the_same_hits(named, query):
    client = named.test_client()
    login_as(client, "admin")
    body = client.get("/vendors/", query_string={"q": query, "per_page": 100}).get_data(as_text=True)
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    with named.app_context():
        expected = _like_ids(Vendor, query)
        every = set(db.session.scalars(select(Vendor.id)))
    assert expected, query
    assert {i for i in every if f'href="/vendors/{i}"' in rows} == expected, query


def test_the_contract_list_finds_a_contract_by_its_vendor_short_and_long(named):
    with named.app_context():
        vendor = db.session.scalar(select(Vendor).where(Vendor.name == "株式会社旭川システム"))
        factories.contract("R8-901", title="庁内LAN保守", vendor_=vendor)
        factories.contract("R8-902", title="旭川地区の点検")
        factories.contract("R8-903", title="その他")
        db.session.commit()
    client = named.test_client()
    login_as(client, "admin")
    for query, numbers in [("旭川", {"R8-901", "R8-902"}), ("あさひかわしす", {"R8-901"}), ("ｌａｎ保守", {"R8-901"}),
                           ("r8-90", {"R8-901", "R8-902", "R8-903"}), ("点検", {"R8-902"})]:
        body = client.get("/contracts/", query_string={"q": query}).get_data(as_text=True)
        rows = body.split("<tbody>")[1].split("</tbody>")[0]
        assert {n for n in ("R8-901", "R8-902", "R8-903") if n in rows} == numbers, query


def _index_rows(model) -> dict[int, str]:
    """What the SQLite full-text table answers for each row: a search for
    every row's own key must find that row, and nothing may be found for a
    key no longer there."""
    name = fts_table(model.__tablename__)
    db.session.execute(text(f"INSERT INTO {name}({name}, rank) VALUES ('integrity-check', 1)"))  # raises if not equal
    return {row_id: key for row_id, key in db.session.execute(text(f"SELECT rowid, search_key FROM {name}"))}


@pytest.mark.parametrize("model", [Vendor, Contract, CloudService, SocialAccount])
def test_the_index_stays_equal_to_the_rows(app, users, model):
    """Created through the session, renamed, written with a bulk statement
    (gen-data, the import) and deleted: the index follows every write."""
    with app.app_context():
        make = {Vendor: lambda: factories.vendor("旧名株式会社", selected=False),
                Contract: lambda: factories.contract("R8-555", title="旧名業務"),
                CloudService: lambda: factories.cloud_service("旧名サービス"),
                SocialAccount: lambda: factories.social_account("旧名アカウント")}[model]
        record = make()
        db.session.commit()
        record_id = record.id

        def finds(query: str) -> bool:
            return record_id in set(db.session.scalars(select(model.id).where(
                key_contains(model, fold(query), session=db.session))))

        old = {Vendor: "旧名株", Contract: "旧名業", CloudService: "旧名サ", SocialAccount: "旧名ア"}[model]
        assert finds("旧名") and finds(old)
        setattr(record, "title" if model is Contract else "name", "新しい名前")
        db.session.commit()
        assert finds("新しい名") and not finds(old) and not finds("旧名")
        db.session.execute(update(model).where(model.id == record_id).values(search_key=search_key("一括で変えた")))
        db.session.commit()
        assert finds("一括で変") and not finds("新しい名")
        if _sqlite(app):
            assert _index_rows(model)[record_id] == search_key("一括で変えた")
        db.session.expire_all()
        db.session.delete(db.session.get(model, record_id))  # with its own rows (a contract's clauses…)
        db.session.commit()
        assert not finds("一括で変")
        if _sqlite(app):
            assert record_id not in _index_rows(model)


def test_bulk_inserts_are_indexed(app, users):
    """gen-data and the spreadsheet import insert with executemany, past the
    session's hooks: the triggers index those rows too."""
    with app.app_context():
        unit = factories.unit("検索課")
        db.session.commit()
        db.session.execute(insert(Vendor), [
            {"name": f"一括登録{i}株式会社", "status": VendorStatus.CANDIDATE, "unit_id": unit.id,
             "search_key": search_key(f"一括登録{i}株式会社")} for i in range(5)])
        db.session.commit()
        found = db.session.scalars(select(Vendor.name).where(
            key_contains(Vendor, "一括登録3", session=db.session))).all()
        assert found == ["一括登録3株式会社"]
        if _sqlite(app):
            _index_rows(Vendor)


def test_each_database_has_its_trigram_index(app):
    if _sqlite(app):  # full-text tables with the trigram tokenizer
        with app.app_context():
            tables = dict(db.session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE '%_fts'")).all())
        for table in ("vendors", "contracts", "cloud_services", "social_accounts"):
            assert "trigram" in tables[f"{table}_fts"]
        return
    with app.app_context():
        definitions = dict(db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix_%_search_key'")).all())
    for table in ("vendors", "contracts", "cloud_services", "social_accounts"):
        assert "gin" in definitions[f"ix_{table}_search_key"] and "gin_trgm_ops" in definitions[f"ix_{table}_search_key"]


@pytest.mark.parametrize("query", ["旭川", "株式会社", "ABC", "zzz"])
@pytest.mark.parametrize("sort", ["name", "status", "updated"])
def test_a_common_word_read_in_the_sort_order_lists_the_same_page(named, query, sort, monkeypatch):
    """Issue 21: a word in many rows (above core.lists.IN_ORDER_ABOVE matches)
    is checked on each row read in the sort order, so SQLite stops after the
    page; the pages, their order and the count are those of the indexed read."""
    import core.lists

    with named.app_context():
        for n in range(25):  # more than a page: 株式会社テスト…, half of them ended
            factories.vendor(selected=False, status=VendorStatus.ENDED if n % 2 else VendorStatus.ACTIVE)
        db.session.commit()
    client = named.test_client()
    login_as(client, "admin")

    def pages():
        found = []
        for direction in ("asc", "desc"):
            for page in (1, 2):
                body = client.get("/vendors/", query_string={"q": query, "sort": sort, "dir": direction,
                                                             "per_page": 20, "page": page}).get_data(as_text=True)
                found.append((body.split("<tbody>")[1].split("</tbody>")[0], body.split('<p class="mb-0" role="status">')[1][:80]))
        return found

    indexed = pages()
    monkeypatch.setattr(core.lists, "IN_ORDER_ABOVE", 1)
    assert pages() == indexed

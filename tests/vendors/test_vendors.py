"""The vendor register as it stands in the foundation: list, detail, rules."""
from __future__ import annotations

import pytest

from contracts.models import ContractStatus
from core.db import db
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as
from vendors.models import VendorStatus
from vendors.rules import corporate_number_check_digit, is_valid_corporate_number


@pytest.mark.parametrize("number, valid", [
    ("7000012050002", True), ("7000012050003", False), ("700001205000", False), ("70000120500021", False),
    ("700001205000A", False), ("", False),
])
def test_corporate_number_check_digit(number, valid):
    assert is_valid_corporate_number(number) is valid


def test_check_digit_of_a_known_number():
    assert corporate_number_check_digit("000012050002") == 7


@pytest.fixture
def vendors(app, users):
    """Five vendors, their ids by key; the first has a contract."""
    with app.app_context():
        made = {
            "dohoku": factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム",
                                       corporate_number="3430001012345"),
            "sorachi": factories.vendor("空知ネットワーク株式会社", kana="ソラチネットワーク"),
            "minato": factories.vendor("株式会社みなとウェブ制作", kana="ミナトウェブセイサク"),
            "ishikari": factories.vendor("有限会社いしかりデータ消去", kana="イシカリデータショウキョ",
                                         status=VendorStatus.ENDED),
            "sample": factories.vendor("株式会社サンプル防災設備", kana="サンプルボウサイセツビ",
                                       status=VendorStatus.SUSPENDED),
        }
        factories.contract(vendor_=made["dohoku"], title="高機能消防指令システム保守業務委託",
                           status=ContractStatus.IN_FORCE)
        db.session.commit()
        return {key: vendor.id for key, vendor in made.items()}


@pytest.fixture
def reader(app, vendors):
    client = app.test_client()
    login_as(client, "procurement")
    return client


def rows(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


def test_search_by_name_kana_and_corporate_number(reader):
    assert "道央情報システム" in rows(reader.get("/vendors/?q=道央").get_data(as_text=True))
    assert "道央情報システム" in rows(reader.get("/vendors/?q=ドウオウ").get_data(as_text=True))
    body = rows(reader.get("/vendors/?q=430001012345").get_data(as_text=True))
    assert "道央情報システム" in body and "空知" not in body


def test_search_treats_wildcards_as_text(reader):
    assert "該当するものはありません。" in reader.get("/vendors/?q=%25").get_data(as_text=True)


def test_filter_by_status_and_sort(reader):
    body = rows(reader.get("/vendors/?status=suspended").get_data(as_text=True))
    assert "サンプル防災設備" in body and "道央" not in body
    ascending = rows(reader.get("/vendors/?sort=name&dir=asc").get_data(as_text=True))
    descending = rows(reader.get("/vendors/?sort=name&dir=desc").get_data(as_text=True))
    assert ascending.index("イシカリ") < ascending.index("ミナト")
    assert descending.index("ミナト") < descending.index("イシカリ")


def test_paging(reader, vendors):
    html = reader.get("/vendors/?per_page=20").get_data(as_text=True)
    assert "5件中 1–5件を表示" in html
    # Bad paging input falls back to defaults rather than failing.
    assert reader.get("/vendors/?page=abc&per_page=-5&sort=nonsense").status_code == 200
    assert "該当するものはありません。" in reader.get("/vendors/?page=99").get_data(as_text=True)


def test_detail_lists_contracts_and_history(reader, vendors):
    html = reader.get(f"/vendors/{vendors['dohoku']}").get_data(as_text=True)
    assert "高機能消防指令システム保守業務委託" in html and "変更履歴" in html
    assert reader.get("/vendors/999").status_code == 404


def test_pages_of_a_sort_with_ties_neither_repeat_nor_skip_a_vendor(demo):
    """Sorted by status, most vendors tie: page after page still lists each
    vendor once (the key breaks ties), in the order the export writes."""
    import re

    from core.gendata import generate

    with demo.app_context():
        generate(70, 10, 10, report=lambda _line: None)
    reader = demo.test_client()
    login_as(reader, "auditor", DEMO_PASSWORD)
    seen = []
    for page in range(1, 5):
        html = reader.get(f"/vendors/?sort=status&dir=desc&per_page=20&page={page}").get_data(as_text=True)
        seen += re.findall(r'href="/vendors/(\d+)"', html.split("<tbody>")[1].split("</tbody>")[0])
    assert len(seen) == len(set(seen)) == 77
    exported = reader.get("/vendors/export.csv?sort=status&dir=desc").get_data(as_text=True).splitlines()[1:]
    assert [line.split(",")[0].lstrip("\ufeff") for line in exported] == seen

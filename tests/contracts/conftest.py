"""Fixtures shared by the contract tests."""
from __future__ import annotations

import pytest

from tests.vendors.test_vendor_register import register_vendor, select_vendor


@pytest.fixture
def selected_vendor(buyer, app) -> int:
    """A vendor registered and selected through the pages, ready to be contracted."""
    vendor_id = register_vendor(buyer)
    select_vendor(buyer, app, vendor_id)
    return vendor_id

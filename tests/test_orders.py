"""Amazon's All Orders report: tolerant import, one record per order, bad rows named."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.errors import UsageError
from daemon.order_import import import_report
from daemon.orders import parse_report, read_report
from daemon.state import Store

REPORT = Path(__file__).parent / "orders" / "all_orders.txt"


def test_report_with_bom_crlf_and_extra_columns_is_read_by_column_name():
    result = read_report(REPORT)
    assert result.rows == 10
    assert set(result.orders) == {
        "111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003", "302-0000004-0000004", "111-0000005-0000005",
    }
    kettle = result.orders["302-0000004-0000004"]
    assert kettle.channel == "FBA" and kettle.shipping_state == "unshipped"
    assert kettle.total == 39.90  # European decimal comma


def test_the_latest_row_per_order_wins():
    mug = read_report(REPORT).orders["111-0000001-0000001"]
    assert mug.shipping_state == "shipped"
    assert mug.tracking_number == "9400111899223100000001"
    assert len(mug.items) == 1


def test_several_items_of_one_order_are_merged():
    order = read_report(REPORT).orders["111-0000005-0000005"]
    assert {item.sku for item in order.items} == {"MUG-SAGE", "COAST-BAM"}
    assert order.total == 21.0


def test_bad_rows_are_rejected_with_their_line_numbers():
    rejected = {r.line: r.reason for r in read_report(REPORT).rejected}
    assert set(rejected) == {9, 10, 11}
    assert "amazon-order-id" in rejected[9]
    assert "purchase-date" in rejected[10]
    assert "item-price" in rejected[11]


def test_column_order_does_not_matter():
    text = "order-status\tamazon-order-id\tfulfillment-channel\nShipped\t123-1234567-1234567\tAmazon\n"
    order = parse_report(text).orders["123-1234567-1234567"]
    assert order.channel == "FBA" and order.shipping_state == "shipped"


def test_a_file_that_is_not_an_order_report_is_one_line_error():
    with pytest.raises(UsageError, match="missing column 'amazon-order-id'"):
        parse_report("text,label\nhello,other\n", "x.csv")


def test_import_counts_new_updated_and_unchanged(tmp_path):
    store = Store(tmp_path / "state", fsync=False)
    _, new, updated = import_report(store, REPORT)
    assert (new, updated) == (5, 0)
    _, new, updated = import_report(store, REPORT)
    assert (new, updated) == (0, 0)
    changed = tmp_path / "later.txt"
    changed.write_text("amazon-order-id\torder-status\tfulfillment-channel\n302-0000004-0000004\tShipped\tAmazon\n")
    _, new, updated = import_report(store, changed)
    assert (new, updated) == (0, 1)
    assert store.get_order("302-0000004-0000004")["status"] == "Shipped"

"""Amazon's "All Orders" report (tab-separated) into order facts the playbooks decide on.

Seller Central's reports change column order, grow new columns, come with a BOM or Windows line
ends, and list one row per item, so the reader goes by column name, merges the items of an
order, keeps the most recent row per order, and names every line it rejects.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from daemon.errors import UsageError

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
REQUIRED = ("amazon-order-id", "order-status")
SHIPPED = {"shipped", "delivered", "shipping", "partially shipped", "partiallyshipped", "complete", "completed"}
UNSHIPPED = {"pending", "unshipped", "pendingavailability", "pending availability", "processing"}
ALIASES = {
    "order-id": "amazon-order-id",
    "order id": "amazon-order-id",
    "tracking-id": "tracking-number",
    "carrier-name": "carrier",
    "ship-service-level": "ship-service-level",
    "estimated-arrival-date": "estimated-arrival-date",
}


@dataclass(frozen=True)
class OrderItem:
    sku: str
    product_name: str
    quantity: int
    item_price: float


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str
    """Amazon's word as the report writes it (Pending, Unshipped, Shipped, Cancelled...)."""
    channel: str
    """FBA (fulfilled by Amazon) or FBM (by the merchant), or "" when the report does not say."""
    purchase_date: datetime | None = None
    last_updated: datetime | None = None
    items: tuple[OrderItem, ...] = ()
    currency: str = ""
    ship_country: str = ""
    carrier: str = ""
    tracking_number: str = ""
    expected_date: str = ""

    @property
    def total(self) -> float:
        return round(sum(item.item_price for item in self.items), 2)

    @property
    def shipping_state(self) -> str:
        """unshipped, shipped, cancelled, or "" when the status word is unknown."""
        status = self.status.strip().lower()
        if status in SHIPPED:
            return "shipped"
        if status in UNSHIPPED:
            return "unshipped"
        if status.startswith("cancel"):
            return "cancelled"
        return ""

    @property
    def product_name(self) -> str:
        """The first item's name: replies are written in the buyer's language, so nothing
        English is added for the other items."""
        names = [item.product_name for item in self.items if item.product_name]
        return names[0] if names else ""

    @property
    def skus(self) -> str:
        return ", ".join(dict.fromkeys(item.sku for item in self.items if item.sku))


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ImportResult:
    orders: dict[str, Order] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    rows: int = 0


def read_report(path: Path) -> ImportResult:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such file") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_report(_decode(data), str(path))


def _decode(data: bytes) -> str:
    """Reports are UTF-8 (often with a BOM); older Japanese and European exports are not."""
    for encoding in ("utf-8-sig", "cp932", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def parse_report(text: str, name: str = "report") -> ImportResult:
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{name}: empty file (expected Amazon's All Orders report, tab-separated)") from None
    columns = [ALIASES.get(column.strip().lower(), column.strip().lower()) for column in header]
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise UsageError(f"{name}: missing column {missing[0]!r} (is this Amazon's All Orders report, tab-separated?)")
    result = ImportResult()
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        record = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(columns)}
        try:
            order = _order(record)
        except ValueError as exc:
            result.rejected.append(Rejected(number, str(exc)))
            continue
        result.orders[order.order_id] = _merge(result.orders.get(order.order_id), order)
    return result


def _order(record: dict[str, str]) -> Order:
    order_id = record["amazon-order-id"]
    if not ORDER_ID.match(order_id):
        raise ValueError(f"amazon-order-id {order_id!r} is not of the form 123-1234567-1234567")
    channel_word = record.get("fulfillment-channel", "").lower()
    channel = "FBA" if channel_word in {"amazon", "afn"} else "FBM" if channel_word in {"merchant", "mfn", "seller"} else ""
    item = OrderItem(
        sku=record.get("sku", ""),
        product_name=record.get("product-name", ""),
        quantity=_integer(record.get("quantity", ""), "quantity"),
        item_price=_money(record.get("item-price", ""), "item-price"),
    )
    return Order(
        order_id=order_id,
        status=record["order-status"],
        channel=channel,
        purchase_date=_date(record.get("purchase-date", ""), "purchase-date"),
        last_updated=_date(record.get("last-updated-date", ""), "last-updated-date"),
        items=(item,) if item.sku or item.product_name or item.item_price else (),
        currency=record.get("currency", ""),
        ship_country=record.get("ship-country", ""),
        carrier=record.get("carrier", ""),
        tracking_number=record.get("tracking-number", ""),
        expected_date=record.get("estimated-arrival-date", ""),
    )


def _merge(earlier: Order | None, row: Order) -> Order:
    """Items of one order add up; the newer row's status wins (an order moves on)."""
    if earlier is None:
        return row
    newest = row if _stamp(row) >= _stamp(earlier) else earlier
    items = earlier.items + tuple(item for item in row.items if item not in earlier.items)
    return replace(newest, items=items, tracking_number=newest.tracking_number or earlier.tracking_number, carrier=newest.carrier or earlier.carrier)


def _stamp(order: Order) -> datetime:
    return order.last_updated or order.purchase_date or datetime.min.replace(tzinfo=timezone.utc)


def _integer(text: str, column: str) -> int:
    if not text:
        return 1
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None


def _money(text: str, column: str) -> float:
    if not text:
        return 0.0
    cleaned = text.replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # European decimal comma: 19,99
    cleaned = cleaned.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not an amount") from None


def _date(text: str, column: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a date (expected ISO 8601, as Amazon writes it)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def order_to_record(order: Order) -> dict[str, object]:
    return {
        "order_id": order.order_id, "status": order.status, "channel": order.channel,
        "purchase_date": order.purchase_date.isoformat() if order.purchase_date else "",
        "last_updated": order.last_updated.isoformat() if order.last_updated else "",
        "items": [[i.sku, i.product_name, i.quantity, i.item_price] for i in order.items],
        "currency": order.currency, "ship_country": order.ship_country, "carrier": order.carrier,
        "tracking_number": order.tracking_number, "expected_date": order.expected_date,
    }


def order_from_record(record: dict[str, object]) -> Order:
    def moment(value: object) -> datetime | None:
        return datetime.fromisoformat(str(value)) if value else None

    return Order(
        order_id=str(record["order_id"]), status=str(record.get("status", "")), channel=str(record.get("channel", "")),
        purchase_date=moment(record.get("purchase_date")), last_updated=moment(record.get("last_updated")),
        items=tuple(OrderItem(str(s), str(p), int(q), float(v)) for s, p, q, v in record.get("items", [])),  # type: ignore[union-attr]
        currency=str(record.get("currency", "")), ship_country=str(record.get("ship_country", "")),
        carrier=str(record.get("carrier", "")), tracking_number=str(record.get("tracking_number", "")),
        expected_date=str(record.get("expected_date", "")),
    )


def report_files(directory: Path, seen: set[str]) -> Iterator[Path]:
    """Report files in the watched folder not imported before (by name and size)."""
    for path in sorted(Path(directory).glob("*")):
        if path.is_file() and path.suffix.lower() in {".txt", ".tsv", ".csv"}:
            tag = f"{path.name}:{path.stat().st_size}"
            if tag not in seen:
                yield path

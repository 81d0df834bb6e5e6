"""Order reports into the store: by hand (`orders import`) or from the watched folder."""

from __future__ import annotations

import logging
from pathlib import Path

from daemon.orders import ImportResult, order_to_record, read_report, report_files
from daemon.state import Store

log = logging.getLogger(__name__)


def import_report(store: Store, path: Path) -> tuple[ImportResult, int, int]:
    result = read_report(path)
    new, updated = store.put_orders({order_id: order_to_record(order) for order_id, order in result.orders.items()})
    return result, new, updated


def import_order_folder(store: Store, directory: Path | None) -> list[str]:
    """Import report files dropped into `[amazon] orders_dir` since the last look."""
    if directory is None or not Path(directory).is_dir():
        return []
    lines = []
    for path in report_files(directory, store.imported_reports()):
        try:
            result, new, updated = import_report(store, path)
        except Exception as exc:  # noqa: BLE001 - one bad report must not stop the daemon
            lines.append(f"order report {path.name}: not imported: {exc}")
            log.warning(lines[-1])
            continue
        store.mark_report_imported(f"{path.name}:{path.stat().st_size}")
        lines.append(f"order report {path.name}: {new} new, {updated} updated, {len(result.rejected)} rejected")
        log.info(lines[-1])
    return lines

"""Reading the text tables users make in spreadsheets and editors: a byte-order mark (Excel's "CSV UTF-8"),
Windows line ends, comment lines and rows that stop before their last, optional cells are all accepted; anything
else is one line naming the file and the line."""
from __future__ import annotations

import csv
from pathlib import Path

from .errors import UserError


def read_text(path: str | Path, what: str) -> str:
    """The file's text without a byte-order mark; `what` names the file in the one-line errors."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}", "check the path") from None
    except IsADirectoryError:
        raise UserError(f"{what} {path} is a folder", "give the file inside it") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} {path} ({exc.strerror or exc})", "check its permissions") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{what} {path} is not UTF-8 text (byte {exc.start + 1})",
                        "save it as UTF-8 (in Excel: 'CSV UTF-8')") from None


def read_rows(path: str | Path, what: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: stripped cell}) for each row of a CSV with a header; lines starting with '#' and
    blank lines are skipped. A row without a cell for each `required` column, or with more non-empty cells than
    the header has columns, is refused by line."""
    text = read_text(path, what)
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    reader = csv.reader(lines)
    header = None
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in required if c not in header]
            if missing:
                raise UserError(f"{what} {path}: needs a header with the columns {','.join(required)} (line "
                                f"{reader.line_num} has {','.join(header)})", "more columns are allowed")
            continue
        n = reader.line_num
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise UserError(f"{what} {path}, line {n}: {len(cells)} cells for {len(header)} columns",
                            "quote a cell that holds a comma")
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        empty = [c for c in required if not row[c]]
        if empty:
            raise UserError(f"{what} {path}, line {n}: no {' or '.join(empty)}",
                            f"give each row its {','.join(required)}")
        rows.append((n, row))
    return rows

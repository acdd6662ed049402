"""Merge new translations into ``resources/translations/<lang>.json``.

    python tools/add_translations.py zh_CN new.json   # {"English": "中文", …}

Keeps the table sorted and one entry per line, refuses to change an existing
translation silently (it says which differ), and writes atomically under a lock, so
several people (or sessions) may add strings at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import tempfile
from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parents[1] / "resources" / "translations"


def merge(language: str, new: dict[str, str]) -> list[str]:
    """Add ``new`` to the table; returns the keys whose existing text differs."""
    path = TRANSLATIONS / f"{language}.json"
    with open(TRANSLATIONS / f".{language}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = json.loads(path.read_text(encoding="utf-8"))
        conflicts = [key for key, text in new.items() if table.get(key, text) != text]
        table.update({key: text for key, text in new.items() if key not in table})
        text = json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        handle, temporary = tempfile.mkstemp(dir=TRANSLATIONS, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    return conflicts


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip())
        return 2
    language, fragment = argv
    conflicts = merge(language, json.loads(Path(fragment).read_text(encoding="utf-8")))
    for key in conflicts:
        print(f"kept the existing translation of {key!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

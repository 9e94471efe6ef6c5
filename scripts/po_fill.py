#!/usr/bin/env python3
"""Fill zh-Hans translations from a JSON file of {msgid: msgstr} and clear their fuzzy flags.

    scripts/po_fill.py translations.json   # edits src/guanxi/locale/zh_Hans/LC_MESSAGES/django.po

A maintenance aid for `make messages`: prints the entries still untranslated or fuzzy afterwards.
"""

import json
import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "src/guanxi/locale/zh_Hans/LC_MESSAGES/django.po"


def unquote(lines: list[str]) -> str:
    return "".join(json.loads(line[line.index('"') :]) for line in lines)


def main() -> int:
    translations = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else {}
    blocks = PO.read_text().split("\n\n")
    out, pending = [], []
    for block in blocks:
        lines = block.split("\n")
        ids = [i for i, line in enumerate(lines) if line.startswith("msgid ")]
        if not ids:
            out.append(block)
            continue
        start = ids[0]
        end = next(i for i, line in enumerate(lines) if line.startswith("msgstr") or line.startswith("msgid_plural"))
        msgid = unquote(lines[start:end])
        if msgid in translations:
            head = [ln for ln in lines[:start] if not ln.startswith("#|") and ln != "#, fuzzy"]
            head = [re.sub(r", fuzzy", "", ln) if ln.startswith("#,") else ln for ln in head]
            body = lines[start:]
            if any(ln.startswith("msgid_plural") for ln in body):
                cut = next(i for i, ln in enumerate(body) if ln.startswith("msgstr"))
                body = [*body[:cut], "msgstr[0] " + json.dumps(translations[msgid], ensure_ascii=False)]
            else:
                cut = next(i for i, ln in enumerate(body) if ln.startswith("msgstr"))
                body = [*body[:cut], "msgstr " + json.dumps(translations[msgid], ensure_ascii=False)]
            lines = head + body
            block = "\n".join(lines)
        text = "\n".join(lines)
        empty = re.search(r'^msgstr(\[0\])? ""$', text, re.M) and not re.search(r'^msgstr(\[0\])? ""\n"', text, re.M)
        if msgid and ("#, fuzzy" in text or empty):
            pending.append(msgid)
        out.append(block)
    PO.write_text("\n\n".join(out))
    for msgid in pending:
        print(msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main())

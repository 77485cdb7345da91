"""Refresh the translation catalogues after changing interface strings (needs Debian's `gettext`; tests and CI don't).

1. `makemessages` extracts the French source strings into `src/pilotage/locale/{en,fr}/LC_MESSAGES/django.po`;
2. the French catalogue repeats each source string, so that French plurals follow the French rule ("0 territoire");
3. `compilemessages` writes the `.mo` files, which are committed;
4. the English strings still to translate are listed (and `tests/test_translations.py` fails until they are).

Usage: `make messages`, then translate the listed msgids in the English .po and run it again.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "pilotage"
FIELD_RE = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) (".*")$')


def django_admin(*args: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pilotage.settings", "PYTHONPATH": str(ROOT / "src")}
    env.setdefault("DATABASE_URL", "sqlite:///:memory:")
    subprocess.run([sys.executable, "-m", "django", *args], cwd=PACKAGE, env=env, check=True)


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def read_entries(path: Path) -> list[tuple[list[str], dict[str, str]]]:
    """Each entry of a .po file: its lines and its fields, unescaped (enough of the format for makemessages')."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip("\n").split("\n\n"):
        lines, fields, current = block.split("\n"), {}, None
        for line in lines:
            match = FIELD_RE.match(line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        entries.append((lines, fields))
    return entries


def mirror_french(path: Path) -> None:
    """Set every msgstr of the French catalogue to its msgid (singular and plural), and drop fuzzy marks."""
    blocks = []
    for lines, fields in read_entries(path):
        if not fields.get("msgid"):
            header = "\n".join(line for line in lines if line != "#, fuzzy")
            blocks.append(re.sub(r'"Plural-Forms: [^"]*"', r'"Plural-Forms: nplurals=2; plural=(n > 1);\\n"', header))
            continue
        out = [line for line in lines if line.startswith("#") and line != "#, fuzzy" and not line.startswith("#|")]
        if "msgctxt" in fields:
            out.append(f"msgctxt {quote(fields['msgctxt'])}")
        out.append(f"msgid {quote(fields['msgid'])}")
        if "msgid_plural" in fields:
            out += [f"msgid_plural {quote(fields['msgid_plural'])}", f"msgstr[0] {quote(fields['msgid'])}"]
            out.append(f"msgstr[1] {quote(fields['msgid_plural'])}")
        else:
            out.append(f"msgstr {quote(fields['msgid'])}")
        blocks.append("\n".join(out))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def untranslated(path: Path) -> list[str]:
    return [
        fields["msgid"]
        for lines, fields in read_entries(path)
        if fields.get("msgid")
        and ("#, fuzzy" in " ".join(lines) or not all(v for k, v in fields.items() if k.startswith("msgstr")))
    ]


def main() -> int:
    django_admin("makemessages", "-l", "en", "-l", "fr", "--ignore=tests/*", "--no-obsolete")
    mirror_french(PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    django_admin("compilemessages")
    english = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
    todo = untranslated(english)
    for msgid in todo:
        print("-", msgid)
    if todo:
        print(f"{len(todo)} English translations missing or fuzzy: fill them in {english.relative_to(ROOT)}, rerun.")
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main())

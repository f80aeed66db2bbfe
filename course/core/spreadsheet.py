"""The CSV files the course writes (nbgrader's grades.csv, the LMS's gradebook imports, the
per-cell tables) as a spreadsheet opens them: every row read back as written, whatever a name
holds (commas, quotes, newlines, any script), and no text it would run as a formula.

Names reach these files from places a student edits (their LMS profile, the roster made from
it). A spreadsheet runs a field that starts with = + - or @ (and, in some, a tab or carriage
return before one) as a formula: `=HYPERLINK(...)` leaks data, `+cmd|' /C calc'!A0` starts a
program. Quoting the field does not stop it. So, as OWASP's CSV injection guidance says, a text
field that starts with one of them gets a leading ' (which the spreadsheet shows as text and
hides); numbers are written as numbers.

- `neutralized(value)`: one field, as written;
- `writer(handle)`: csv.writer's drop-in that writes every field so. nbgrader's grades.csv is
  written by it too (course/plugins/export.py).
"""
import csv

# OWASP's list, and their full-width forms, which a spreadsheet may fold into the others
# (Unicode's compatibility forms, NFKC); a name loses nothing to a ' the spreadsheet hides
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralized(value):
    """`value` as a CSV field: a number (int or float) as it is; None as ""; any other value as
    its text, with a leading ' if a spreadsheet would run it: it starts with = + - @ tab or
    carriage return (or their full-width forms), after any spaces.

    >>> neutralized('=HYPERLINK("http://x","y")'), neutralized("-2+3"), neutralized(-2.0)
    ('\\'=HYPERLINK("http://x","y")', "'-2+3", -2.0)
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    # a spreadsheet that trims a field's leading spaces on import sees the character after them
    runs = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return "'" + text if runs else text


class _Writer:
    def __init__(self, handle, **options):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row):
        return self._writer.writerow([neutralized(field) for field in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(handle, **options):
    """csv.writer(handle, **options) whose rows are written field by field as `neutralized`
    says. Open `handle` with newline="" (the csv module's rule) and encoding="utf-8". Keep the
    csv module's line ending, \r\n: a field is quoted when it holds a character of the line
    ending, and Python 3.11's csv leaves a \r unquoted under lineterminator="\n"."""
    return _Writer(handle, **options)

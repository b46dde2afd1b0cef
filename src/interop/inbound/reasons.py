"""What reading a list file says (catalogue templates): why the file cannot be read, why a
row is quarantined before it is mapped. Formatted in English where it arises, kept so in
the archive and in ``--json``; said in the operator's language by
:func:`interop.i18n.templates.localise`.
"""

from __future__ import annotations

from interop.i18n import N_

# Why a row is quarantined before it is mapped (code, message).
LONG_ROW = N_("the row has {cells} cells, the header {width}: extra cells {extra}")
LONG_CELL = N_("{column}: the cell holds {size} characters, more than {limit}")
ID_AS_NUMBER = N_(
    "{column}: stored as a number by Excel: digits lost (format the column as text and "
    "export again)"
)
SHORT_ROW = N_("the row is cut short: {cells} of {width} columns, missing {missing}")
COLUMN_N = N_("column {n}")
# Why the file cannot be read at all (the file name first; said through interop.i18n.errors).
NO_FORMAT = N_("{file}: cannot tell the format from the file name; give --format ({formats})")
UNKNOWN_FORMAT = N_("unknown format '{format}': use one of {formats}")
NOT_TEXT = N_("{file}: the text is neither UTF-8 nor GBK/GB18030; give --encoding")
NOT_ENCODED = N_("{file}: row {row} is not valid {encoding} text; give --encoding")
NOT_CSV = N_("{file}: row {row} is not valid CSV ({error})")
UNREADABLE = N_("{file}: cannot read the file ({error})")
UNKNOWN_ENCODING = N_("unknown encoding '{encoding}'")
CANNOT_READ = N_("{file}: cannot read ({error})")
NO_FILE = N_("{file}: no such file")
NO_SHEET_NAMED = N_("{file}: no sheet named '{sheet}'")
NOT_XML = N_("{file}: not well-formed XML at line {line} (after record {record})")
NOT_JSON = N_("{file}: not valid JSON{where}")
AT_LINE = N_(" at line {line}")
NO_RECORDS = N_("{file}: expected a JSON array of records or an object holding one")
LINE_NOT_JSON = N_("the line is not valid JSON")

"""Roster import — 名册导入: the union's member list from a CSV or XLSX file.

Three steps, each usable on its own:

- ``read_rows``      the file → ``RosterRow``s (spreadsheet row number + cells by column);
  ``files`` reads the lines, ``header`` finds the header among them
- ``validate_row``   one row's cells → a clean ``RosterEntry`` or the problems that refuse
  it (``cells`` checks each cell); ``validate_rows`` does every row and also refuses rows
  sharing a 工号
- ``import_roster``  validates the whole file, then upserts by 工号 in one write transaction
  (``writing``)

A file that cannot be used at all (unreadable, empty, a required column missing) raises
``RosterError`` and nothing is stored. A bad row is refused as a whole, reported with its
row number and problems, and the good rows are imported. A problem names a macro of
``templates/notices/roster.txt.j2``: the caller renders the wording.
"""

from models.roster.files import read_rows
from models.roster.header import REQUIRED_COLUMNS, RosterRow
from models.roster.importing import ImportReport, import_roster
from models.roster.problems import Problem, RosterError
from models.roster.rows import Rejection, RosterEntry, validate_row, validate_rows

__all__ = [
    "REQUIRED_COLUMNS", "ImportReport", "Problem", "Rejection", "RosterEntry", "RosterError",
    "RosterRow", "import_roster", "read_rows", "validate_row", "validate_rows",
]

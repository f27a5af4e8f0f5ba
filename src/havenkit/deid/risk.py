"""Disclosure risk of a table before release: k-anonymity on the chosen quasi-identifiers.

A record whose combination of quasi-identifiers (age band, sex, district, ...) is shared by
fewer than k records is easier to re-identify. The report counts, in one grouped pass, the
unique records, the smallest group and the records in groups smaller than the threshold, so
a steward can generalise further and rebuild before the extract is released.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class KAnonymityReport:
    quasi_identifiers: list[str]
    threshold: int
    records: int
    groups: int
    unique_records: int
    smallest_group: int
    records_below_threshold: int

    @property
    def passes(self) -> bool:
        """True when no record is in a group smaller than the threshold."""
        return self.records_below_threshold == 0

    def as_dict(self) -> dict:
        return asdict(self) | {"passes": self.passes}


def k_anonymity_report(
    table: object, quasi_identifiers: Sequence[str], threshold: int = 10
) -> KAnonymityReport:
    """The k-anonymity of ``table`` (pyarrow or pandas) on ``quasi_identifiers``.

    Missing values form a group of their own, as a blank is as telling as any value.
    """
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    names = list(quasi_identifiers)
    absent = [name for name in names if name not in table.column_names]
    if not names or absent:
        raise ValueError(
            "Name at least one quasi-identifier that is a column of the table"
            + (f"; not columns: {', '.join(absent)}." if absent else ".")
        )
    if table.num_rows == 0:
        return KAnonymityReport(names, threshold, 0, 0, 0, 0, 0)
    sizes = table.select(names).group_by(names).aggregate([([], "count_all")])["count_all"]
    return KAnonymityReport(
        quasi_identifiers=names,
        threshold=threshold,
        records=table.num_rows,
        groups=len(sizes),
        unique_records=pc.sum(pc.equal(sizes, 1)).as_py() or 0,
        smallest_group=pc.min(sizes).as_py(),
        records_below_threshold=pc.sum(pc.filter(sizes, pc.less(sizes, threshold))).as_py() or 0,
    )

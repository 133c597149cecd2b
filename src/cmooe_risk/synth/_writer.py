"""Write extracts as an MIS would: Parquet with typed columns, or CSV with UK dates."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["TableWriter", "write_table"]

Format = Literal["parquet", "csv"]

_UK_DATE = "%d/%m/%Y"
_UK_TIME = "%d/%m/%Y %H:%M"


def _to_csv_table(table: pa.Table) -> pa.Table:
    columns = []
    for column in table.columns:
        column_type = column.type
        if pa.types.is_date(column_type):
            column = pc.strftime(column.cast(pa.timestamp("s")), format=_UK_DATE)
        elif pa.types.is_timestamp(column_type):
            column = pc.strftime(column, format=_UK_TIME)
        elif pa.types.is_dictionary(column_type):
            column = column.cast(column_type.value_type)
        columns.append(column)
    return pa.table(dict(zip(table.column_names, columns, strict=True)))


class TableWriter:
    """Streams record batches to ``<dir>/<name>.parquet`` or ``.csv``."""

    def __init__(self, directory: Path, name: str, schema: pa.Schema, fmt: Format) -> None:
        self.fmt = fmt
        self.path = directory / f"{name}.{fmt}"
        self.schema = schema
        self.rows = 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0 and self._writer is not None:
            return
        table = table.cast(self.schema)
        self.rows += table.num_rows
        if self.fmt == "parquet":
            if self._writer is None:
                self._writer = pq.ParquetWriter(
                    self.path,
                    self.schema,
                    compression="zstd",
                    use_dictionary=True,
                    write_statistics=True,
                )
            self._writer.write_table(table, row_group_size=2_000_000)
        else:
            csv_table = _to_csv_table(table)
            if self._writer is None:
                self._writer = pacsv.CSVWriter(self.path, csv_table.schema)
            self._writer.write_table(csv_table)

    def close(self) -> int:
        if self._writer is None:
            self.write(self.schema.empty_table())
        if self._writer is not None:
            self._writer.close()
        return self.rows


def write_table(directory: Path, name: str, table: pa.Table, fmt: Format) -> int:
    writer = TableWriter(directory, name, table.schema, fmt)
    writer.write(table)
    return writer.close()


def dates(values: np.ndarray) -> pa.Array:
    """``datetime64[D]`` with NaT as null -> date32."""
    days = np.asarray(values, dtype="datetime64[D]")
    mask = np.isnat(days)
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=mask)


def ints(
    values: np.ndarray, null_below: int | None = None, type_: pa.DataType | None = None
) -> pa.Array:
    type_ = type_ or pa.int32()
    array = np.asarray(values)
    mask = array < null_below if null_below is not None else None
    return pa.array(array.astype(np.int64), type=type_, mask=mask)


def labels(
    codes: tuple[str, ...] | list[str], index: np.ndarray, *, dictionary: bool = False
) -> pa.Array:
    """Codes by index; negative index is null."""
    indices = np.asarray(index, dtype=np.int64)
    mask = indices < 0
    dictionary_array = pa.DictionaryArray.from_arrays(
        pa.array(np.where(mask, 0, indices).astype(np.int32), mask=mask),
        pa.array(list(codes), pa.string()),
    )
    return dictionary_array if dictionary else dictionary_array.cast(pa.string())

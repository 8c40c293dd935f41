"""Writes shared/tests/data/problems.parquet, the Parquet file the problem-file reader is tested on,
and problems-zstd.parquet (one row, Zstandard: a codec era refuses by name),
with the reference implementation (pyarrow 18.1.0: `pip install pyarrow==18.1.0`), as Hugging Face's
`datasets` writes them: Snappy-compressed, here in row groups of two rows so that the reader crosses
row groups. Run from the repository root: python3 scripts/parquet_fixture.py
"""

import pyarrow as pa
import pyarrow.parquet as pq

table = pa.table(
    {
        "question": pa.array(["What is 2 + 3?", None, "Tom has 4 apples and eats 1. How many are left?", "Ünïcödé: 7 × 6?", "10 - 4?"], pa.string()),
        "answer": pa.array(["2 + 3 = 5\n#### 5", "#### 1", "4 - 1 = 3\n#### 3", "#### 42", "#### 6"], pa.string()),
        "number": pa.array([5, 1, 3, 42, 6], pa.int64()),
        "raw": pa.array([b"ok", b"\xff\xfe", b"fine", b"good", b"yes"], pa.binary()),
    }
)
pq.write_table(table, "shared/tests/data/problems.parquet", compression="snappy", row_group_size=2)
pq.write_table(pa.table({"question": ["a"], "answer": ["b"]}), "shared/tests/data/problems-zstd.parquet", compression="zstd")

"""A table asset's metadata shows its columns and a few rows; seller strings in the preview are
inert text, one line each."""

from __future__ import annotations

import dagster as dg

from content_assets.sync.table_metadata import PREVIEW_ROWS, markdown_table, table_metadata
from tests.support.crafted_store import CraftedStore


def test_the_products_table_shows_its_columns_and_its_first_rows(store: CraftedStore):
    store.add_products(1, 8)
    with store.resource.connect() as catalog:
        metadata = table_metadata(catalog.con, "products")

    schema = metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert {"origin_product_no", "name", "sale_price", "payload_hash"} <= {column.name for column in schema.columns}
    preview = metadata["preview"].value.splitlines()
    assert preview[0].startswith("| origin_product_no | name |")
    assert len(preview) == 2 + PREVIEW_ROWS and preview[2].startswith("| 1 | 상품 1 |")


def test_a_hostile_name_is_one_escaped_cut_line_in_the_preview():
    name = "<script>alert(1)</script> | **굵게** [링크](javascript:x)\n" + "가" * 100
    table = markdown_table(("origin_product_no", "name"), [(7, name)])

    row = table.splitlines()[2]
    assert len(table.splitlines()) == 3
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert "\\|" in row and "\\*\\*" in row and "\\[" in row
    assert row.endswith("… |")

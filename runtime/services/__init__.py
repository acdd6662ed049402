"""Qt-free use cases: records, accounts and permissions, Excel import/export."""

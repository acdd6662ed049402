"""Organisation: departments, the directory of who belongs where, and org workbooks."""

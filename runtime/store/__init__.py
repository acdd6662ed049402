"""The database: engines, schema from spec, migrations, the record repository, audit."""

"""One module per field type. Each exposes ``FIELD_TYPE``, an instance of its class."""

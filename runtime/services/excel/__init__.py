"""Excel and CSV: import (read, map, convert, check, write, journal), export, templates, error workbooks."""

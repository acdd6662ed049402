"""Records: the one write pipeline (service, writer, checks, bulk), form logic, references, attachments."""

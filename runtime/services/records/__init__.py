"""Records: the one write pipeline (service, bulk, checks), form logic, references, attachments."""

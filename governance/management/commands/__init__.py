"""`manage.py` commands: see each module's docstring."""

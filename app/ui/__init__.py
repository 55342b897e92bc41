"""Browser pages for workforce leads, served under ``/ui/``."""

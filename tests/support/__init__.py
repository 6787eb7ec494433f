"""Helpers shared by every test folder (fixture lookup); imported as ``tests.support``."""

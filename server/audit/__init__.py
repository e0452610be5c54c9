"""Audit log: who changed which record, when, from which device, with before and after."""

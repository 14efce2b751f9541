"""Adapters to the live systems (sis, portal, enroll) and the HTTP rules they share."""

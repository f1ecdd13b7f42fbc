"""Renderers of check results: text for people; JSON, JUnit and SARIF for machines."""

"""User accounts, passwords, API keys and signed bearer tokens."""

"""People and groups as a domain: accounts, groups, memberships, keys, remote actors."""

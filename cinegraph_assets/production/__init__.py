"""Setting up a production deployment: PostgreSQL roles with only the rights each part needs, and
the commands an operator runs once (`db-roles`) or at each release (`migrate`).

The reverse proxy in front of the webservers is configuration, not code: see deploy/nginx/.
"""

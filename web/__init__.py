"""aiohttp application: federation routes and HTML pages. Handlers are thin: parse, call a service, render."""

"""The officers' web desk (docs/web.md): the same cases and rules as the officer chat, in a browser."""

"""Start-up: the ASGI app, the GraphQL view, the runtime's assembly, the CLI, the server, the demo.

The only layer that imports ``resolvers``.
"""

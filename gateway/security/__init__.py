"""Opening the API to third parties safely: API keys and scopes, rate limits, query limits, CSRF,
automatic persisted queries and GraphQL-over-HTTP response negotiation.

A request to ``/graphql`` passes, in order: CORS (Starlette's middleware) → :mod:`.middleware`
(API key → rate limit → CSRF → body size) → Strawberry, where :mod:`.persisted` fills in the query,
:mod:`.limits` refuses documents that are too deep, too wide or too costly before anything runs,
and :mod:`.authz` checks the key's scopes against the operation once.
"""

"""The console (控制台) and JSON API of ``interop serve``: Starlette on uvicorn.

Starlette is a small, well-kept ASGI toolkit (routing, forms, cookies, static files) with
no ORM, template or JS opinions of its own; uvicorn serves it and shuts down gracefully.
Pages are rendered on the server with Jinja2; there is no script and nothing from a CDN.
"""

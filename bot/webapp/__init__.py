"""The programme as a Telegram Mini App: initData check and the JSON API, free of Telegram types.

The aiohttp routes that serve them are in handlers/webapp_http.py; the page itself (plain
HTML, CSS and JavaScript, no build step) is in bot/webapp/static/.
"""

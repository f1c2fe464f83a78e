"""Developer tools: a local Bot API stand-in (tests, benchmarks) and the terminal chat
(`python main.py chat`). Not part of the bot: nothing in bot/ or handlers/ imports them."""

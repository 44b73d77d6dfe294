"""pertouch.core: what every layer shares and the app shell only uses — the user-facing
error types (:mod:`~pertouch.core.errors`) and the one home folder for state
(:mod:`~pertouch.core.home`), and the bounded memo the caches are made of
(:mod:`~pertouch.core.lru`). It imports nothing else of PerTouch."""

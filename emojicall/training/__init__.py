"""Training and evaluation. The runtime (emojicall.pipeline and friends) never imports this package."""

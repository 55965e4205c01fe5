"""unionbot: the webhook server, message pipeline, command registry, dialogs and CLI."""

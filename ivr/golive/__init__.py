"""Going live: the static fallback, the synthetic check of a deployment, connecting a Twilio number
and rendering the production recipe in deploy/. Only the `ivr` command uses this package; the
serving app never imports it."""

"""The web plumbing the features share: the JSON API's errors and token check, its description,
rate limits, the home page."""

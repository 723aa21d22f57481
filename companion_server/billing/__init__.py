"""What an installer company sells: catalogue, subscriptions, support plans and their charges."""

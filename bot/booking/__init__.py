"""Coffee-chat booking: finding times inside everyone's working hours, proposing, confirming, calendar hand-offs."""

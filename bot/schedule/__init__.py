"""The program calendar and running each due step exactly once."""

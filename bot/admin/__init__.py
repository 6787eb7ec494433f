"""What program admins run and see: admin commands and buttons, stats and charts, the risk digest, import and export."""

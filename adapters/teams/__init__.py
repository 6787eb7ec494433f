"""Microsoft Teams adapter (Bot Framework). Every botbuilder import in Tandem lives under this package."""

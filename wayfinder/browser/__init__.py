"""The page model: seeing a page and acting on it, independent of Temporal."""

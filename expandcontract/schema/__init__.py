"""What the database holds, and how names of it reach SQL."""

"""Recognition (issue #17): points per group derived from facts, kudos, badges, leaderboards, rewards."""

"""Posts, comments, likes, follows and views."""

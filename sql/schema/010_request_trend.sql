-- feature_requests ranked by volume and trend (issue 17): the trend of a theme's request segments alone
-- (discovery/rank.py), with the counts behind it, as theme_snapshots keeps trend for the whole theme.
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS request_trend DOUBLE;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS request_trend_recent INTEGER;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS request_trend_expected DOUBLE;

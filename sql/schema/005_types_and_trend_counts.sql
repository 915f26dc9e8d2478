-- Feedback type and honest trends (issue 17): what each segment and theme is (discovery/feedback_type.py).
-- pain_points shows problem themes, feature_requests the request segments of themes, praise praise themes.
ALTER TABLE assignments ADD COLUMN IF NOT EXISTS feedback_type VARCHAR;    -- problem | request | question | praise | other
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS theme_type VARCHAR;   -- problem | request | praise
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS problem_share DOUBLE; -- share of the theme's segments typed problem
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS request_share DOUBLE;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS praise_share DOUBLE;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS positive_share DOUBLE; -- share with positive sentiment
-- The counts behind a theme's trend (discovery/rank.py): segments in each source's recent window, and
-- how many its earlier share of each source predicted there.
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS trend_recent INTEGER;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS trend_expected DOUBLE;

-- Feedback type, honest trends, impact (issue 17): what each segment and theme is (discovery/feedback_type.py).
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
-- Impact where feedback carries a rating (discovery/rank.py): how much the average rating of all rated
-- items would rise without the theme's items; the theme's own average and how many rated items it has.
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS impact DOUBLE;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS avg_rating DOUBLE;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS rated_items INTEGER;

-- Areas above themes (discovery/areas.py): every area ever found, rewritten with each successful run like
-- themes; a run's theme snapshots name their area.
CREATE TABLE IF NOT EXISTS areas (
    area_id     VARCHAR PRIMARY KEY,        -- A01, A02… assigned once, never reused
    label       VARCHAR NOT NULL,           -- kept across runs once the area is matched
    status      VARCHAR NOT NULL,           -- active | dormant (no theme this run)
    centroid    FLOAT[],                    -- item-weighted mean of its themes' centroids, last run it had any
    themes      INTEGER NOT NULL,           -- themes in it in its last run
    first_run   VARCHAR NOT NULL,
    last_run    VARCHAR NOT NULL
);
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS area_id VARCHAR;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS area_label VARCHAR;

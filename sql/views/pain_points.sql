-- The latest successful run's themes by what they are (issue 17): pain_points (problem themes),
-- pain_facets (the complaints inside other themes),
-- feature_requests (the request segments of themes) and praise (praise themes) have the same columns;
-- latest_themes holds every theme. Themes a PM
-- hid (`painpoints theme hide`) are left out. `rank` is 1..n within each view.
-- score = 100 * weighted_share * (0.25 + 0.75 * negative_share) * trend_factor; see README "Ranking".
CREATE OR REPLACE VIEW latest_themes AS
SELECT
    t.rank AS overall_rank,  -- by score over every visible theme of the run
    t.theme_id,
    t.label,
    t.description,
    t.items,
    t.share,
    t.negative_share,
    t.avg_sentiment,
    t.trend,                -- growth within each source's own time span; NULL with < 10 dated items
    t.score,
    t.example_quotes,
    t.sources,
    t.keywords,
    t.feedback_items,
    t.weighted_share,
    t.trend_factor,
    t.label_method,
    t.label_offline,
    t.grounding,
    t.llm_sentiment,
    t.severity,
    t.category,
    t.status,               -- new | continuing | revived | split
    t.pinned,
    t.emerging,
    t.emerging_reason,      -- new | spike
    t.recent_items,
    t.baseline_mean,
    t.growth,
    t.zscore,
    t.trend_recent,         -- the counts behind trend: segments in the recent windows …
    t.trend_expected,       -- … and how many the theme's earlier share predicted there
    t.impact,               -- rise of the average rating if the theme's items were removed (NULL unrated)
    t.avg_rating,
    t.rated_items,
    coalesce(t.theme_type, 'problem') AS theme_type,  -- problem | request | praise (runs before typing: problem)
    t.problem_share,
    t.request_share,
    t.praise_share,
    t.positive_share,
    t.area_id,              -- the area above the theme (theme_areas); NULL for runs before areas
    t.area_label,
    t.run_id
FROM theme_snapshots t
JOIN latest_run r ON t.run_id = r.run_id
WHERE NOT coalesce(t.hidden, false);

-- The segments that count as pain (issue 17): typed `problem`, not positive in tone, and not from an item
-- its customer rated in the upper half of the source's own rating scale, the middle included (1–5 stars:
-- 3, 4 and 5; 0–10: 5 and up; scale taken from the ratings the source holds, so unrated sources always
-- count). A 5-star review that mentions "runs a bit small" says something, but it is not what hurts; its
-- customer said so. A 3-star review's complaint is a mixed verdict: the carve (`discovery/carve.py`) still
-- moves it out of a praised topic into the problem theme it describes, but the theme's pain counts only
-- the customers who were unhappy. Neutral-toned problems (support contact reasons: "I can't reset my
-- password") stay pains.
CREATE OR REPLACE VIEW pain_segments AS
WITH scale AS (
    SELECT source, min(rating) AS lo, max(rating) AS hi
    FROM feedback WHERE rating IS NOT NULL GROUP BY source
)
SELECT ft.*, f.rating
FROM feedback_themes ft
JOIN feedback f USING (feedback_id)
LEFT JOIN scale s ON s.source = ft.source
WHERE ft.theme_id IS NOT NULL AND ft.feedback_type = 'problem' AND ft.sentiment <> 'positive'
  AND NOT coalesce(s.hi > s.lo AND f.rating >= s.lo + 0.5 * (s.hi - s.lo), false);

-- Every theme's pain segments (above) as a row: for a problem theme (`pain_scope = 'theme'`, the rows of
-- pain_points) and for another theme holding at least 5 mostly negative ones (`pain_scope = 'problem
-- segments'`, the rows of pain_facets: "Dress / quality" is praised by most, some say it runs small).
-- items, share, negative_share, avg_sentiment, quotes (most negative first), sources and score describe
-- those segments; label, description, keywords, status, area and the type shares are the theme's, and so
-- are trend, impact and ratings for a problem theme (NULL for the other rows). Source weights apply as the
-- theme's weighted_share / share ratio.
CREATE OR REPLACE VIEW pain_rows AS
WITH complaints AS (
    SELECT theme_id, count(*) AS items, count(DISTINCT feedback_id) AS feedback_items,
           avg((sentiment = 'negative')::INTEGER) AS negative_share, avg(sentiment_score) AS avg_sentiment,
           list(left(text, 240) ORDER BY sentiment_score, feedback_id, segment)[1:4] AS example_quotes,
           list(DISTINCT source ORDER BY source) AS sources
    FROM pain_segments
    GROUP BY theme_id
), total AS (
    SELECT count(*) AS segments FROM feedback_themes
), pains AS (
    SELECT t.* REPLACE (
               c.items AS items, c.items / total.segments AS share, c.negative_share AS negative_share,
               c.avg_sentiment AS avg_sentiment,
               CASE WHEN problem THEN t.trend END AS trend,
               CASE WHEN problem THEN t.trend_recent END AS trend_recent,
               CASE WHEN problem THEN t.trend_expected END AS trend_expected,
               CASE WHEN problem THEN t.impact END AS impact,
               CASE WHEN problem THEN t.avg_rating END AS avg_rating,
               CASE WHEN problem THEN t.rated_items END AS rated_items,
               100.0 * c.items / total.segments * weight * (0.25 + 0.75 * c.negative_share)
                   * CASE WHEN problem THEN t.trend_factor ELSE 1.0 END AS score,
               c.example_quotes AS example_quotes, c.sources AS sources, c.feedback_items AS feedback_items,
               c.items / total.segments * weight AS weighted_share,
               CASE WHEN problem THEN t.trend_factor ELSE 1.0 END AS trend_factor),
           CASE WHEN problem THEN 'theme' ELSE 'problem segments' END AS pain_scope
    FROM complaints c
    JOIN (SELECT *, theme_type = 'problem' AS problem,
                 coalesce(weighted_share / nullif(share, 0), 1.0) AS weight FROM latest_themes) t USING (theme_id),
         total
    WHERE t.problem OR (c.items >= 5 AND c.negative_share >= 0.5)
)
SELECT * EXCLUDE (problem, weight) FROM pains;

-- What hurts, most painful first (contract view): the problem themes only, each counting its pain
-- segments. A topic most customers praise can still hold a pain: those rows are in pain_facets.
CREATE OR REPLACE VIEW pain_points AS
SELECT row_number() OVER (ORDER BY score DESC, overall_rank) AS rank, * EXCLUDE (overall_rank)
FROM pain_rows
WHERE pain_scope = 'theme'
ORDER BY rank;

-- The complaints inside praised or requested topics (same columns as pain_points): a theme most
-- customers love ("Dress / quality") whose at least 5 mostly negative pain segments are a pain of their
-- own ("runs small"). Without them a feed of mostly happy reviews would show no pain at all; they are
-- kept apart so that pain_points holds problem themes only.
CREATE OR REPLACE VIEW pain_facets AS
SELECT row_number() OVER (ORDER BY score DESC, overall_rank) AS rank, * EXCLUDE (overall_rank)
FROM pain_rows
WHERE pain_scope = 'problem segments'
ORDER BY rank;

-- What customers ask for: per theme, its segments typed `request` (a feature request is usually a
-- facet of a topic — "please add a search filter" clusters with search complaints), listed when a
-- theme holds at least 5 of them or is a request theme; ranked by volume and trend (score = 100 · share
-- of all segments · trend_factor, as praise). The measures describe the request segments, trend too
-- (the asking that grows or fades, per source as for themes; NULL with < 10 dated request segments);
-- label, description, keywords, status and emerging flags are the theme's.
CREATE OR REPLACE VIEW feature_requests AS
WITH asked AS (
    SELECT theme_id, count(*) AS items, count(DISTINCT feedback_id) AS feedback_items,
           avg((sentiment = 'negative')::INTEGER) AS negative_share, avg(sentiment_score) AS avg_sentiment,
           list(left(text, 240) ORDER BY length(text), feedback_id, segment)[1:4] AS example_quotes,
           list(DISTINCT source ORDER BY source) AS sources
    FROM feedback_themes
    WHERE feedback_type = 'request' AND theme_id IS NOT NULL
    GROUP BY theme_id
), total AS (
    SELECT count(*) AS segments FROM feedback_themes
)
SELECT row_number() OVER (ORDER BY score DESC, items DESC, overall_rank) AS rank, * EXCLUDE (overall_rank)
FROM (
    SELECT t.* REPLACE (
               a.items AS items, a.items / total.segments AS share, a.negative_share AS negative_share,
               a.avg_sentiment AS avg_sentiment, s.request_trend AS trend, s.request_trend_recent AS trend_recent,
               s.request_trend_expected AS trend_expected, NULL::DOUBLE AS impact, NULL::DOUBLE AS avg_rating,
               NULL::INTEGER AS rated_items, 100.0 * a.items / total.segments * f.trend_factor AS score,
               a.example_quotes AS example_quotes, a.sources AS sources, a.feedback_items AS feedback_items,
               a.items / total.segments AS weighted_share, f.trend_factor AS trend_factor)
    FROM asked a
    JOIN latest_themes t USING (theme_id)
    JOIN theme_snapshots s ON s.run_id = t.run_id AND s.theme_id = t.theme_id
    CROSS JOIN LATERAL (  -- greatest/least skip NULLs: no trend must stay factor 1
        SELECT CASE WHEN s.request_trend IS NULL THEN 1.0
                    ELSE 1 + 0.5 * greatest(-1, least(1, s.request_trend)) END AS trend_factor
    ) f,
         total
    WHERE a.items >= 5 OR t.theme_type = 'request'
)
ORDER BY rank;

-- What customers love: praise themes, by volume (source-weighted) and trend.
CREATE OR REPLACE VIEW praise AS
SELECT row_number() OVER (ORDER BY weighted_share * trend_factor DESC, overall_rank) AS rank,
       * EXCLUDE (overall_rank)
FROM latest_themes
WHERE theme_type = 'praise'
ORDER BY rank;

-- The areas above the latest run's themes (a handful to ~20 headings, discovery/areas.py): how big,
-- how negative, how many of their themes are pains / praise, and their largest themes.
CREATE OR REPLACE VIEW theme_areas AS
SELECT area_id, any_value(area_label) AS area_label, count(*) AS themes, sum(items) AS items,
       sum(share) AS share, sum(negative_share * items) / sum(items) AS negative_share,
       count(*) FILTER (WHERE theme_type = 'problem') AS pain_points,
       count(*) FILTER (WHERE theme_type = 'praise') AS praise_themes,
       list(label ORDER BY items DESC, theme_id)[1:5] AS top_themes,
       row_number() OVER (ORDER BY sum(items) DESC, area_id) AS rank
FROM latest_themes
WHERE area_id IS NOT NULL
GROUP BY area_id
ORDER BY rank;

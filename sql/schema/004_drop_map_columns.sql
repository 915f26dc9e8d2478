-- assignments.x / assignments.y were meant for 2-D map coordinates but never written: the report and
-- the explore notebook compute the map from the embeddings. Dropped so the schema says what is stored.
ALTER TABLE assignments DROP COLUMN IF EXISTS x;
ALTER TABLE assignments DROP COLUMN IF EXISTS y;

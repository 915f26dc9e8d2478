-- Retention (issue 22): `painpoints prune` drops old runs' per-segment assignments (the bulk of a run)
-- and says so here; their theme snapshots, events and stats stay, so theme_history and trends survive.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS pruned_at TIMESTAMP;

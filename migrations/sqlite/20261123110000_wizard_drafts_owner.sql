-- Drafts belong to a signed-in user and to the organisation the Sovereign is being designed for. The drafts of
-- the previous step were keyed by an anonymous browser id that no account can claim, so they are dropped.
DROP TABLE wizard_drafts;
CREATE TABLE wizard_drafts (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,        -- one draft per user
    org_id     TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,   -- the organisation it is for
    draft      TEXT NOT NULL,             -- JSON WizardDraft: the non-secret request and how far the user got
    completed  BIGINT NOT NULL DEFAULT 0, -- steps confirmed (0..6), duplicated from the JSON for admin queries
    created_at BIGINT NOT NULL,           -- ms since epoch
    updated_at BIGINT NOT NULL            -- ms since epoch; stale drafts can be swept by age
);
CREATE INDEX wizard_drafts_updated ON wizard_drafts (updated_at);
CREATE INDEX wizard_drafts_org ON wizard_drafts (org_id);

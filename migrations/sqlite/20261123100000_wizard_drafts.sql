-- Provisioning wizard runs in progress: one draft per user, saved as the user types so a reload or a new tab
-- continues where they were. Never holds secrets (Hetzner token, registrar token, SSH private key).
CREATE TABLE wizard_drafts (
    user_id    TEXT PRIMARY KEY,          -- owner: the signed-in user's id (a browser id before sign-in existed)
    draft      TEXT NOT NULL,             -- JSON WizardDraft: the non-secret request and how far the user got
    completed  BIGINT NOT NULL DEFAULT 0, -- steps confirmed (0..6), duplicated from the JSON for admin queries
    created_at BIGINT NOT NULL,           -- ms since epoch
    updated_at BIGINT NOT NULL            -- ms since epoch; stale drafts can be swept by age
);
CREATE INDEX wizard_drafts_updated ON wizard_drafts (updated_at);

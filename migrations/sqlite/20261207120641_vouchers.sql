-- Franchise vouchers, the organisations' credit, orders, and the e-mail outbox (issue 24).
-- Money is BIGINT minor units (cents) with its ISO 4217 currency beside it: no floats anywhere in billing.

-- A voucher: a code that gives an organisation credit once. Codes are compared case-insensitively, so
-- they are stored upper-cased (ASCII) and every lookup upper-cases the code it is given.
CREATE TABLE vouchers (
    code            TEXT PRIMARY KEY,              -- upper-case A–Z, 0–9, '-', '_'; 3–64 characters
    credit_cents    BIGINT NOT NULL CHECK (credit_cents > 0), -- credit one redemption gives, in minor units
    currency        TEXT NOT NULL,                 -- ISO 4217 code of credit_cents (the price table's: EUR)
    description     TEXT NOT NULL DEFAULT '',      -- shown on the redeem page
    active          BOOLEAN NOT NULL DEFAULT TRUE, -- an inactive voucher is "ended": previewed (410), never redeemed
    max_redemptions BIGINT NOT NULL DEFAULT 0 CHECK (max_redemptions >= 0), -- 0 = unlimited
    times_redeemed  BIGINT NOT NULL DEFAULT 0,     -- bumped by the redemption's conditional UPDATE, never above the cap
    created_at      BIGINT NOT NULL,               -- ms since epoch
    created_by      TEXT,                          -- user id of the issuer
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT                         -- revoked: a tombstone; the code never redeems or comes back
);
CREATE INDEX vouchers_created ON vouchers (created_at);

-- One redemption per organisation per code (the primary key is the rule, not a pre-check). Kept when the
-- voucher is revoked: the history of who got what stays.
CREATE TABLE voucher_redemptions (
    org_id     TEXT NOT NULL,                      -- the organisation that got the credit
    code       TEXT NOT NULL REFERENCES vouchers (code),
    user_id    TEXT,                               -- who redeemed it (NULL: redeemed by the system)
    order_id   TEXT NOT NULL,                      -- the order recording it
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, code)
);
CREATE INDEX voucher_redemptions_code ON voucher_redemptions (code, created_at);

-- Orders: what an organisation acquired and how it was paid. A redemption is an order of kind 'voucher'
-- (amount 0, credit granted); a launch paid by credit is an order of kind 'deployment'.
CREATE TABLE orders (
    id             TEXT PRIMARY KEY,               -- uuid
    org_id         TEXT NOT NULL,
    kind           TEXT NOT NULL,                  -- 'voucher' | 'deployment'
    voucher_code   TEXT,                           -- the redeemed code (kind 'voucher')
    deployment_id  TEXT,                           -- the Sovereign launched (kind 'deployment')
    amount_cents   BIGINT NOT NULL,                -- the price of what was ordered (0 for a voucher)
    currency       TEXT NOT NULL,
    paid_by_credit BOOLEAN NOT NULL,               -- true when credit_ledger holds the spend
    status         TEXT NOT NULL,                  -- 'completed' (nothing else is written today)
    description    TEXT NOT NULL DEFAULT '',       -- a sentence for the billing page
    created_by     TEXT,                           -- user id
    created_at     BIGINT NOT NULL
);
CREATE INDEX orders_org ON orders (org_id, created_at);

-- The running balance per organisation: the row every credit change updates conditionally
-- (`balance + amount >= 0`), so two spends racing for the last euros cannot both succeed.
CREATE TABLE credit_accounts (
    org_id        TEXT PRIMARY KEY,
    currency      TEXT NOT NULL,
    balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0), -- always the sum of the org's credit_ledger rows
    updated_at    BIGINT NOT NULL
);

-- The credit ledger: append-only (the triggers below refuse UPDATE and DELETE). The balance is its sum.
CREATE TABLE credit_ledger (
    id                  TEXT PRIMARY KEY,          -- uuid
    org_id              TEXT NOT NULL,
    amount_cents        BIGINT NOT NULL CHECK (amount_cents <> 0), -- + grant (voucher), − spend (launch)
    currency            TEXT NOT NULL,
    reason              TEXT NOT NULL,             -- 'voucher:<CODE>' | 'deployment:<id>'
    order_id            TEXT NOT NULL REFERENCES orders (id),
    balance_after_cents BIGINT NOT NULL,           -- the account's balance right after this entry
    created_at          BIGINT NOT NULL
);
CREATE INDEX credit_ledger_org ON credit_ledger (org_id, created_at);
CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
BEGIN
    SELECT RAISE(ABORT, 'credit_ledger is append-only');
END;
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
BEGIN
    SELECT RAISE(ABORT, 'credit_ledger is append-only');
END;

-- Outgoing e-mail. Queued in the transaction-free way (one INSERT) by whoever wants a message sent; one
-- replica at a time (mail lease in worker_leases) sends due messages over SMTP and retries with backoff.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,              -- uuid
    kind            TEXT NOT NULL,                 -- 'voucher-issued'
    subject_ref     TEXT NOT NULL DEFAULT '',      -- what it is about ('voucher:<CODE>'), for status lookups
    recipient       TEXT NOT NULL,                 -- one address
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL,                 -- 'pending' | 'sent' | 'failed' (gave up)
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,               -- not sent before this (backoff after a failure)
    last_error      TEXT,                          -- the SMTP server's last answer (never a password)
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_subject ON mail_outbox (subject_ref);

-- Singleton background workers (the mail sender): whoever holds an unexpired lease does the work; the
-- others wait and take over when it expires. Same protocol as deployment_leases.
CREATE TABLE worker_leases (
    name         TEXT PRIMARY KEY,                 -- 'mail-outbox'
    holder       TEXT NOT NULL,                    -- replica id
    acquired_at  BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

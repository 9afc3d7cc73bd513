-- Why a job waits or failed, as the run classified it (app::flow::cause::Reason as JSON; '' for none). The
-- sentence shown is written by the console from this, never copied from OpenTofu's or Flux's text.
ALTER TABLE jobs ADD COLUMN reason TEXT NOT NULL DEFAULT '';

#!/usr/bin/env bash
# Formats the code as scripts/test.sh checks it: leptosfmt (the insides of `view!`), then cargo fmt.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
leptosfmt --quiet app/src frontend/src
cargo fmt --all

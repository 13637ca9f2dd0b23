#!/usr/bin/env bash
# Writes .env for docker compose: a random PostgreSQL password, a TOTP encryption key, a VAPID
# key pair and a TURN secret. Refuses to overwrite an existing file (losing the TOTP key breaks
# everyone's two-factor login). Usage: scripts/generate-secrets.sh [PATH, default ./.env]
set -euo pipefail
exec node "$(dirname "$0")/generate-secrets.mjs" "$@"

#!/usr/bin/env bash
# Python tools the tests call (OpenAPI validator, schemathesis), in a virtual environment of the
# project's own: Debian's python3 refuses `pip install` outside one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import openapi_spec_validator, schemathesis, pyotp, aiosmtpd, moto' 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/python-requirements.txt
fi

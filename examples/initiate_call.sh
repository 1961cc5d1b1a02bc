#!/usr/bin/env bash
# The documentation's curl example. Locally: `make run`, then run this script.
# Deployed: BASE_URL=<the stack's ApiUrl output> API_KEY=<a key from `outbound api-key create`>.
BASE_URL="${BASE_URL:-http://127.0.0.1:3000}"
API_KEY="${API_KEY:-sk_live_acme_demo}"

curl -sS -X POST "$BASE_URL/calls/initiate" \
  -H "Authorization: Bearer $API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "from_phone_number": "+15551234567",
    "to_phone_number": "+15559876543",
    "welcome_message": "Hi {{customer_name}}, this is Sarah from Acme Health.",
    "agenda": "Confirm the appointment on {{appointment_date}}.",
    "variables": {"customer_name": "John", "appointment_date": "December 1st"}
  }'
echo

"""The documentation's Python example (requests). Locally: `make run`, then
`.venv/bin/python examples/initiate_call.py`. Deployed: set BASE_URL and API_KEY."""
import json
import os

import requests

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:3000")
API_KEY = os.environ.get("API_KEY", "sk_live_acme_demo")

response = requests.post(
    f"{BASE_URL}/calls/initiate",
    headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    json={
        "from_phone_number": "+15551234567",
        "to_phone_number": "+15559876543",
        "welcome_message": "Hi {{customer_name}}, this is Sarah from Acme Health.",
        "agenda": "Confirm the appointment on {{appointment_date}}.",
        "variables": {"customer_name": "John", "appointment_date": "December 1st"},
    },
    timeout=30,
)
print(response.status_code, json.dumps(response.json()))

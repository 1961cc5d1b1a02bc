// The documentation's Node example (built-in fetch, Node 18+). Locally: `make run`, then
// `node examples/initiate_call.mjs`. Deployed: set BASE_URL and API_KEY.
const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:3000";
const API_KEY = process.env.API_KEY ?? "sk_live_acme_demo";

const response = await fetch(`${BASE_URL}/calls/initiate`, {
  method: "POST",
  headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
  body: JSON.stringify({
    from_phone_number: "+15551234567",
    to_phone_number: "+15559876543",
    welcome_message: "Hi {{customer_name}}, this is Sarah from Acme Health.",
    agenda: "Confirm the appointment on {{appointment_date}}.",
    variables: { customer_name: "John", appointment_date: "December 1st" },
  }),
});
console.log(response.status, JSON.stringify(await response.json()));

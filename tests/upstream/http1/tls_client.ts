/**
 * Run by tls_test.ts in a process of its own (so `DENO_CERT` can name the test CA): two POSTs
 * through the upstream client to the HTTPS URL given, then what came back, as JSON on stdout.
 */
import { Http1Client } from "../../../src/upstream/http1/client.ts";

const client = new Http1Client();
const bodies: string[] = [];
for (let i = 0; i < 2; i++) {
  const response = await client.request(Deno.args[0], {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ i }),
  });
  bodies.push(await response.text());
}
console.log(JSON.stringify({ bodies, stats: client.stats }));
client.close();

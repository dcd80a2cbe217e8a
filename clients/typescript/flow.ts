// The flow of a TypeScript client whose types openapi-typescript generated from the document the binary serves
// (`schema.d.ts`, next to this file when .ci/clients.sh runs it), with openapi-fetch as the client.
//
// It registers, logs in, reads /auth/me/ with `Authorization: Token <token>` and logs out, and checks that each error
// response is the documented body: 400 field errors, 401 detail, 415 and 429. Run with AUTHTOKEN_URL set.

import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const base = process.env.AUTHTOKEN_URL;
if (!base) throw new Error("AUTHTOKEN_URL is not set");
const client = createClient<paths>({ baseUrl: base });
const name = "typescript_client";
const password = "correct horse";

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`typescript client: ${what}`);
    process.exit(1);
  }
}

/** The `detail` of an error body, when it is one. */
function detail(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "detail" in error && typeof error.detail === "string") {
    return error.detail;
  }
  return undefined;
}

const created = await client.POST("/auth/register", { body: { username: name, password } });
check(created.response.status === 201, `register answered ${created.response.status}`);

const again = await client.POST("/auth/register", { body: { username: name, password } });
const fieldErrors = again.error && "username" in again.error ? again.error.username : undefined;
check(again.response.status === 400, `a second register answered ${again.response.status}`);
check(fieldErrors?.[0] === "A user with that username already exists.", `its field errors: ${JSON.stringify(again.error)}`);

const login = await client.POST("/auth/login", { body: { username: name, password } });
const token = login.data?.token;
check(login.response.status === 200 && typeof token === "string" && token.length === 64, `login: ${JSON.stringify(login.data)}`);
const auth = { Authorization: `Token ${token}` };

const me = await client.GET("/auth/me", { headers: auth });
check(me.data?.username === name, `/auth/me/: ${JSON.stringify(me.data)}`);

const logout = await client.DELETE("/auth/logout", { headers: auth });
check(logout.response.status === 204, `logout answered ${logout.response.status}`);

const after = await client.GET("/auth/me", { headers: auth });
check(after.response.status === 401 && after.error?.detail === "invalid auth token", `after logout: ${JSON.stringify(after.error)}`);

const unsupported = await client.POST("/auth/login", {
  body: { username: name, password },
  bodySerializer: () => "username=x",
  headers: { "Content-Type": "text/plain" },
});
check(unsupported.response.status === 415 && detail(unsupported.error) !== undefined, `415: ${JSON.stringify(unsupported.error)}`);

// The server runs with throttle_login_failures_ip_account = 3/1h: the fourth wrong password is throttled.
for (let attempt = 0; attempt < 3; attempt++) {
  const wrong = await client.POST("/auth/login", { body: { username: name, password: "wrong password" } });
  check(wrong.response.status === 401 && wrong.error === "invalid credentials", `a wrong password: ${JSON.stringify(wrong.error)}`);
}
const throttled = await client.POST("/auth/login", { body: { username: name, password: "wrong password" } });
check(throttled.response.status === 429, `the fourth wrong password answered ${throttled.response.status}`);
check(detail(throttled.error)?.startsWith("Request was throttled.") === true, `429: ${JSON.stringify(throttled.error)}`);
check(/^\d+$/.test(throttled.response.headers.get("retry-after") ?? ""), "429 without Retry-After");

console.log("typescript client: register, login, /auth/me/ with the Token prefix and logout work; 400, 401, 415 and 429 parse");

// Drives @bitrix24/b24jssdk's B24OAuth (public API only) against a live b24local (tests/clients/test_oauth_clients.py).
//
// Usage: node b24jssdk_oauth_run.mjs <config-json>
//   config-json: {"tokens": <the /oauth/token/ answer>, "clientId", "clientSecret"}
// The server's access token has already expired (the test moved the server's fake clock), while the
// `expires` the SDK holds is still in the future: the first call gets 401 expired_token, and the SDK
// must refresh against server_endpoint's /oauth/token/ by itself and repeat the call.
// Prints one JSON object (one line): the call's outcome and the token pairs the SDK ended with.

import { oauthClient } from './oauth_client.mjs'

const b24 = oauthClient(JSON.parse(process.argv[2]))

const refreshed = []
b24.setCallbackRefreshAuth(async ({ authData }) => {
  refreshed.push({ access_token: authData.access_token, refresh_token: authData.refresh_token })
})

async function call (method, params) {
  try {
    const response = await b24.actions.v2.call.make({ method, params })
    return { isSuccess: response.isSuccess, result: response.getData()?.result ?? null }
  } catch (error) {
    return { thrown: { name: error?.name ?? null, code: error?.code ?? null, status: error?.status ?? null } }
  }
}

const out = {}
out.add = await call('crm.lead.add', { fields: { TITLE: 'b24jssdk oauth' } })
out.appInfo = await call('app.info', {})
out.refreshed = refreshed
process.stdout.write(JSON.stringify(out) + '\n')

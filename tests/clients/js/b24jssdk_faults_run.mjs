// Drives @bitrix24/b24jssdk (public API only) against a b24local whose fault rules fail the next calls
// (tests/clients/test_fault_clients.py).
//
// Usage: node b24jssdk_faults_run.mjs hook <webhook-url>
//        node b24jssdk_faults_run.mjs oauth <config-json>
//   config-json: {"tokens": <the /oauth/token/ answer>, "clientId", "clientSecret"}
// Adds one lead with crm.lead.add and prints one JSON object (one line): the call's outcome and, for
// OAuth, the token pairs the SDK refreshed to.

import { B24Hook } from '@bitrix24/b24jssdk'
import { oauthClient } from './oauth_client.mjs'

const [mode, arg] = process.argv.slice(2)
const refreshed = []
let b24
if (mode === 'hook') {
  b24 = B24Hook.fromWebhookUrl(arg)
} else {
  b24 = oauthClient(JSON.parse(arg))
  b24.setCallbackRefreshAuth(async ({ authData }) => {
    refreshed.push({ access_token: authData.access_token, refresh_token: authData.refresh_token })
  })
}

const out = {}
try {
  const response = await b24.actions.v2.call.make({ method: 'crm.lead.add', params: { fields: { TITLE: `b24jssdk faults ${mode}` } } })
  out.add = { isSuccess: response.isSuccess, result: response.getData()?.result ?? null }
} catch (error) {
  out.add = { thrown: { name: error?.name ?? null, code: error?.code ?? null, status: error?.status ?? null } }
}
out.refreshed = refreshed
process.stdout.write(JSON.stringify(out) + '\n')

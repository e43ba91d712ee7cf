// Drives the real @bitrix24/b24jssdk (B24Hook, restApi v2 actions) against a live b24local.
//
// Usage: node b24jssdk_run.mjs <webhook-url> <fixture-json>
//   fixture-json: {"setLead", "addLead", "missingLead", "contacts": [c1, c2], "title"}
// Prints one JSON object (one line) with what the SDK returned for each case; a case that throws
// records {"thrown": {...}} instead, so the Python side can report every case separately.
// Uses only the package's public API.

import { AjaxError, ApiVersion, B24Hook } from '@bitrix24/b24jssdk'

const [webhook, fixtureJson] = process.argv.slice(2)
const fixture = JSON.parse(fixtureJson)
const [c1, c2] = fixture.contacts

const b24 = B24Hook.fromWebhookUrl(webhook)
const v2 = b24.actions.v2
const secret = new URL(webhook).pathname.split('/').filter(Boolean)[2]

// What the SDK put on the wire, read from its own axios instance after each answer: HTTP method,
// URL (webhook code replaced by {code}), Content-Type and the body exactly as sent.
const wire = []
b24.getHttpClient(ApiVersion.v2).ajaxClient.interceptors.response.use((response) => {
  const { config } = response
  wire.push({
    httpMethod: config.method,
    url: config.url.replace(secret, '{code}'),
    contentType: config.headers?.['Content-Type'] ?? null,
    userAgent: config.headers?.['User-Agent'] ?? null,
    body: config.data
  })
  return response
})

function describeError (error) {
  return {
    name: error?.name ?? null,
    isAjaxError: error instanceof AjaxError,
    code: error?.code ?? null,
    message: error?.message ?? String(error),
    status: error?.status ?? null
  }
}

async function call (method, params) {
  const response = await v2.call.make({ method, params })
  return {
    isSuccess: response.isSuccess,
    status: response.getStatus(),
    result: response.getData()?.result,
    isMore: response.isMore(),
    total: response.getTotal()
  }
}

function listRequests () {
  return b24.getHttpClient(ApiVersion.v2).getStats().byMethod.get('crm.lead.list')?.count ?? 0
}

const cases = {
  // crm.lead.contact.items.set, then items.get: exact result.
  async itemsSetGet () {
    const set = await call('crm.lead.contact.items.set', {
      id: fixture.setLead,
      items: [{ CONTACT_ID: c2, SORT: 20 }, { CONTACT_ID: c1, SORT: 10, IS_PRIMARY: 'Y' }]
    })
    const response = await v2.call.make({ method: 'crm.lead.contact.items.get', params: { id: fixture.setLead } })
    const get = {
      isSuccess: response.isSuccess,
      status: response.getStatus(),
      result: response.getData().result,
      timeKeys: Object.keys(response.getData().time).sort(),
      isMore: response.isMore(),
      total: response.getTotal()
    }
    return { set, get }
  },

  // crm.lead.contact.add / delete, including the "already bound" / "not bound" answers (false).
  async addDelete () {
    const steps = {}
    steps.addFirst = await call('crm.lead.contact.add', { id: fixture.addLead, fields: { CONTACT_ID: c1 } })
    steps.addSecond = await call('crm.lead.contact.add', {
      id: fixture.addLead,
      fields: { CONTACT_ID: c2, IS_PRIMARY: 'Y' }
    })
    steps.addAgain = await call('crm.lead.contact.add', { id: fixture.addLead, fields: { CONTACT_ID: c2 } })
    steps.afterAdd = await call('crm.lead.contact.items.get', { id: fixture.addLead })
    steps.delete = await call('crm.lead.contact.delete', { id: fixture.addLead, fields: { CONTACT_ID: c2 } })
    steps.deleteAgain = await call('crm.lead.contact.delete', { id: fixture.addLead, fields: { CONTACT_ID: c2 } })
    steps.afterDelete = await call('crm.lead.contact.items.get', { id: fixture.addLead })
    return steps
  },

  // Every page of crm.lead.list: the SDK's list helper (cursor paging: order ID ASC, filter >ID,
  // start=-1) and AjaxResult#getNext (offset paging through `next`, with `total`).
  async listAll () {
    const params = { filter: { TITLE: fixture.title }, select: ['ID', 'TITLE'] }
    const before = listRequests()
    const all = await v2.callList.make({ method: 'crm.lead.list', params })
    const callListRequests = listRequests() - before
    const rows = all.getData() ?? []

    let page = await v2.call.make({ method: 'crm.lead.list', params: { ...params, order: { ID: 'ASC' } } })
    const pages = [{ count: page.getData().result.length, total: page.getTotal(), isMore: page.isMore() }]
    const paged = [...page.getData().result]
    while (page.isMore()) {
      const next = await page.getNext(b24.getHttpClient(ApiVersion.v2))
      if (next === false) break
      pages.push({ count: next.getData().result.length, total: next.getTotal(), isMore: next.isMore() })
      paged.push(...next.getData().result)
      page = next
    }
    return {
      callList: {
        isSuccess: all.isSuccess,
        errors: all.getErrorMessages(),
        ids: rows.map((row) => row.ID),
        titles: [...new Set(rows.map((row) => row.TITLE))],
        keys: [...new Set(rows.map((row) => Object.keys(row).sort().join(',')))],
        requests: callListRequests
      },
      getNext: { pages, ids: paged.map((row) => row.ID) }
    }
  },

  // One batch request through the SDK's batch action, with $result[...] references between commands.
  async batch () {
    const named = await v2.batch.make({
      calls: {
        newLead: { method: 'crm.lead.add', params: { fields: { TITLE: `${fixture.title}-batch` } } },
        bind: {
          method: 'crm.lead.contact.items.set',
          params: { id: '$result[newLead]', items: [{ CONTACT_ID: c1 }, { CONTACT_ID: c2 }] }
        },
        items: ['crm.lead.contact.items.get', { id: '$result[newLead]' }],
        lead: ['crm.lead.get', { id: '$result[newLead]' }]
      },
      options: { isHaltOnError: true }
    })
    const data = named.getData()
    const asArray = await v2.batch.make({
      calls: [
        ['crm.lead.contact.items.get', { id: fixture.setLead }],
        ['server.time']
      ],
      options: { isHaltOnError: false, returnAjaxResult: true }
    })
    const ajaxResults = asArray.getData()
    return {
      named: {
        isSuccess: named.isSuccess,
        errors: named.getErrorMessages(),
        newLead: data.newLead,
        bind: data.bind,
        items: data.items,
        lead: { TITLE: data.lead?.TITLE, CONTACT_ID: data.lead?.CONTACT_ID, ID: data.lead?.ID }
      },
      array: {
        isSuccess: asArray.isSuccess,
        items: ajaxResults[0].getData().result,
        serverTimeIsString: typeof ajaxResults[1].getData().result === 'string',
        timeKeys: Object.keys(ajaxResults[0].getData().time ?? {}).sort()
      }
    }
  },

  // How the SDK reports errors: thrown AjaxError for a failing call, Result errors inside a batch.
  async errors () {
    const out = {}
    const attempt = async (name, fn) => {
      try {
        out[name] = { returned: await fn() }
      } catch (error) {
        out[name] = { thrown: describeError(error) }
      }
    }
    await attempt('leadNotFound', () => call('crm.lead.contact.items.get', { id: fixture.missingLead }))
    await attempt('methodNotFound', () => call('no.such.method', {}))
    await attempt('emptyCode', () => call('crm.lead.contact.items.get', { id: 0 }))
    await attempt('inBatch', async () => {
      const response = await v2.batch.make({
        calls: {
          good: ['crm.lead.contact.items.get', { id: fixture.setLead }],
          bad: ['crm.lead.contact.items.get', { id: fixture.missingLead }]
        },
        options: { isHaltOnError: false }
      })
      const errors = Object.fromEntries(
        Object.entries(response.getErrorsByKey()).map(([key, error]) => [key, describeError(error)])
      )
      return { isSuccess: response.isSuccess, errors, okKeys: Object.keys(response.getData()).sort() }
    })
    return out
  }
}

const output = {}
const firstOf = (pathPart) => wire.find((request) => request.url.includes(pathPart)) ?? null
for (const [name, run] of Object.entries(cases)) {
  try {
    output[name] = await run()
  } catch (error) {
    output[name] = { thrown: describeError(error) }
  }
}
output.wire = {
  itemsSet: firstOf('/crm.lead.contact.items.set?'),
  batch: firstOf('/batch?')
}
process.stdout.write(JSON.stringify(output) + '\n')

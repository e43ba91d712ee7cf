// Drives the real @bitrix24/b24jssdk (B24Hook, restApi v2 actions) on deals, companies and their
// contact bindings against a live b24local.
//
// Usage: node b24jssdk_crm_run.mjs <webhook-url> <fixture-json>
//   fixture-json: {"tag", "deals": <how many to add>, "companies": <how many to add>,
//                  "bindDeal", "bindCompany", "otherCompany", "contacts": [c1, c2, c3]}
// Prints one JSON object (one line) with what the SDK returned for each case; a case that throws
// records {"thrown": {...}} instead, so the Python side can report every case separately.
// Uses only the package's public API.

import { ApiVersion, B24Hook } from '@bitrix24/b24jssdk'

const [webhook, fixtureJson] = process.argv.slice(2)
const fixture = JSON.parse(fixtureJson)
const [c1, c2, c3] = fixture.contacts
const tag = fixture.tag

const b24 = B24Hook.fromWebhookUrl(webhook)
const v2 = b24.actions.v2

function requests (method) {
  return b24.getHttpClient(ApiVersion.v2).getStats().byMethod.get(method)?.count ?? 0
}

// The number of HTTP requests `fn` sends to `method`, and what it returns.
async function counting (method, fn) {
  const before = requests(method)
  const value = await fn()
  return { value, requests: requests(method) - before }
}

async function result (method, params) {
  const response = await v2.call.make({ method, params })
  return response.getData()?.result
}

const pad = (i) => String(i).padStart(3, '0')

// `count` records added in batches of 50 (batchByChunk), then listed with callList (ID cursor) and
// fetchList (an async generator of pages).
async function addAndList (entity, count, fields, select) {
  const calls = Array.from({ length: count }, (_, i) => [`crm.${entity}.add`, { fields: fields(i) }])
  const added = await counting('batch', () => v2.batchByChunk.make({ calls, options: { isHaltOnError: true } }))
  const list = `crm.${entity}.list`
  const params = { filter: { ORIGINATOR_ID: tag }, select }
  const listed = await counting(list, () => v2.callList.make({ method: list, params }))
  const pages = []
  const fetched = await counting(list, async () => {
    for await (const page of v2.fetchList.make({ method: list, params: { filter: params.filter, select: ['ID'] } })) {
      pages.push(page.map((row) => row.ID))
    }
  })
  return {
    add: { isSuccess: added.value.isSuccess, ids: added.value.getData(), batches: added.requests },
    callList: { isSuccess: listed.value.isSuccess, rows: listed.value.getData(), requests: listed.requests },
    fetchList: { pages, requests: fetched.requests }
  }
}

const cases = {
  deals () {
    return addAndList(
      'deal',
      fixture.deals,
      (i) => ({ TITLE: `${tag}-${pad(i)}`, ORIGINATOR_ID: tag, OPPORTUNITY: i }),
      ['ID', 'TITLE', 'OPPORTUNITY', 'STAGE_ID']
    )
  },

  companies () {
    return addAndList(
      'company',
      fixture.companies,
      (i) => ({ TITLE: `${tag}-${pad(i)}`, ORIGINATOR_ID: tag, REVENUE: 1000 + i }),
      ['ID', 'TITLE', 'COMPANY_TYPE', 'REVENUE']
    )
  },

  // crm.deal.contact.*: items.set, add (also "already bound"), items.get, the deal's CONTACT_ID.
  async dealBindings () {
    const id = fixture.bindDeal
    const steps = {}
    steps.set = await result('crm.deal.contact.items.set', {
      id,
      items: [{ CONTACT_ID: c2, SORT: 20 }, { CONTACT_ID: c1, SORT: 10, IS_PRIMARY: 'Y' }]
    })
    steps.add = await result('crm.deal.contact.add', { id, fields: { CONTACT_ID: c3, IS_PRIMARY: 'Y' } })
    steps.addAgain = await result('crm.deal.contact.add', { id, fields: { CONTACT_ID: c3 } })
    steps.items = await result('crm.deal.contact.items.get', { id })
    steps.contactId = (await result('crm.deal.get', { id })).CONTACT_ID
    steps.delete = await result('crm.deal.contact.delete', { id, fields: { CONTACT_ID: c3 } })
    steps.after = await result('crm.deal.contact.items.get', { id })
    steps.contactIdAfter = (await result('crm.deal.get', { id })).CONTACT_ID
    return steps
  },

  // crm.company.contact.* and crm.contact.company.*: one relation, read back from both sides.
  async companyBindings () {
    const company = fixture.bindCompany
    const steps = {}
    steps.set = await result('crm.company.contact.items.set', {
      id: company,
      items: [{ CONTACT_ID: c1 }, { CONTACT_ID: c2, IS_PRIMARY: 'Y' }]
    })
    steps.addFromContact = await result('crm.contact.company.add', {
      id: c3,
      fields: { COMPANY_ID: company }
    })
    steps.addOther = await result('crm.contact.company.add', {
      id: c1,
      fields: { COMPANY_ID: fixture.otherCompany, IS_PRIMARY: 'Y' }
    })
    steps.companyItems = await result('crm.company.contact.items.get', { id: company })
    steps.contactItems = await result('crm.contact.company.items.get', { id: c1 })
    steps.contactCompanyId = (await result('crm.contact.get', { id: c1 })).COMPANY_ID
    return steps
  }
}

const output = {}
for (const [name, run] of Object.entries(cases)) {
  try {
    output[name] = await run()
  } catch (error) {
    output[name] = { thrown: { name: error?.name ?? null, code: error?.code ?? null, message: error?.message ?? String(error) } }
  }
}
process.stdout.write(JSON.stringify(output) + '\n')

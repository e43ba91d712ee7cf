<?php
// Sends requests to a live b24local the way the CRest PHP SDK sends them to a portal, and prints one
// JSON object with the decoded answers (tests/clients/test_php_crest.py asserts on it).
//
// Written for this project (no CRest code): every call is a POST of
// http_build_query($params) (application/x-www-form-urlencoded, PHP bracket keys such as
// items[0][CONTACT_ID]=5) to {webhook}{method}.json, and the answer is json_decode()d into an array that
// is returned as is, errors included ({"error": ..., "error_description": ...}). A batch sends
// cmd[key] = method?http_build_query(params) and halt=0 through that same call.
//
// Usage: php crest_like.php <webhook-url> <fixture-json>
//   fixture-json: {"setLead", "addLead", "missingLead", "contacts": [c1, c2], "title"}

declare(strict_types=1);

if ($argc !== 3) {
    fwrite(STDERR, "usage: php crest_like.php <webhook-url> <fixture-json>\n");
    exit(2);
}
$webhook = $argv[1];
$fixture = json_decode($argv[2], true, 512, JSON_THROW_ON_ERROR);
[$c1, $c2] = $fixture['contacts'];

/** HTTP status of the last call (CRest itself ignores it and only looks at the decoded body). */
$lastStatus = 0;
/** Every request sent: method, content type and body, for the test to check the encoding. */
$sent = [];

function crest_call(string $method, array $params = []): array
{
    global $webhook, $lastStatus, $sent;
    $body = http_build_query($params);
    $sent[] = ['method' => $method, 'body' => $body];
    $handle = curl_init();
    curl_setopt_array($handle, [
        CURLOPT_URL => $webhook . $method . '.json',
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_FOLLOWLOCATION => true,
        CURLOPT_TIMEOUT => 30,
        CURLOPT_USERAGENT => 'b24local crest_like.php',
    ]);
    $raw = curl_exec($handle);
    $lastStatus = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
    $contentType = (string) curl_getinfo($handle, CURLINFO_CONTENT_TYPE);
    if ($raw === false) {
        $error = curl_error($handle);
        curl_close($handle);
        return ['error' => 'curl_error', 'error_information' => $error];
    }
    curl_close($handle);
    $decoded = json_decode($raw, true);
    if (!is_array($decoded)) {
        return ['error' => 'not_json', 'error_information' => substr($raw, 0, 200), 'content_type' => $contentType];
    }
    return $decoded;
}

/** cmd[key] = method?http_build_query(params), halt as given, sent through crest_call('batch'). */
function crest_batch(array $commands, int $halt = 0): array
{
    $cmd = [];
    foreach ($commands as $key => $command) {
        $cmd[$key] = $command['method'];
        if (!empty($command['params'])) {
            $cmd[$key] .= '?' . http_build_query($command['params']);
        }
    }
    return crest_call('batch', ['cmd' => $cmd, 'halt' => $halt]);
}

/** The answer without its time object (which varies), plus which time keys it had and the status. */
function summary(array $answer): array
{
    global $lastStatus;
    $out = $answer;
    unset($out['time']);
    $out['status'] = $lastStatus;
    if (isset($answer['time'])) {
        $keys = array_keys($answer['time']);
        sort($keys);
        $out['time_keys'] = $keys;
    }
    return $out;
}

$output = [];

// 1. items.set, then items.get.
$output['itemsSetGet'] = [
    'set' => summary(crest_call('crm.lead.contact.items.set', [
        'id' => $fixture['setLead'],
        'items' => [
            ['CONTACT_ID' => $c2, 'SORT' => 20],
            ['CONTACT_ID' => $c1, 'SORT' => 10, 'IS_PRIMARY' => 'Y'],
        ],
    ])),
    'get' => summary(crest_call('crm.lead.contact.items.get', ['id' => $fixture['setLead']])),
];

// 2. add / delete.
$lead = $fixture['addLead'];
$output['addDelete'] = [
    'addFirst' => summary(crest_call('crm.lead.contact.add', ['id' => $lead, 'fields' => ['CONTACT_ID' => $c1]])),
    'addSecond' => summary(crest_call('crm.lead.contact.add', [
        'id' => $lead,
        'fields' => ['CONTACT_ID' => $c2, 'IS_PRIMARY' => 'Y'],
    ])),
    'addAgain' => summary(crest_call('crm.lead.contact.add', ['id' => $lead, 'fields' => ['CONTACT_ID' => $c2]])),
    'afterAdd' => summary(crest_call('crm.lead.contact.items.get', ['id' => $lead])),
    'delete' => summary(crest_call('crm.lead.contact.delete', ['id' => $lead, 'fields' => ['CONTACT_ID' => $c2]])),
    'deleteAgain' => summary(crest_call('crm.lead.contact.delete', ['id' => $lead, 'fields' => ['CONTACT_ID' => $c2]])),
    'afterDelete' => summary(crest_call('crm.lead.contact.items.get', ['id' => $lead])),
];

// 3. Every page of crm.lead.list, following `next` with `start` as CRest users do.
$pages = [];
$ids = [];
$titles = [];
$start = 0;
do {
    $answer = crest_call('crm.lead.list', [
        'filter' => ['TITLE' => $fixture['title']],
        'select' => ['ID', 'TITLE'],
        'order' => ['ID' => 'ASC'],
        'start' => $start,
    ]);
    $rows = $answer['result'] ?? [];
    $pages[] = [
        'start' => $start,
        'count' => count($rows),
        'total' => $answer['total'] ?? null,
        'next' => $answer['next'] ?? null,
        'error' => $answer['error'] ?? null,
    ];
    foreach ($rows as $row) {
        $ids[] = $row['ID'];
        $titles[$row['TITLE']] = true;
    }
    $start = $answer['next'] ?? null;
} while ($start !== null && count($pages) < 20);
$output['listAll'] = ['pages' => $pages, 'ids' => $ids, 'titles' => array_keys($titles)];

// 4. One batch with $result[...] references, the array form (cmd[0], cmd[1]) and halt=0.
$named = crest_batch([
    'newLead' => ['method' => 'crm.lead.add', 'params' => ['fields' => ['TITLE' => $fixture['title'] . '-batch']]],
    'bind' => ['method' => 'crm.lead.contact.items.set', 'params' => [
        'id' => '$result[newLead]',
        'items' => [['CONTACT_ID' => $c1], ['CONTACT_ID' => $c2]],
    ]],
    'items' => ['method' => 'crm.lead.contact.items.get', 'params' => ['id' => '$result[newLead]']],
    'lead' => ['method' => 'crm.lead.get', 'params' => ['id' => '$result[newLead]']],
]);
$namedSummary = summary($named);
foreach (($namedSummary['result']['result_time'] ?? []) as $key => $time) {
    $namedSummary['result']['result_time'][$key] = is_array($time) ? count($time) : $time;
}
if (isset($namedSummary['result']['result']['lead'])) {
    $leadRow = $namedSummary['result']['result']['lead'];
    $namedSummary['result']['result']['lead'] = [
        'ID' => $leadRow['ID'] ?? null,
        'TITLE' => $leadRow['TITLE'] ?? null,
        'CONTACT_ID' => $leadRow['CONTACT_ID'] ?? null,
    ];
}
$listed = crest_batch([
    ['method' => 'crm.lead.contact.items.get', 'params' => ['id' => $fixture['setLead']]],
    ['method' => 'crm.lead.list', 'params' => [
        'filter' => ['TITLE' => $fixture['title']],
        'select' => ['ID'],
        'order' => ['ID' => 'ASC'],
        'start' => 50,
    ]],
]);
$listedSummary = summary($listed);
if (isset($listedSummary['result']['result'][1])) {
    $listedSummary['result']['result'][1] = array_column($listedSummary['result']['result'][1], 'ID');
}
unset($listedSummary['result']['result_time']);
$output['batch'] = ['named' => $namedSummary, 'array' => $listedSummary];

// 5. Errors: CRest hands back the decoded error array.
$output['errors'] = [
    'leadNotFound' => summary(crest_call('crm.lead.contact.items.get', ['id' => $fixture['missingLead']])),
    'emptyCode' => summary(crest_call('crm.lead.contact.items.get', ['id' => 0])),
    'methodNotFound' => summary(crest_call('no.such.method', [])),
    'inBatch' => summary(crest_batch([
        'good' => ['method' => 'crm.lead.contact.items.get', 'params' => ['id' => $fixture['setLead']]],
        'bad' => ['method' => 'crm.lead.contact.items.get', 'params' => ['id' => $fixture['missingLead']]],
    ])),
];
unset($output['errors']['inBatch']['result']['result_time']);

// What went over the wire for two of the calls (the test checks the PHP bracket encoding).
$output['sent'] = [
    'itemsSet' => $sent[0],
    'batch' => array_values(array_filter($sent, static fn (array $s): bool => $s['method'] === 'batch'))[0],
];

echo json_encode($output, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";

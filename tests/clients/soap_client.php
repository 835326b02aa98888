<?php
// PHP's SoapClient against a Ladon SOAP interface: load the WSDL, call a
// method with a list and a LadonType, receive a fault as a SoapFault, run a
// task to its result. Prints what it got as JSON for tests/clients/test_php.py.
//
// usage: php soap_client.php WSDL_URL (soap|soap11|soap12) (ladon10|python)
//        php soap_client.php load (soap|soap11|soap12) WSDL_URL...
//            (load each WSDL, print {url: number of operations})

if ($argv[1] === 'load') {
    $version = $argv[2] === 'soap12' ? SOAP_1_2 : SOAP_1_1;
    $loaded = [];
    foreach (array_slice($argv, 3) as $url) {
        $c = new SoapClient($url, ['soap_version' => $version, 'cache_wsdl' => WSDL_CACHE_NONE]);
        $loaded[$url] = count($c->__getFunctions());
    }
    echo json_encode($loaded), "\n";
    exit(0);
}

[$_, $wsdl, $iface, $naming] = $argv;
$version = $iface === 'soap12' ? SOAP_1_2 : SOAP_1_1;
$rpc = $iface === 'soap11';
$py = $naming === 'python' || $iface === 'soap12';
$n = fn(string $name): string => $py ? $name : str_replace('_', '-', $name);

function field(object $obj, string $name) {
    foreach ([$name, str_replace('_', '-', $name)] as $key) {
        if (property_exists($obj, $key)) {
            return $obj->{$key};
        }
    }
    throw new Exception("no field $name in " . json_encode($obj));
}

// document/literal wraps arguments in one element and the answer in MResponse
function call(SoapClient $c, string $method, array $args, bool $rpc, bool $flat) {
    if ($rpc) {
        return $c->__soapCall($method, array_values($args));
    }
    $answer = $c->__soapCall($method, [$args]);
    return $flat ? $answer : $answer->result;
}

$c = new SoapClient($wsdl, [
    'soap_version' => $version,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'exceptions' => true,
    'trace' => true,
    'connection_timeout' => 5,
]);
$out = ['functions' => count($c->__getFunctions())];
// soap (1.1 doc/literal) flattens a LadonType result into the response element
$flat = $iface === 'soap';

$summary = call($c, 'summarize', [
    'values' => ['item' => [1.5, -2.0, 4.0]],
    'origin' => ['x' => 0, 'y' => 9],
], $rpc, $flat);
$far = field($summary, 'farthest');
$out['summary'] = [
    'count' => field($summary, 'count'),
    'total' => field($summary, 'total'),
    'all_positive' => field($summary, 'all_positive'),
    'mean' => field($summary, 'mean'),
    'farthest' => [field($far, 'x'), field($far, 'y')],
];
$out['greet'] = call($c, 'greet', [$n('customer_name') => 'Zoë', 'excited' => true], $rpc, false);

try {
    call($c, 'refuse', ['how' => 'client'], $rpc, false);
    $out['fault'] = null;
} catch (SoapFault $f) {
    $out['fault'] = ['code' => $f->faultcode, 'string' => $f->faultstring];
}

$info = call($c, 'count_to', ['limit' => 3], $rpc, $flat);
$task = is_object($info) ? field($info, 'task_id') : $info;
$state = null;
for ($i = 0; $i < 500; $i++) {
    $progress = call($c, 'count_to_progress', [$n('task_id') => $task], $rpc, $flat);
    $state = field($progress, 'state');
    if ($state !== 'pending' && $state !== 'running') {
        break;
    }
    usleep(10000);
}
$result = call($c, 'count_to_result', [$n('task_id') => $task], $rpc, $flat);
$out['task'] = [
    'state' => $state,
    'count' => field($result, 'count'),
    'total' => field($result, 'total'),
];
echo json_encode($out), "\n";

<?php
// PHP's SoapClient sending one array twice: it writes the value once, with
// an id, and refers to it the second time (SOAP 1.1 href="#ref1", SOAP 1.2
// enc:ref). Prints the answer, and whether the request held a reference, as
// JSON for tests/clients/test_php.py.
//
// usage: php soap_references.php WSDL_URL (soap|soap11|soap12)

[$_, $wsdl, $iface] = $argv;
$c = new SoapClient($wsdl, [
    'soap_version' => $iface === 'soap12' ? SOAP_1_2 : SOAP_1_1,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'exceptions' => true,
    'trace' => true,
    'connection_timeout' => 5,
]);
// the same entry twice: its value (a struct) is written once, then referred to
$tea = ['name' => 'tea', 'value' => ['amount' => 2.5, 'currency' => 'EUR']];
$entries = ['item' => [$tea, $tea, ['name' => 'cake', 'value' => ['amount' => 4, 'currency' => 'USD']]]];
$tags = ['item' => ['x', 'y']];
try {
    if ($iface === 'soap11') {
        $answer = $c->__soapCall('balance', [$entries, $tags]);
    } else {
        $answer = $c->__soapCall('balance', [['entries' => $entries, 'tags' => $tags]])->result;
    }
    $fault = null;
} catch (SoapFault $f) {
    $answer = null;
    $fault = $f->faultstring;
}
$sent = $c->__getLastRequest();
echo json_encode([
    'answer' => $answer,
    'fault' => $fault,
    'referred' => (bool) preg_match('/ (href|enc:ref)="#?ref\d+"/', $sent),
]), "\n";

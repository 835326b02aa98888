// Node.js's `soap` package against a Ladon SOAP interface: load the WSDL,
// call a method with a list and a LadonType, receive a fault as the
// client's fault, run a task to its result. Prints what it got as JSON for
// tests/clients/test_node.py.
//
// usage: node soap_client.js WSDL_URL (soap|soap11|soap12) (ladon10|python)
//        node soap_client.js load (soap|soap11|soap12) WSDL_URL...
//            (load each WSDL, print {url: number of operations})

"use strict";
const soap = require("soap");

const [wsdl, iface, naming] = process.argv.slice(2);

const py = naming === "python" || iface === "soap12";
const n = (name) => (py ? name : name.replace(/_/g, "-"));
// soap (1.1 doc/literal) flattens a LadonType result into the response element
const flat = iface === "soap";

// rpc/encoded values carry xsi:type: the package then gives
// {attributes: {"xsi:type": ...}, $value: <the typed value>}
function value(v) {
  return v !== null && typeof v === "object" && "$value" in v ? v.$value : v;
}

function field(obj, name) {
  for (const key of [name, name.replace(/_/g, "-")]) {
    if (obj !== null && typeof obj === "object" && key in obj) return value(obj[key]);
  }
  throw new Error(`no field ${name} in ${JSON.stringify(obj)}`);
}

async function call(client, method, args, unwrap = true) {
  const [answer] = await client[`${method}Async`](args);
  return flat || !unwrap ? answer : answer.result;
}

async function main() {
  const client = await soap.createClientAsync(wsdl, {
    forceSoap12Headers: iface === "soap12",
    disableCache: true,
  });
  const ports = Object.values(client.describe())[0];
  const out = { functions: Object.keys(Object.values(ports)[0]).length };

  const summary = await call(client, "summarize", {
    values: { item: [1.5, -2.0, 4.0] },
    origin: { x: 0, y: 9 },
  });
  const far = field(summary, "farthest");
  out.summary = {
    count: field(summary, "count"),
    total: field(summary, "total"),
    all_positive: field(summary, "all_positive"),
    mean: field(summary, "mean"),
    farthest: [field(far, "x"), field(far, "y")],
  };
  const greeting = await call(client, "greet", { [n("customer_name")]: "Zoë", excited: true }, false);
  out.greet = value(greeting.result);

  try {
    await call(client, "refuse", { how: "client" });
    out.fault = null;
  } catch (err) {
    const body = err.root && err.root.Envelope && err.root.Envelope.Body;
    const fault = body && body.Fault;
    out.fault = {
      message: err.message,
      status: err.response ? err.response.status : null,
      code: fault ? (fault.faultcode || (fault.Code && fault.Code.Value)) : null,
      string: fault ? (fault.faultstring || (fault.Reason && fault.Reason.Text)) : null,
    };
    if (out.fault.string && typeof out.fault.string === "object") {
      out.fault.string = out.fault.string.$value;
    }
  }

  const info = await call(client, "count_to", { limit: 3 });
  const task = typeof value(info) === "object" ? field(info, "task_id") : value(info);
  let state = null;
  for (let i = 0; i < 500; i++) {
    const progress = await call(client, "count_to_progress", { [n("task_id")]: task });
    state = field(progress, "state");
    if (state !== "pending" && state !== "running") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const result = await call(client, "count_to_result", { [n("task_id")]: task });
  out.task = { state, count: field(result, "count"), total: field(result, "total") };
  process.stdout.write(JSON.stringify(out) + "\n");
}

async function load(urls) {
  const loaded = {};
  for (const url of urls) {
    const client = await soap.createClientAsync(url, { disableCache: true });
    const ports = Object.values(client.describe())[0];
    loaded[url] = Object.keys(Object.values(ports)[0]).length;
  }
  process.stdout.write(JSON.stringify(loaded) + "\n");
}

(process.argv[2] === "load" ? load(process.argv.slice(4)) : main()).catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});

// The simulator's dashboard: reads and drives the control API with the
// session cookie set at sign-in. Every value shown comes from merchants'
// requests, so the page only ever sets textContent, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);
// "/ns/{name}" on a namespace's dashboard, "" on the root's: every call of
// the control API goes under it.
const PREFIX = window.location.pathname.replace(/\/_sim\/ui.*$/, "");
let selected = null; // {gateway, public_id, order_id} or {gateway: "hub2", kind, id}
let resetArmed = null;
let shownAttempt = null; // the attempt whose body is shown, once clicked

function say(text, isError) {
  const message = $("message");
  message.textContent = text;
  message.style.color = isError ? "#b3261e" : "";
}

async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") {
    // The control API asks cookie-authenticated changes for this header.
    init.headers["X-Paygate-UI"] = "1";
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(PREFIX + path, init);
  if (response.status === 401) {
    window.location.assign(PREFIX + "/_sim/ui/login");
    throw new Error("signed out");
  }
  const text = await response.text();
  let value = null;
  try { value = text ? JSON.parse(text) : null; } catch (_) { value = { message: text }; }
  if (!response.ok) {
    const why = (value && (value.message || value.error)) || response.statusText;
    throw new Error(`${method} ${path}: HTTP ${response.status}: ${why}`);
  }
  return value;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function header(names) {
  const tr = $("columns");
  tr.replaceChildren();
  for (const name of names) {
    const th = document.createElement("th");
    th.textContent = name;
    tr.appendChild(th);
  }
}

async function refreshList() {
  const gateway = $("gateway").value;
  const merchant = $("filter-merchant").value.trim();
  const status = $("filter-status").value.trim();
  const provider = $("filter-provider").value.trim();
  const body = $("transactions").tBodies[0];
  if (gateway === "gateway") {
    const query = new URLSearchParams();
    if (merchant) query.set("public_id", merchant);
    if (status) query.set("status", status);
    if (provider) query.set("provider_id", provider);
    const list = await api("GET", `/_sim/transactions?${query}`);
    header(["serial", "merchant", "order", "operation", "status", "provider", "amount", "created"]);
    const rows = list.transactions.map((tx) => {
      const tr = document.createElement("tr");
      tr.dataset.publicId = tx.public_id;
      tr.dataset.orderId = tx.order_id;
      tr.className = "tx";
      for (const value of [tx.serial, tx.public_id, tx.order_id, tx.operation]) cell(tr, value);
      cell(tr, tx.status, `status s${tx.status}`);
      for (const value of [tx.provider_id, tx.amount, tx.created]) cell(tr, value);
      tr.addEventListener("click", () => open({ gateway, public_id: tx.public_id, order_id: tx.order_id }));
      if (selected && selected.order_id === tx.order_id && selected.public_id === tx.public_id) tr.classList.add("selected");
      return tr;
    });
    body.replaceChildren(...rows);
    $("count").textContent = `${rows.length} shown of ${list.total} stored`;
  } else {
    const query = new URLSearchParams();
    if (status) query.set("status", status);
    const list = await api("GET", `/hub2/_sim/transactions?${query}`);
    header(["kind", "id", "merchant", "status", "amount", "currency", "created"]);
    const rows = list.transactions
      .filter((o) => !merchant || o.merchantId === merchant)
      .map((o) => {
        const tr = document.createElement("tr");
        tr.dataset.id = o.id;
        tr.className = "tx";
        for (const value of [o.kind, o.id, o.merchantId]) cell(tr, value);
        cell(tr, o.status, `status s${o.status}`);
        for (const value of [o.amount, o.currency, o.createdAt]) cell(tr, value);
        tr.addEventListener("click", () => open({ gateway, kind: o.kind, id: o.id, object: o }));
        if (selected && selected.id === o.id) tr.classList.add("selected");
        return tr;
      });
    body.replaceChildren(...rows);
    $("count").textContent = `${rows.length} shown`;
  }
}

function summary(pairs) {
  const dl = $("summary");
  dl.replaceChildren();
  for (const [name, value] of pairs) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    dl.append(dt, dd);
  }
}

function action(label, id, run) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.id = id;
  button.addEventListener("click", async () => {
    try {
      await run();
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  });
  $("actions").appendChild(button);
}

async function open(what) {
  selected = what;
  shownAttempt = null;
  for (const tr of document.querySelectorAll("#transactions tr.selected")) tr.classList.remove("selected");
  await refreshTimeline();
  await refreshList();
}

async function refreshTimeline() {
  if (!selected) return;
  $("timeline").hidden = false;
  $("actions").replaceChildren();
  if (selected.gateway === "gateway") {
    await gatewayTimeline(selected);
  } else {
    await hub2Timeline(selected);
  }
}

async function gatewayTimeline({ public_id, order_id }) {
  const base = `/_sim/transactions/${encodeURIComponent(public_id)}/${encodeURIComponent(order_id)}`;
  const tx = await api("GET", base);
  $("timeline-title").textContent = `Order ${order_id}`;
  summary([
    ["merchant", tx.public_id],
    ["operation", tx.operation],
    ["status", tx.status],
    ["transaction id", tx.transaction_id],
    ["reference", tx.transaction_ref],
    ["provider result", tx.provider_result],
    ["awaiting", tx.awaiting],
    ["callback URL", tx.callback_url],
  ]);
  const history = tx.history.map((h) => {
    const li = document.createElement("li");
    li.textContent = `${h.at}  status ${h.status}: ${h.note}`;
    return li;
  });
  $("history").replaceChildren(...history);
  const final = [2, 3, 4, 5].includes(tx.status);
  if (!final) {
    for (const [label, status] of [["Force success (2)", 2], ["Force failure (3)", 3], ["Force cancel (4)", 4]]) {
      action(label, `force-${status}`, async () => {
        await api("POST", `${base}/outcome`, { status });
        say(`order ${order_id}: status ${status} forced`);
      });
    }
  } else {
    action("Resend callback", "resend", async () => {
      const answer = await api("POST", `${base}/callback`);
      say(`order ${order_id}: callback sent again to ${answer.url}`);
    });
  }
  const list = (await api("GET", `/_sim/callbacks?order_id=${encodeURIComponent(order_id)}`)).callbacks
    .filter((a) => a.public_id === public_id);
  const showBody = (a) => {
    $("callback-body").textContent = a.body === null || a.body === undefined
      ? `attempt ${a.attempt}: body no longer kept (only the most recent attempts keep theirs)`
      : `attempt ${a.attempt}: POST ${a.url}\n\n${a.body}`;
  };
  const attempts = list.map((a) => {
    const tr = document.createElement("tr");
    tr.className = "attempt";
    cell(tr, a.attempt);
    cell(tr, a.at);
    cell(tr, a.status, `status s${a.status}`);
    cell(tr, a.http_status);
    cell(tr, a.latency_ms === null || a.latency_ms === undefined ? "" : `${a.latency_ms} ms`);
    cell(tr, a.delivered ? "yes" : "no");
    cell(tr, a.next_attempt_at);
    cell(tr, a.error);
    tr.addEventListener("click", () => { shownAttempt = a.attempt; showBody(a); });
    return tr;
  });
  $("attempts").tBodies[0].replaceChildren(...attempts);
  if (list.length > 0) {
    showBody(list.find((a) => a.attempt === shownAttempt) || list[list.length - 1]);
  } else {
    $("callback-body").textContent = final
      ? "(no callback attempt recorded)"
      : "(sent when the transaction becomes final)";
  }
}

async function hub2Timeline({ kind, id }) {
  const list = await api("GET", "/hub2/_sim/transactions?limit=1000");
  const object = list.transactions.find((o) => o.id === id);
  if (!object) throw new Error(`${kind} ${id} is gone (reset?)`);
  $("timeline-title").textContent = `${kind === "transfer" ? "Transfer" : "Payment intent"} ${id}`;
  summary([
    ["merchant", object.merchantId],
    ["status", object.status],
    ["amount", `${object.amount} ${object.currency}`],
    ["created", object.createdAt],
    ["updated", object.updatedAt],
  ]);
  $("history").replaceChildren();
  const open = !["successful", "failed"].includes(object.status);
  if (open) {
    const path = kind === "transfer" ? "transfers" : "payment-intents";
    for (const status of ["successful", "failed"]) {
      action(`Force ${status}`, `force-${status}`, async () => {
        await api("POST", `/hub2/_sim/${path}/${encodeURIComponent(id)}/outcome`, { status });
        say(`${id}: ${status} forced`);
      });
    }
  }
  const deliveries = (await api("GET", `/hub2/_sim/webhook-deliveries?object_id=${encodeURIComponent(id)}`)).deliveries
    .map((d) => {
      const tr = document.createElement("tr");
      tr.className = "attempt";
      cell(tr, d.attempt);
      cell(tr, d.at);
      cell(tr, `${d.event_type} (${d.status})`);
      cell(tr, d.http_status);
      cell(tr, "");
      cell(tr, d.delivered ? "yes" : "no");
      cell(tr, "");
      cell(tr, d.error);
      return tr;
    });
  $("attempts").tBodies[0].replaceChildren(...deliveries);
  $("callback-body").textContent = JSON.stringify(object, null, 2);
}

async function refreshClock() {
  const clock = await api("GET", "/_sim/clock");
  $("clock").textContent = `${clock.mode} clock: ${clock.now}`;
  $("advance-form").hidden = clock.mode !== "manual";
}

async function refresh() {
  try {
    await Promise.all([refreshList(), refreshTimeline(), refreshClock()]);
  } catch (err) {
    say(err.message, true);
  }
}

function start() {
  for (const id of ["gateway", "filter-merchant", "filter-status", "filter-provider"]) {
    $(id).addEventListener("change", refresh);
    $(id).addEventListener("input", refresh);
  }
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  $("advance-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const seconds = Number($("advance-seconds").value);
      const answer = await api("POST", "/_sim/clock/advance", { seconds });
      say(`clock advanced ${seconds} s to ${answer.now}`);
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  });
  $("reset").addEventListener("click", async () => {
    // Two clicks within five seconds: a reset forgets every transaction.
    if (!resetArmed) {
      $("reset").textContent = "Click again to reset everything";
      resetArmed = setTimeout(() => { resetArmed = null; $("reset").textContent = "Reset"; }, 5000);
      return;
    }
    clearTimeout(resetArmed);
    resetArmed = null;
    $("reset").textContent = "Reset";
    try {
      await api("POST", "/_sim/reset");
      await api("POST", "/hub2/_sim/reset");
      selected = null;
      $("timeline").hidden = true;
      say("simulator reset");
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  });
  refresh();
  setInterval(() => { if ($("live").checked) refresh(); }, 1000);
}

document.addEventListener("DOMContentLoaded", start);

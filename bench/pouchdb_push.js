// The PouchDB side of bench_pouchdb_compare.py: replicate documents from a local PouchDB to pouchdb-server.
// Run by the bench with NODE_PATH at its own npm install (pouchdb, pouchdb-adapter-memory). One round per line
// on stdin: {"remote": "http://127.0.0.1:PORT/db-name", "docs": "/path/docs.json", "batch_size": 100}; one
// JSON line per round on stdout: {"ms": replication time, "docs_written": n, "errors": n}.
"use strict";

const readline = require("node:readline");
const fs = require("node:fs");
const PouchDB = require("pouchdb");
PouchDB.plugin(require("pouchdb-adapter-memory"));

let round = 0;

async function run(line) {
  const job = JSON.parse(line);
  const docs = JSON.parse(fs.readFileSync(job.docs, "utf8"));
  round += 1;
  // The phone's copy: the documents already saved locally (not timed), as the outbox holds its entries.
  const local = new PouchDB(`local-${process.pid}-${round}`, {adapter: "memory"});
  await local.bulkDocs(docs);
  const remote = new PouchDB(job.remote);
  await remote.info(); // creates the database on the server (not timed)
  const t0 = process.hrtime.bigint();
  const result = await local.replicate.to(remote, {batch_size: job.batch_size, batches_limit: 1});
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const info = await remote.info();
  await local.destroy();
  await remote.destroy();
  return {ms, docs_written: result.docs_written, errors: result.errors.length, remote_docs: info.doc_count};
}

const rl = readline.createInterface({input: process.stdin});
let chain = Promise.resolve();
rl.on("line", (line) => {
  chain = chain.then(() => run(line)).then(
    (out) => process.stdout.write(JSON.stringify(out) + "\n"),
    (err) => process.stdout.write(JSON.stringify({error: String(err && err.stack || err)}) + "\n"),
  );
});
